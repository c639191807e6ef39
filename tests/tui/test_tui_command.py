"""``ledgerx`` with no command builds the app from the arguments (sources, profiles, RO)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.app import LedgerxApp
from tui.cli.main import main


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[LedgerxApp]:
    """Capture the app ``run_tui`` would run, instead of taking over the terminal."""
    apps: list[LedgerxApp] = []
    monkeypatch.setattr(LedgerxApp, "run", lambda self, *a, **kw: apps.append(self))
    return apps


def test_sources_profiles_and_stale_after_come_from_the_arguments(tui_dir, opened) -> None:
    code = main(["--ledger-dir", "ledgers", "--profiles", "profiles.toml", "--stale-after", "5"])
    assert code == 0
    (app,) = opened
    assert app.sources.dirs == (Path.cwd() / "ledgers",)  # absolute: plans name it anywhere
    assert set(app.profiles.profiles) == {"sandbox", "production"}
    assert app.stale_after == 300.0
    assert not app.readonly


def test_readonly_flag_or_profiles_defaults_turn_on_the_badge(tui_dir, opened) -> None:
    main(["--readonly", "--ledger-dir", "ledgers", "--profiles", "profiles.toml"])
    (tui_dir / "ro.toml").write_text("[defaults]\nreadonly = true\n")
    main(["--ledger-dir", "ledgers", "--profiles", "ro.toml"])
    assert [app.readonly for app in opened] == [True, True]


def test_a_bad_profiles_file_opens_the_tui_with_its_error(tui_dir, opened, capsys) -> None:
    # Browsing never needs the profiles file: the app opens, says why the file cannot be used
    # (on mount), and every rollback is refused with that error until it is fixed.
    (tui_dir / "bad.toml").write_text("[profiles.x\n")
    assert main(["--ledger-dir", "ledgers", "--profiles", "bad.toml"]) == 0
    (app,) = opened
    assert app.profiles_error is not None and "not valid TOML" in app.profiles_error
    assert "bad.toml" in app.profiles_error
    assert main(["--ledger-dir", "ledgers", "--profiles", "missing.toml"]) == 0
    assert "profiles file not found" in (opened[1].profiles_error or "")
    assert "Traceback" not in capsys.readouterr().err
