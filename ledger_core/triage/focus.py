"""Which step of a run a person should look at first, and the next / previous problem step."""

from __future__ import annotations

from collections.abc import Sequence

from ..models import Step

# Steps whose outcome needs a person: it may have landed, it did not, or its undo did not.
PROBLEM_STATUSES = ("in_doubt", "failed", "unknown", "rollback_failed")


def is_problem(step: Step) -> bool:
    return step.derived_status in PROBLEM_STATUSES


def step_that_matters(steps: Sequence[Step]) -> int | None:
    """Index of the first in-doubt step, else the first failed one, else the last; ``None``
    for a run without steps. Pure."""
    if not steps:
        return None
    for wanted in ("in_doubt", "failed"):
        for index, step in enumerate(steps):
            if step.derived_status == wanted:
                return index
    return len(steps) - 1


def next_problem(steps: Sequence[object], index: int, direction: int = 1) -> int | None:
    """Index of the next (``direction`` 1) or previous (-1) problem step after ``index``, not
    wrapping; ``None`` when there is none. Entries that are not ``Step`` (rows of a paged run
    not read yet) are skipped."""
    position = index + direction
    while 0 <= position < len(steps):
        step = steps[position]
        if isinstance(step, Step) and is_problem(step):
            return position
        position += direction
    return None
