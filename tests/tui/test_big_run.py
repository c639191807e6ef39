"""A run of 100,000 steps: the screen answers keys while it loads and never holds every row.

Bounds here are generous on purpose (a shared 2-core machine): they catch a screen that reads
the whole run before painting or turns rows into widgets, not a slow millisecond. The speed
figures themselves belong to ``make bench``.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
import run_ledgers as rl
from textual.pilot import Pilot

from ledger_core.ledgers.sources import Sources
from ledger_core.models import Step
from ledger_core.rollback.profiles import Profiles
from tui.app import LedgerxApp
from tui.screens.run_screen import PAGE_SIZE, PAGED_ABOVE, RunScreen
from tui.widgets.virtual_table import VirtualTable

STEPS = 100_000


@pytest.fixture(scope="session")
def big_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("big")
    rl.big_run(directory, STEPS)
    return directory


async def _until(pilot: Pilot, condition, what: str, limit: float = 30.0) -> float:
    """Wait for ``condition``; return how long it took (fails after ``limit`` seconds)."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < limit, f"timed out waiting for {what}"
        await pilot.pause(0.01)
    return time.monotonic() - start


def _loaded(table: VirtualTable) -> int:
    return sum(isinstance(row, Step) for row in table.rows)


async def test_huge_run_pages_and_stays_responsive(
    big_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("LEDGERX_CACHE_DIR", str(tmp_path / "cache"))
    app = LedgerxApp(Sources((big_dir,)), Profiles(None), now=lambda: rl.NOW, poll_interval=0)
    async with app.run_test(size=(100, 30)) as pilot:
        await _until(pilot, lambda: app.scan_done, "the scan")
        await pilot.press("enter")
        await _until(pilot, lambda: isinstance(app.screen, RunScreen), "the run screen")
        screen = app.screen
        assert isinstance(screen, RunScreen) and screen.paged
        table = screen.query_one("#run-steps", VirtualTable)
        assert table.row_count == STEPS  # placeholders for every step from the start

        # A key is handled while the first page is still being read.
        started = time.monotonic()
        await pilot.press("d")
        assert screen.has_class("-no-detail") and time.monotonic() - started < 5

        await _until(pilot, lambda: isinstance(table.rows[0], Step), "the first steps")
        assert table.rows[0].seq == 1

        # The end is one page away, not the whole run.
        await pilot.press("G")
        await _until(pilot, lambda: isinstance(table.cursor_value, Step), "the last step")
        assert table.cursor_value.seq == STEPS
        assert table.cursor_value.derived_status == "in_doubt"
        await pilot.press("g")
        await _until(pilot, lambda: table.cursor_row == 0, "back to the top")
        assert isinstance(table.cursor_value, Step)

        # Only the pages that were on screen were ever read.
        assert _loaded(table) <= 4 * PAGE_SIZE
        assert screen.detail is None


async def test_paged_run_refresh_rereads_the_pages_on_screen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LEDGERX_CACHE_DIR", str(tmp_path / "cache"))
    directory = tmp_path / "paged"
    directory.mkdir()
    path = rl.big_run(directory, PAGED_ABOVE + 1)
    app = LedgerxApp(Sources((directory,)), Profiles(None), now=lambda: rl.NOW, poll_interval=0)
    async with app.run_test(size=(100, 30)) as pilot:
        await _until(pilot, lambda: app.scan_done, "the scan")
        await pilot.press("enter")
        await _until(pilot, lambda: isinstance(app.screen, RunScreen), "the run screen")
        screen = app.screen
        assert isinstance(screen, RunScreen) and screen.paged
        table = screen.query_one("#run-steps", VirtualTable)
        await pilot.press("G")
        await _until(pilot, lambda: isinstance(table.cursor_value, Step), "the last step")
        assert table.cursor_value.derived_status == "in_doubt"

        conn = sqlite3.connect(path, isolation_level=None)
        run_id = screen.summary.run_id
        conn.execute(
            "UPDATE step SET outcome_ts = ?, status = 'committed' WHERE seq = ?",
            ("2026-05-17T01:00:00.000000Z", PAGED_ABOVE + 1),
        )
        conn.execute(
            rl.STEP_INSERT,
            (
                run_id,
                PAGED_ABOVE + 2,
                "2026-05-17T01:00:01.000000Z",
                "POST",
                "https://x/new",
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
        await _until(pilot, lambda: table.row_count == PAGED_ABOVE + 2, "the new step")
        await _until(
            pilot,
            lambda: getattr(table.rows[PAGED_ABOVE], "derived_status", None) == "committed",
            "the re-read outcome",
        )
        await pilot.press("G")
        await _until(pilot, lambda: isinstance(table.cursor_value, Step), "the new last step")
        assert table.cursor_value.seq == PAGED_ABOVE + 2
