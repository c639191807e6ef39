"""TUI figures: start to first painted runs, opening the 100,000-step run, event-loop stalls."""

from __future__ import annotations


def run(data, reps, log):
    log("TUI benchmark: not built yet")
    return [], {"rss": {}}
