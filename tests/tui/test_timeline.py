"""The time-axis cell: bars sit where steps happened; a step in doubt runs off the right edge."""

from __future__ import annotations

from ledger_core.derive import latency_ms, step_status
from ledger_core.models import RunSummary, Step, StepCounts
from tui.widgets.timeline import OPEN_END, Window, axis_cell, window_for


def _step(intent: str | None, outcome: str | None, status: str | None) -> Step:
    return Step(
        1,
        1,
        "POST",
        "https://x/y",
        None,
        intent,
        outcome,
        status,
        step_status(status, outcome),
        latency_ms(intent, outcome),
        None,
        None,
        None,
    )


def _ts(second: int) -> str:
    return f"2026-05-17T03:00:{second:02d}.000000Z"


WINDOW = Window(1_778_986_800.0, 1_778_986_800.0 + 40)  # 03:00:00 .. 03:00:40 UTC


def test_committed_step_is_a_bar_between_intent_and_outcome() -> None:
    cell = axis_cell(_step(_ts(10), _ts(20), "committed"), WINDOW, 40).plain
    assert len(cell) == 40
    assert cell[:10] == "·" * 10 and cell[10:21] == "━" * 11 and cell[21:] == "·" * 19


def test_failed_step_ends_in_a_cross() -> None:
    cell = axis_cell(_step(_ts(0), _ts(4), "failed"), WINDOW, 40).plain
    assert cell.startswith("━━━━✗·")


def test_in_doubt_step_is_open_ended_to_the_right_edge() -> None:
    cell = axis_cell(_step(_ts(30), None, None), WINDOW, 40).plain
    assert len(cell) == 40
    assert cell[:30] == "·" * 30 and cell.endswith(OPEN_END) and "·" not in cell[30:]


def test_unparseable_time_is_a_question_not_a_guess() -> None:
    assert axis_cell(_step("yesterday", None, None), WINDOW, 9).plain.strip() == "?"


def test_window_runs_past_the_last_activity() -> None:
    summary = RunSummary(
        "r",
        "f.db",
        None,
        None,
        None,
        None,
        None,
        "running",
        _ts(0),
        None,
        StepCounts(in_doubt=1),
        _ts(30),
        1,
        "running",
        "dead",
        (),
    )
    window = window_for(summary)
    assert window is not None and window.start == WINDOW.start and window.end > WINDOW.start + 30
    # The last step began at the last activity, yet its open bar is still visible.
    assert axis_cell(_step(_ts(30), None, None), window, 20).plain.count("╌") >= 1
