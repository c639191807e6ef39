"""The step a run screen opens on, and the jumps between problem steps."""

from __future__ import annotations

from ledger_core.models import Step
from ledger_core.triage.focus import next_problem, step_that_matters


def _step(seq: int, status: str) -> Step:
    return Step(seq, seq, "POST", "u", None, "t", None, None, status, None, None, None, None)


def _steps(*statuses: str) -> list[Step]:
    return [_step(n, s) for n, s in enumerate(statuses, 1)]


def test_first_in_doubt_wins_over_an_earlier_failure():
    assert step_that_matters(_steps("committed", "failed", "committed", "in_doubt")) == 3


def test_first_failed_when_nothing_is_in_doubt():
    assert step_that_matters(_steps("committed", "failed", "failed", "committed")) == 1


def test_last_step_when_all_is_well_and_none_without_steps():
    assert step_that_matters(_steps("committed", "committed")) == 1
    assert step_that_matters([]) is None


def test_next_and_previous_problem_do_not_wrap_and_skip_unread_rows():
    rows = [*_steps("committed", "unknown", "committed"), 3, _step(5, "rollback_failed")]
    rows.append(_step(6, "failed"))
    assert next_problem(rows, 0) == 1
    assert next_problem(rows, 1) == 4
    assert next_problem(rows, 4) == 5
    assert next_problem(rows, 5) is None
    assert next_problem(rows, 5, -1) == 4
    assert next_problem(rows, 4, -1) == 1
    assert next_problem(rows, 1, -1) is None
    assert next_problem(_steps("committed", "skipped", "rolled_back"), 0) is None
