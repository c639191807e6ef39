"""The run screen, driven by the keyboard from the app: open, follow the cursor, back, refresh.

Ledgers are real SQLite files (``run_ledgers``) in a relative directory of the test's working
directory; the app runs with the fixtures' fixed clock.
"""

from __future__ import annotations

import io
import sqlite3
import time
from pathlib import Path

import pytest
import run_ledgers as rl
from rich.console import Console, RenderableType
from textual.pilot import Pilot

from ledger_core.ledgers.sources import Sources
from tui.app import LedgerxApp
from tui.screens.run_screen import RunScreen
from tui.screens.runs_screen import RunsScreen
from tui.widgets.run_header import RunHeader
from tui.widgets.step_detail import IN_DOUBT_WORDS, StepDetail
from tui.widgets.virtual_table import VirtualTable

RUN_DIR = "runledgers"


@pytest.fixture
def run_dir(tui_dir: Path) -> Path:
    """The run screen's own fixture ledgers, beside the shared ones."""
    directory = tui_dir / RUN_DIR
    directory.mkdir()
    rl.crashed_run(directory)
    rl.partial_run(directory)
    rl.hostile_run(directory)
    rl.rolled_back_run(directory)
    rl.empty_run(directory)
    return directory


@pytest.fixture
def run_app(make_app, run_dir: Path):
    def factory(**kw: object) -> LedgerxApp:
        options: dict[str, object] = {"sources": Sources((Path(RUN_DIR),)), "now": lambda: rl.NOW}
        options.update(kw)
        return make_app(**options)

    return factory


async def _until(pilot: Pilot, condition, what: str, limit: float = 20.0) -> None:
    """Wait (generously) for ``condition``; fail saying ``what`` never happened."""
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.02)


async def open_run(pilot: Pilot, needle: str) -> RunScreen:
    """From the runs list: search for ``needle``, go back to the list, open the match."""
    app = pilot.app
    assert isinstance(app, LedgerxApp)
    await _until(pilot, lambda: app.scan_done, "the first scan")
    await pilot.press("slash", *needle, "enter", "enter")
    await _until(pilot, lambda: isinstance(app.screen, RunScreen), "the run screen")
    screen = app.screen
    assert isinstance(screen, RunScreen)
    await _until(pilot, lambda: screen.detail is not None, "the run to load")
    await pilot.pause()
    return screen


def _plain(renderable: RenderableType, width: int = 10_000) -> str:
    """Text as shown, unwrapped (one very wide line per line of the renderable)."""
    console = Console(width=width, file=io.StringIO(), color_system=None, record=True)
    console.print(renderable)
    return console.export_text()


def _detail_text(screen: RunScreen) -> str:
    return _plain(screen.query_one("#run-detail", StepDetail).shown)


def _header_text(screen: RunScreen) -> str:
    return _plain(screen.query_one("#run-header", RunHeader).shown)


async def test_open_crashed_run_shows_facts_and_steps(run_app) -> None:
    app = run_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_run(pilot, "crash7")
        assert screen.summary.run_id == "20260517-031000-crash7"
        header = _header_text(screen)
        assert "PARTIAL" in header and "DEAD" in header
        assert "stamped running" in header and "(mismatch)" in header
        assert "crashed-0517.db" in header and "sandbox (writes allowed)" in header
        assert "writer pid 4206649 is gone" in header
        table = screen.query_one("#run-steps", VirtualTable)
        assert table.row_count == 7
        assert [row.seq for row in table.rows] == list(range(1, 8))


async def test_detail_pane_follows_the_cursor(run_app) -> None:
    app = run_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_run(pilot, "crash7")
        assert "Step 7" in _detail_text(screen)  # opens on the step in doubt
        await pilot.press("g")
        await pilot.pause()
        assert "Step 1" in _detail_text(screen)
        await pilot.press("j", "j", "j")
        await pilot.pause()
        text = _detail_text(screen)
        assert "Step 4" in text and "failed" in text
        assert "HTTP 409 Conflict: the order is locked by another session" in text
        await pilot.press("k")
        await pilot.pause()
        assert "Step 3" in _detail_text(screen)


async def test_in_doubt_step_is_explained_in_words(run_app) -> None:
    app = run_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_run(pilot, "crash7")
        await pilot.press("G")
        await pilot.pause()
        text = " ".join(_detail_text(screen).split())
        assert "Step 7" in text and "IN DOUBT" in text
        assert " ".join(IN_DOUBT_WORDS.split()) in text
        assert "corr-0007" in text and "outcome none" in text


async def test_escape_goes_back_to_the_runs_list(run_app) -> None:
    app = run_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await open_run(pilot, "crash7")
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, RunsScreen)


async def test_hostile_text_is_literal_and_inert(run_app) -> None:
    app = run_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_run(pilot, "hostile")
        header = _header_text(screen)
        assert "[@click=app.quit]prof" in header
        assert "[b]ACME\\u202e" in header
        await pilot.press("g")  # it opened on the step in doubt; the hostile error is step 1's
        await pilot.pause()
        text = _detail_text(screen)
        assert "[@click=app.quit]y[bold red]z\\x1b]8;;http://x\\x07link" in text
        assert "[link=http://x]rb[/link]" in text
        assert "more chars]" in text  # the 4,800-character error is cut, saying so
        svg = app.export_screenshot()
        assert "\x1b" not in svg and "\u202e" not in svg
        # Clicking where the smuggled [@click=app.quit] sits must do nothing.
        for x in range(0, 60, 4):
            await pilot.click("#run-header", offset=(x, 1))
        assert app.is_running and app.screen is screen


async def test_rollback_attempts_listed_with_results(run_app) -> None:
    app = run_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_run(pilot, "rbk")
        await pilot.press("g", "j")
        await pilot.pause()
        text = " ".join(_detail_text(screen).split())
        assert "rollback #2" in text and "RB FAILED · HTTP 500" in text
        assert "HTTP 500: upstream timeout" in text
        await pilot.press("j")
        await pilot.pause()
        text = " ".join(_detail_text(screen).split())
        assert "NO ANSWER" in text and "may have landed" in text


async def test_r_opens_the_rollback_preview(run_app) -> None:
    from tui.screens.rollback_screen import RollbackScreen

    app = run_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await open_run(pilot, "crash7")
        await pilot.press("r")
        await _until(pilot, lambda: isinstance(app.screen, RollbackScreen), "rollback preview")


async def test_detail_pane_toggles_and_starts_hidden_at_80x24(run_app) -> None:
    app = run_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_run(pilot, "crash7")
        detail = screen.query_one("#run-detail")
        assert not detail.display
        await pilot.press("d")
        await pilot.pause()
        assert detail.display
        await pilot.press("d")
        await pilot.pause()
        assert not detail.display


async def test_enter_reads_the_step_in_its_pane_at_80x24(run_app) -> None:
    # At 3 a.m. on a small terminal: enter on a step shows the hidden detail pane and moves
    # into it, so a long error can be scrolled; enter again returns to the steps.
    app = run_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_run(pilot, "hostile")
        detail = screen.query_one("#run-detail", StepDetail)
        table = screen.query_one("#run-steps", VirtualTable)
        assert not detail.display and app.focused is table
        keys = {key: b.binding.description for key, b in screen.active_bindings.items()}
        assert keys.get("enter") == "Step", "enter is not offered in the footer"
        await pilot.press("enter")
        await pilot.pause()
        assert detail.display and app.focused is detail
        assert detail.max_scroll_y > 0, "the hostile error should need scrolling"
        await pilot.press("j", "j")
        await pilot.pause()
        assert detail.scroll_y > 0, "j did not scroll the detail pane"
        await pilot.press("enter")
        await pilot.pause()
        assert app.focused is table
        await pilot.press("enter", "d")  # hiding the focused pane gives focus back
        await pilot.pause()
        assert not detail.display and app.focused is table
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, RunsScreen)


async def test_refresh_and_live_poll_pick_up_new_outcomes(run_app, run_dir: Path) -> None:
    app = run_app(poll_interval=0.1)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_run(pilot, "crash7")
        table = screen.query_one("#run-steps", VirtualTable)
        assert table.rows[-1].derived_status == "in_doubt"
        # The (resurrected) writer records the outcome of step 7 and an eighth step.
        conn = sqlite3.connect(run_dir / "crashed-0517.db", isolation_level=None)
        conn.execute(
            "UPDATE step SET outcome_ts = ?, status = 'committed' WHERE seq = 7",
            ("2026-05-17T03:12:06.000000Z",),
        )
        conn.execute(
            rl.STEP_INSERT,
            (
                screen.summary.run_id,
                8,
                "2026-05-17T03:12:07.000000Z",
                "POST",
                f"{rl.API}/x",
                None,
                None,
                None,
                "corr-8",
                None,
                None,
            ),
        )
        conn.close()
        await _until(pilot, lambda: table.row_count == 8, "the poll to re-read the run")
        assert table.rows[6].derived_status == "committed"
        assert "8 steps" in _header_text(screen)


async def test_refresh_key_rereads_the_run(run_app, run_dir: Path) -> None:
    app = run_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_run(pilot, "030500")
        table = screen.query_one("#run-steps", VirtualTable)
        assert table.row_count == 3
        conn = sqlite3.connect(run_dir / "partial-0517.db", isolation_level=None)
        conn.execute(
            rl.STEP_INSERT,
            (
                screen.summary.run_id,
                4,
                "2026-05-17T03:16:00.000000Z",
                "POST",
                f"{rl.API}/y",
                None,
                None,
                None,
                None,
                None,
                None,
            ),
        )
        conn.close()
        await pilot.press("R")
        await _until(pilot, lambda: table.row_count == 4, "R to re-read the run")


async def test_live_run_is_not_called_a_stale_stamp(make_app) -> None:
    app = make_app()  # the shared fixtures: "0958-live-import" is written by this process
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_run(pilot, "live-import")
        header = _header_text(screen)
        assert "liveness alive" in header and "(still being written)" in header
        assert "(mismatch)" not in header
        # The liveness names its source (here the writer record: this very process).
        assert "recorded on this host is still running; wait before acting on it" in header
        assert header.startswith("running  Run 0958-live-import")  # the verdict first


async def test_a_vanished_ledger_is_a_message_not_a_crash(run_app, run_dir: Path) -> None:
    app = run_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_run(pilot, "030500")
        (run_dir / "partial-0517.db").unlink()
        await pilot.press("R")
        await _until(
            pilot, lambda: "Could not read this run" in _detail_text(screen), "the failure note"
        )
        assert app.is_running and app.screen is screen


def _colours(text) -> list[str]:
    from rich.style import Style

    styles = [text.style, *(span.style for span in text.spans)]
    parsed = [Style.parse(s) if isinstance(s, str) else s for s in styles]
    return [str(s) for s in parsed if s.color is not None or s.bgcolor is not None]


async def test_no_color_marks_alarms_in_reverse_not_in_grey(
    run_app, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = run_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_run(pilot, "crash7")
        await pilot.press("G")
        await pilot.pause()
        header = screen.query_one("#run-header", RunHeader).shown
        assert _colours(header) == []
        reversed_words = {
            header.plain[span.start : span.end]
            for span in header.spans
            if "reverse" in str(span.style)
        }
        assert {"DEAD", "PARTIAL", "1 failed", "1 in doubt"} <= reversed_words
        assert "IN DOUBT" in _detail_text(screen)


async def test_run_without_steps_says_so(run_app) -> None:
    app = run_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_run(pilot, "nosteps")
        assert screen.query_one("#run-steps", VirtualTable).row_count == 0
        assert "This run has no steps recorded." in _detail_text(screen)
        assert "stopped before recording any step" in _header_text(screen)


async def test_a_one_step_run_says_step_not_steps(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_run(pilot, "evil")  # the shared fixtures' hostile run: one step
        header = _header_text(screen)
        assert "1 step: 0 committed, 1 failed" in header and "1 steps" not in header
