"""One line naming a group of runs and its counts, shared by the TUI's runs list and `list`.

``company acme · 12 runs · attention 3 · crashed 2 · in doubt 1 · completed 9``: the counts
come most urgent first (``ledger_core.triage.facets.Group.counts``), so a narrow screen cuts the
least urgent. Rich only (the CLI imports it); the value is ledger data, so it is built with
``safe_text`` (control characters escaped, never markup).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rich.text import Text

from ledger_core.models import RunSummary
from ledger_core.triage import NONE_VALUE, Group, group_runs

from .safe import STATE_STYLES, VERDICT_STYLES, safe_text


def heading_text(group: Group, *, marker: str = "", value_limit: int = 120) -> Text:
    """The group's line: ``marker`` (the TUI's ▾/▸) first, the facet dim, the value bold."""
    line = Text()
    if marker:
        line.append(f"{marker} ")
    line.append(f"{group.facet} ", style="dim")
    if group.value == NONE_VALUE:
        line.append(group.label, style="italic")
    elif group.facet == "verdict":
        line.append(verdict_words(group.value), style=f"{_style(group.value)} bold")
    else:
        line.append_text(safe_text(group.value, value_limit, style="bold"))
    size = len(group.runs)
    line.append(f" · {size:,} run{'s' if size != 1 else ''}")
    if group.attention:
        line.append(" · ")
        line.append(f"attention {group.attention:,}", style="bold yellow")
    if group.facet != "verdict":  # grouped by verdict, the value already says it
        for verdict, count in group.counts:
            line.append(" · ", style="dim")
            line.append(verdict_words(verdict), style=_style(verdict))
            line.append(f" {count:,}")
    return line


def verdict_words(verdict: str) -> str:
    """``in_doubt`` as ``in doubt``: words in a sentence (the TUI's cells shout in capitals)."""
    return verdict.replace("_", " ")


def _style(verdict: str) -> str:
    return VERDICT_STYLES.get(verdict) or STATE_STYLES.get(verdict, "") or ""


@dataclass(frozen=True, slots=True)
class GroupHeading:
    """A heading row of the grouped runs list: its group, and whether its runs are folded."""

    group: Group
    collapsed: bool = False

    @property
    def key(self) -> tuple[str, str, str]:
        """The row key: the same heading across rescans, whatever its counts."""
        return ("group", self.group.facet, self.group.value)

    def text(self) -> Text:
        return heading_text(self.group, marker="▸" if self.collapsed else "▾")


def grouped_rows(
    runs: Iterable[RunSummary], facet: str, collapsed: set[str]
) -> list[RunSummary | GroupHeading]:
    """Each group's heading followed by its runs (none for the values in ``collapsed``)."""
    rows: list[RunSummary | GroupHeading] = []
    for group in group_runs(runs, facet):
        folded = group.value in collapsed
        rows.append(GroupHeading(group, folded))
        if not folded:
            rows.extend(group.runs)
    return rows
