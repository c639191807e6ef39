"""Shared TUI fixtures: the fixed-time ledger directory, profiles, and an app factory."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from fixtures import FIXED_NOW, LEDGER_DIR, build_ledgers, write_profiles  # noqa: E402

from ledger_core.ledgers.sources import Sources  # noqa: E402
from ledger_core.rollback.profiles import load_profiles  # noqa: E402
from tui.app import LedgerxApp  # noqa: E402


@pytest.fixture(autouse=True)
def fixed_zone(monkeypatch: pytest.MonkeyPatch):
    """Times on screen are local: pin the zone to UTC so snapshots do not depend on the
    machine (tests of local time set their own ``TZ`` through ``local_zone``)."""
    yield from _zone(monkeypatch, "UTC")


@pytest.fixture
def local_zone(monkeypatch: pytest.MonkeyPatch):
    """Returns a function that switches the process's local zone (``TZ`` + ``tzset``)."""

    def switch(name: str) -> None:
        monkeypatch.setenv("TZ", name)
        time.tzset()

    return switch


def _zone(monkeypatch: pytest.MonkeyPatch, name: str):
    monkeypatch.setenv("TZ", name)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def tui_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory holding ``ledgers/`` (the fixture runs) and ``profiles.toml``.

    The test runs inside it, so sources are the relative path ``ledgers``: snapshots never
    show a tmp directory.
    """
    monkeypatch.chdir(tmp_path)
    # The summary cache lives outside the ledgers; keep the tests' cache out of $HOME.
    monkeypatch.setenv("LEDGERX_CACHE_DIR", str(tmp_path / "cache"))
    build_ledgers(tmp_path / LEDGER_DIR)
    write_profiles(tmp_path / "profiles.toml")
    return tmp_path


@pytest.fixture
def make_app(tui_dir: Path) -> Callable[..., LedgerxApp]:
    """Build a ``LedgerxApp`` on the fixture directory with a fixed clock; keywords override."""

    def factory(**kw: object) -> LedgerxApp:
        options: dict[str, object] = {
            "now": lambda: FIXED_NOW,
            "poll_interval": 0,
            # First-time hints change every runs-list picture; their own tests turn them on.
            "hints": False,
        }
        options.update(kw)
        sources = options.pop("sources", Sources((Path(LEDGER_DIR),)))
        profiles = options.pop("profiles", load_profiles(Path("profiles.toml")))
        return LedgerxApp(sources, profiles, **options)  # type: ignore[arg-type]

    return factory
