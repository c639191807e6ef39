"""Snapshots of the resolution dialog (``v``) and the export dialog (``e``) on the run screen,
and the run screen once a step is resolved. Review the SVGs before accepting."""

from __future__ import annotations

from pathlib import Path

import pytest
import run_ledgers as rl
from test_snapshots_run import _open

from ledger_core.ledgers.reader import read_run
from ledger_core.ledgers.sources import Sources
from ledger_core.triage.resolutions import record
from tui.app import LedgerxApp

RUN_DIR = "runledgers"


@pytest.fixture
def run_app(make_app, tui_dir: Path, monkeypatch: pytest.MonkeyPatch):
    directory = tui_dir / RUN_DIR
    directory.mkdir()
    rl.crashed_run(directory)
    monkeypatch.setenv("LEDGERX_USER", "ada")
    monkeypatch.setenv("LEDGERX_STATE_DIR", str(tui_dir / "state"))
    # A fixed absolute folder that does not exist: the dialog's default path is the same in
    # every run, and nothing is written there (the dialog is only shown).
    monkeypatch.setenv("XDG_DATA_HOME", "/nonexistent-ledgerx-snapshots")

    def factory() -> LedgerxApp:
        return make_app(sources=Sources((Path(RUN_DIR),)), now=lambda: rl.NOW)

    return factory


class TestResolutionSnapshots:
    def test_resolve_dialog_120x36(self, snap_compare, run_app) -> None:
        assert snap_compare(
            run_app(), terminal_size=(120, 36), run_before=_open("crash7", "G", "v")
        )

    def test_resolve_dialog_80x24(self, snap_compare, run_app) -> None:
        assert snap_compare(run_app(), terminal_size=(80, 24), run_before=_open("crash7", "G", "v"))

    def test_resolve_dialog_landed_chosen_80x24(self, snap_compare, run_app) -> None:
        # The URL box appears: the dialog still fits (or scrolls) at 80x24.
        before = _open("crash7", "G", "v", "shift+tab", "shift+tab", "shift+tab", "shift+tab")
        assert snap_compare(run_app(), terminal_size=(80, 24), run_before=before, press=["enter"])

    def test_export_dialog_120x36(self, snap_compare, run_app) -> None:
        assert snap_compare(run_app(), terminal_size=(120, 36), run_before=_open("crash7", "e"))

    def test_export_dialog_80x24(self, snap_compare, run_app) -> None:
        assert snap_compare(run_app(), terminal_size=(80, 24), run_before=_open("crash7", "e"))

    def test_resolved_step_120x36(self, snap_compare, run_app, tui_dir) -> None:
        app = run_app()
        path = tui_dir / RUN_DIR / "crashed-0517.db"
        detail = read_run(path, "20260517-031000-crash7")
        record(detail, 7, "not_landed", note="no SO with corr-0007 in BC", at=rl._ts(30, 0))
        assert snap_compare(app, terminal_size=(120, 36), run_before=_open("crash7", "G"))
