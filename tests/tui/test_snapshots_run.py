"""Snapshots of the run screen: crashed, partial, 80×24, hostile text, rollback attempts.

Deterministic: the fixed clock of ``run_ledgers``, fixed-time ledgers in the relative directory
``runledgers`` (the header names only the file), no polling. Review the SVGs before accepting.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import run_ledgers as rl
from textual.pilot import Pilot

from ledger_core.ledgers.sources import Sources
from tui.app import LedgerxApp
from tui.screens.run_screen import RunScreen

RUN_DIR = "runledgers"


@pytest.fixture
def run_app(make_app, tui_dir: Path):
    directory = tui_dir / RUN_DIR
    directory.mkdir()
    for build in (rl.crashed_run, rl.partial_run, rl.hostile_run, rl.rolled_back_run):
        build(directory)

    def factory() -> LedgerxApp:
        return make_app(sources=Sources((Path(RUN_DIR),)), now=lambda: rl.NOW)

    return factory


def _open(needle: str, *keys: str):
    """A ``run_before``: wait for the scan, open the run matching ``needle``, press ``keys``."""

    async def run_before(pilot: Pilot) -> None:
        app = pilot.app
        assert isinstance(app, LedgerxApp)
        deadline = time.monotonic() + 20
        while not app.scan_done:
            assert time.monotonic() < deadline
            await pilot.pause(0.02)
        await pilot.press("slash", *needle, "enter", "enter")
        while not (isinstance(app.screen, RunScreen) and app.screen.detail is not None):
            assert time.monotonic() < deadline
            await pilot.pause(0.02)
        if keys:
            await pilot.press(*keys)
        await pilot.pause()

    return run_before


class TestRunScreenSnapshots:
    def test_crashed_run_in_doubt_step_120x36(self, snap_compare, run_app) -> None:
        assert snap_compare(run_app(), terminal_size=(120, 36), run_before=_open("crash7", "G"))

    def test_partial_run_stale_stamp_120x36(self, snap_compare, run_app) -> None:
        before = _open("030500", "j")
        assert snap_compare(run_app(), terminal_size=(120, 36), run_before=before)

    def test_crashed_run_80x24(self, snap_compare, run_app) -> None:
        assert snap_compare(run_app(), terminal_size=(80, 24), run_before=_open("crash7", "j"))

    def test_crashed_run_80x24_detail_shown(self, snap_compare, run_app) -> None:
        before = _open("crash7", "G", "d")
        assert snap_compare(run_app(), terminal_size=(80, 24), run_before=before)

    def test_hostile_text_literal(self, snap_compare, run_app) -> None:
        assert snap_compare(run_app(), terminal_size=(120, 36), run_before=_open("hostile"))

    def test_rollback_attempts(self, snap_compare, run_app) -> None:
        before = _open("rbk", "j", "j")
        assert snap_compare(run_app(), terminal_size=(120, 36), run_before=before)
