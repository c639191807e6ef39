"""Render one step's place on the run's time axis as a one-line ``Text`` bar (the axis cell).

The axis spans the run's window (its start to its last activity). A step is a bar from its
intent to its outcome, at least one cell wide. A step with no outcome (in doubt) is open-ended:
its bar is dashed and runs off to the right edge, ending in ``?`` — the shape carries the
meaning without colour (NO_COLOR). Only the rows on screen are ever rendered, so the epoch
parsing here costs a few microseconds per visible row, never per step of the run.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text

from ledger_core.models import RunSummary, Step
from ledger_core.timeutil import to_epoch

from .safe import STATE_STYLES

TRACK = "·"
BAR = "━"
OPEN = "╌"
FAILED_END = "✗"
OPEN_END = "?"


@dataclass(frozen=True, slots=True)
class Window:
    """The run's time span in epoch seconds; ``end`` is never before ``start``."""

    start: float
    end: float

    @property
    def span(self) -> float:
        return max(self.end - self.start, 1e-6)

    def column(self, moment: float, width: int) -> int:
        """The cell (0 .. width-1) where ``moment`` falls, clamped to the axis."""
        fraction = (moment - self.start) / self.span
        return min(width - 1, max(0, int(fraction * width)))


# The axis runs a little past the last activity, so a step in doubt that began last still
# shows its open-ended bar instead of a lone "?" at the edge.
TAIL = 0.12


def window_for(summary: RunSummary, first: Step | None = None) -> Window | None:
    """The axis window of a run: its start (or first intent) to just after its last activity."""
    start = to_epoch(summary.started_at)
    if start is None and first is not None:
        start = to_epoch(first.intent_ts)
    end = to_epoch(summary.last_activity)
    if start is None and end is None:
        return None
    start = end if start is None else start
    end = start if end is None or end < start else end
    return Window(start, end + (end - start) * TAIL)


def axis_cell(step: Step, window: Window | None, width: int) -> Text:
    """The axis cell of ``step``, exactly ``width`` cells wide."""
    if width <= 0:
        return Text("")
    intent = to_epoch(step.intent_ts)
    if window is None or intent is None:
        return Text("?".center(width), style="dim", no_wrap=True, end="")
    style = STATE_STYLES.get(step.derived_status, "")
    first = window.column(intent, width)
    cells = Text(TRACK * first, style="dim", no_wrap=True, end="")
    if step.derived_status == "in_doubt":
        # Open-ended: we do not know when (or whether) the request finished.
        tail = width - first
        if tail == 1:
            cells.append(OPEN_END, style=style)
        else:
            cells.append(BAR + OPEN * (tail - 2) + OPEN_END, style=style)
        return cells
    outcome = to_epoch(step.outcome_ts)
    last = first if outcome is None else max(first, window.column(outcome, width))
    bar = BAR * (last - first + 1)
    if step.derived_status in ("failed", "rollback_failed"):
        bar = bar[:-1] + FAILED_END
    cells.append(bar, style=style)
    cells.append(TRACK * (width - last - 1), style="dim")
    return cells


def axis_legend(window: Window | None) -> str:
    """A short caption for the axis column header: what its two ends mean."""
    return "time axis" if window is None else "start → last activity"
