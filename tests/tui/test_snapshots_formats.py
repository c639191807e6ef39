"""Snapshots of other tools' ledgers: the runs list with format badges, a crashed cr run with
its in-doubt action and its (refused) rollback preview, an event-ledger run cut short. Fixed
clock, fixed-time files."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from format_factories import make_cr, make_events
from textual.pilot import Pilot

from ledger_core.ledgers.sources import Sources
from tui.app import LedgerxApp
from tui.screens.rollback_screen import RollbackScreen
from tui.screens.run_screen import RunScreen

NOW = 1_779_012_000.0  # 2026-05-17T10:00:00Z
DIR = "otherledgers"


@pytest.fixture
def formats_app(make_app, tui_dir: Path):
    directory = tui_dir / DIR
    directory.mkdir()
    make_cr(
        directory / "review.db",
        [
            {"run_id": "cr-crashed-1", "started_at": "2026-05-17T08:00:00Z",
             "heartbeat_at": "2026-05-17T08:00:02Z"},
            {"run_id": "cr-approved-2", "started_at": "2026-05-17T07:00:00Z",
             "outcome": "approved", "completed_at": "2026-05-17T07:00:09.5Z"},
        ],
        [
            {"action_id": "act-1", "run_id": "cr-crashed-1", "status": "posted",
             "attempted_at": "2026-05-17T08:00:00.1Z",
             "posted_at": "2026-05-17T08:00:00.512345678Z",
             "upstream_id": "PRRC_42", "attempts": 1},
            {"action_id": "act-2", "run_id": "cr-crashed-1", "status": "pending",
             "attempted_at": "2026-05-17T08:00:01Z", "attempts": 1, "thread_id": "PRRT_7",
             "kind": "thread_reply"},
            {"action_id": "act-3", "run_id": "cr-crashed-1", "status": "pending",
             "kind": "submit_review"},
        ],
    )  # fmt: skip
    make_events(
        directory / "events.db",
        [
            {"run_id": "neg-41", "kind": "run.started", "created_at": "2026-05-17T09:00:00+00:00"},
            {"run_id": "neg-41", "kind": "agent.thought", "actor": "buyer",
             "created_at": "2026-05-17T09:00:03+00:00"},
        ],
    )  # fmt: skip

    def factory() -> LedgerxApp:
        return make_app(sources=Sources((Path(DIR),)), now=lambda: NOW)

    return factory


async def _scanned(pilot: Pilot) -> None:
    app = pilot.app
    deadline = time.monotonic() + 20
    while not app.scan_done:
        assert time.monotonic() < deadline
        await pilot.pause(0.02)
    await pilot.pause()


def _open(needle: str, *keys: str):
    async def run_before(pilot: Pilot) -> None:
        await _scanned(pilot)
        app = pilot.app
        deadline = time.monotonic() + 20
        await pilot.press("slash", *needle, "enter", "enter")
        while not (isinstance(app.screen, RunScreen) and app.screen.detail is not None):
            assert time.monotonic() < deadline
            await pilot.pause(0.02)
        if keys:
            await pilot.press(*keys)
        await pilot.pause()

    return run_before


async def _rollback_preview(pilot: Pilot) -> None:
    await _open("cr-crashed")(pilot)
    app = pilot.app
    await pilot.press("r")
    deadline = time.monotonic() + 20
    while not (isinstance(app.screen, RollbackScreen) and app.screen.plan is not None):
        assert time.monotonic() < deadline
        await pilot.pause(0.02)
    await pilot.pause()


class TestOtherFormatsSnapshots:
    def test_runs_list_with_format_badges(self, snap_compare, formats_app) -> None:
        assert snap_compare(formats_app(), terminal_size=(120, 36), run_before=_scanned)

    def test_crashed_cr_run_in_doubt_action(self, snap_compare, formats_app) -> None:
        before = _open("cr-crashed", "j")
        assert snap_compare(formats_app(), terminal_size=(120, 36), run_before=before)

    def test_crashed_cr_run_rollback_preview(self, snap_compare, formats_app) -> None:
        # No rollback for the format: its steps, the one in doubt first to check, and why.
        assert snap_compare(formats_app(), terminal_size=(120, 36), run_before=_rollback_preview)

    def test_event_ledger_run_cut_short(self, snap_compare, formats_app) -> None:
        assert snap_compare(formats_app(), terminal_size=(120, 36), run_before=_open("neg-41"))
