"""The runs list's summary line: how many runs need attention and have each verdict, with the
key that filters to them (``3 crashed 2 · 4 in doubt 3``)."""

from __future__ import annotations

from rich.text import Text

from ledger_core import vocabulary
from ledger_core.triage import verdict_counts

from .safe import VERDICT_STYLES

# verdict (or "attention") -> the preset filter key of ``vocabulary.FILTERS`` it selects.
_PRESET = {
    "attention": "attention",
    "crashed": "crashed",
    "in_doubt": "in_doubt",
    "rollback_incomplete": "rollback_incomplete",
    "partially_committed": "partial",
    "running": "running",
}
# The keys: a preset's position in ``vocabulary.FILTERS`` (0 is "all runs"), the order ``f``
# cycles in, so the digit and the cycle agree.
KEYS: dict[str, str] = {preset.key: str(n) for n, preset in enumerate(vocabulary.FILTERS)}
SHORT = {
    "attention": "attention",
    "in_doubt": "in doubt",
    "rollback_incomplete": "rb incomplete",
    "partially_committed": "partial",
}


def summary_line(
    runs, active: str, *, short: bool = False, counts: list[tuple[str, int]] | None = None
) -> Text:
    """One line: each count with its key; the active filter's entry in reverse. ``counts``:
    ``verdict_counts(runs)`` when the caller has it already."""
    line = Text(" ")
    if counts is None:
        counts = verdict_counts(runs)
    if not counts:
        line.append("nothing needs attention", style="dim")
    for n, (verdict, count) in enumerate(counts):
        preset = _PRESET[verdict]
        if n:
            line.append(" · ", style="dim")
        line.append(KEYS[preset], style="bold reverse")
        word = SHORT.get(verdict, verdict) if short else _label(preset)
        entry = Text(f" {word} {count}")
        entry.stylize(VERDICT_STYLES.get(verdict, "bold yellow"), 1, 1 + len(word))
        if preset == active:
            entry.stylize("underline")
        line.append_text(entry)
    if active != "all":
        line.append("  ")
        line.append(KEYS["all"], style="bold reverse")
        line.append(" all", style="dim")
    for key, word in (("T", "time"), ("F", "facets")):
        line.append("  ")
        line.append(key, style="bold reverse")
        line.append(f" {word}", style="dim")
    return line


def _label(preset_key: str) -> str:
    for preset in vocabulary.FILTERS:
        if preset.key == preset_key:
            return preset.label
    return preset_key
