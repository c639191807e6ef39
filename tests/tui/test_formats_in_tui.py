"""Other tools' ledgers in the TUI, driven by keys: the format badge, search by format, the
run header and step detail in the format's own words, and a rollback refused for the format."""

from __future__ import annotations

import io
import time
from pathlib import Path

from format_factories import make_cr, make_events
from rich.console import Console

from ledger_core.ledgers.sources import Sources
from tui.screens.refusal_screen import RefusalScreen
from tui.screens.rollback_screen import RollbackScreen
from tui.screens.run_screen import RunScreen
from tui.screens.runs_screen import RunsScreen
from tui.widgets.run_header import RunHeader
from tui.widgets.step_detail import StepDetail
from tui.widgets.virtual_table import VirtualTable

NOW = 1_779_012_000.0  # 2026-05-17T10:00:00Z


def _plain(renderable) -> str:
    console = Console(width=10_000, file=io.StringIO(), color_system=None, record=True)
    console.print(renderable)
    return console.export_text()


async def _until(pilot, condition, what: str) -> None:
    deadline = time.monotonic() + 20
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.02)


def _ledgers(directory: Path) -> None:
    directory.mkdir()
    make_cr(
        directory / "review.db",
        [{"run_id": "cr-crashed-1", "heartbeat_at": "2026-05-17T08:00:00Z"}],
        [
            {"action_id": "act-1", "run_id": "cr-crashed-1", "status": "posted",
             "attempted_at": "2026-05-17T08:00:00.1Z", "posted_at": "2026-05-17T08:00:00.5Z",
             "upstream_id": "PRRC_42"},
            {"action_id": "act-2", "run_id": "cr-crashed-1", "status": "pending",
             "attempted_at": "2026-05-17T08:00:01Z"},
        ],
    )  # fmt: skip
    make_events(directory / "events.db", [{"run_id": "ev-run-9", "kind": "run.started"}])


async def test_other_formats_in_the_list_run_screen_and_rollback(make_app, tui_dir):
    _ledgers(tui_dir / "other")
    app = make_app(sources=Sources((Path("other"),)), now=lambda: NOW)
    async with app.run_test(size=(120, 36)) as pilot:
        await _until(pilot, lambda: app.scan_done, "the first scan")
        runs = app.screen
        assert isinstance(runs, RunsScreen)
        table = runs.query_one(VirtualTable)
        assert {r.format for r in table.rows} == {"cr", "event-ledger"}
        await pilot.press("slash", *"event-ledger", "enter")
        await pilot.pause()
        assert [r.run_id for r in table.rows] == ["ev-run-9"]  # search finds the format
        # Quiet for an hour: an event log cannot tell stopped from slow, so not "running".
        assert table.rows[0].verdict == "stale"
        assert "stale" in _plain(runs.query_one("#runs-diagnosis").render())
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("slash", *"cr-crashed", "enter", "enter")
        await _until(pilot, lambda: isinstance(app.screen, RunScreen), "the run screen")
        screen = app.screen
        await _until(pilot, lambda: screen.detail is not None, "the run to load")
        await pilot.pause()
        header = _plain(screen.query_one("#run-header", RunHeader).shown)
        assert "format cr" in header and "pr https://github.com/o/r/pull/7" in header
        assert "IN DOUBT" in _plain(screen.query_one("#run-detail", StepDetail).shown)
        await pilot.press("g")  # it opened on the action in doubt; the first one first
        await pilot.pause()
        detail = _plain(screen.query_one("#run-detail", StepDetail).shown)
        assert "upstream_id" in detail and "PRRC_42" in detail and "inline_comment" in detail
        assert "none for this format" in detail
        await pilot.press("j")
        await pilot.pause()
        detail = " ".join(_plain(screen.query_one("#run-detail", StepDetail).shown).split())
        assert "IN DOUBT" in detail and "act-2" in detail
        await pilot.press("r")
        await _until(pilot, lambda: isinstance(app.screen, RollbackScreen), "the preview")
        preview = app.screen
        await _until(pilot, lambda: getattr(preview, "plan", None) is not None, "the plan")
        assert preview.plan.refusal_code == "no_rollback_for_format"
        await pilot.pause()
        # The format is the reason, not a profile's write setting; the action in doubt shows.
        profile_line = _plain(preview.query_one("#rollback-profile").render())
        assert "no rollback for this format" in profile_line and "DISABLED" not in profile_line
        assert len(preview.plan.in_doubt) == 1
        await pilot.press("enter")
        await _until(pilot, lambda: isinstance(app.screen, RefusalScreen), "the refusal")
        reason = str(app.screen.query_one("#reason").render())
        assert "no rollback for this format" in reason
