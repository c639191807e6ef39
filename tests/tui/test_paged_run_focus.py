"""A run big enough to be paged (12,000 steps) opens on the step that matters or on the step a
search found, and ``n`` / ``N`` cross pages never read, as they do in a small run."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from ledger_factory import RunSpec, StepSpec, make_ledger
from textual.pilot import Pilot

from ledger_core.ledgers.sources import Sources
from ledger_core.models import Step
from ledger_core.triage.step_position import (
    next_problem_position,
    position_of_step,
    position_that_matters,
)
from tui.app import LedgerxApp
from tui.screens.run_screen import PAGE_SIZE, PAGED_ABOVE, RunScreen
from tui.widgets.virtual_table import VirtualTable

STEPS = 12_000
FAILED, IN_DOUBT, LATE_FAILED, NEEDLE = 9_001, 10_500, 11_000, 7_777


def _steps(in_doubt: bool = True) -> list[StepSpec]:
    steps = []
    for seq in range(1, STEPS + 1):
        kw = {"bc_correlation_id": "needle-corr" if seq == NEEDLE else f"c-{seq}"}
        if seq in (FAILED, LATE_FAILED):
            steps.append(StepSpec.failed(seq, **kw))
        elif seq == IN_DOUBT and in_doubt:
            steps.append(StepSpec.in_doubt(seq, **kw))
        else:
            steps.append(StepSpec.committed(seq, **kw))
    return steps


@pytest.fixture
def big(tui_dir: Path) -> Path:
    directory = tui_dir / "paged"
    directory.mkdir()
    make_ledger(directory / "big.db", [RunSpec("big-run", steps=_steps())])
    return directory


async def _until(pilot: Pilot, condition, what: str) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.02)


def _on(table: VirtualTable, seq: int):
    return lambda: isinstance(table.cursor_value, Step) and table.cursor_value.seq == seq


def test_positions_come_from_the_ledger(big: Path) -> None:
    path = big / "big.db"
    assert position_that_matters(path, "big-run") == IN_DOUBT - 1
    assert position_of_step(path, "big-run", seq=NEEDLE) == NEEDLE - 1
    assert position_of_step(path, "big-run", step_id=NEEDLE) == NEEDLE - 1
    assert position_of_step(path, "big-run", seq=STEPS + 5) is None
    assert next_problem_position(path, "big-run", IN_DOUBT - 1, 1) == LATE_FAILED - 1
    assert next_problem_position(path, "big-run", IN_DOUBT - 1, -1) == FAILED - 1
    assert next_problem_position(path, "big-run", FAILED - 1, -1) is None
    assert next_problem_position(path, "big-run", LATE_FAILED - 1, 1) is None


def test_without_doubt_the_first_failed_matters(tui_dir: Path) -> None:
    path = make_ledger(tui_dir / "f.db", [RunSpec("f", steps=_steps(in_doubt=False))])
    assert position_that_matters(path, "f") == FAILED - 1


async def test_paged_run_opens_on_the_step_in_doubt_and_n_N_cross_pages(make_app, big):
    app: LedgerxApp = make_app(sources=Sources((Path("paged"),)))
    async with app.run_test(size=(120, 36)) as pilot:
        await _until(pilot, lambda: app.scan_done, "the scan")
        await pilot.press("enter")
        await _until(pilot, lambda: isinstance(app.screen, RunScreen), "the run screen")
        screen = app.screen
        assert isinstance(screen, RunScreen) and screen.paged and STEPS > PAGED_ABOVE
        table = screen.query_one("#run-steps", VirtualTable)
        await _until(pilot, _on(table, IN_DOUBT), "the step in doubt")
        await pilot.press("n")
        await _until(pilot, _on(table, LATE_FAILED), "the next problem, on another page")
        await pilot.press("N", "N")
        await _until(pilot, _on(table, FAILED), "the failed step before it")
        await pilot.press("N")
        await pilot.pause(0.2)
        await _until(
            pilot,
            lambda: any("No problem step before" in str(n.message) for n in app._notifications),
            "the notice that there is none",
        )
        assert table.cursor_value.seq == FAILED
        # Only the pages around the steps visited were read, not the run.
        assert sum(isinstance(r, Step) for r in table.rows) <= 8 * PAGE_SIZE


async def test_search_opens_a_paged_run_on_the_found_step(make_app, big):
    app: LedgerxApp = make_app(sources=Sources((Path("paged"),)))
    async with app.run_test(size=(120, 36)) as pilot:
        await _until(pilot, lambda: app.scan_done, "the scan")
        await pilot.press("slash", *"needle-corr", "enter")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await _until(pilot, lambda: isinstance(app.screen, RunScreen), "the run screen")
        table = app.screen.query_one("#run-steps", VirtualTable)
        await _until(pilot, _on(table, NEEDLE), "the step the search found")
