"""Facets of the runs list (manifest, company, profile, environment, format): filters, groups
and verdict counts.

The CLI's ``--manifest/--company/--profile/--environment`` and the TUI's facet picker use these,
so both find the same runs. Matching: ``manifest`` is a case-insensitive substring of the
manifest path (paths are long; people type the file name); the others are equal ignoring case.
Several values for one facet mean any of them; several facets mean all of them.

Grouping (``group_runs``; the TUI's ``b``, ``ledgerx list --group-by``) also knows ``verdict``.
A group holds the runs with exactly one value (spelled as stored: the picker counts values the
same way), in the order they were given. Groups come most urgent first: the most runs needing
attention, then the most runs, then the value (case-insensitive); runs without a value, the
"(none)" group, always come last. Grouped by verdict, the groups follow ``VERDICT_URGENCY``
instead (in doubt before failed, however many runs each has).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotations only: `ledgerx --help` builds --group-by from this module
    from ..models import RunSummary

FACETS = ("manifest", "company", "profile", "environment", "format")
NONE_VALUE = ""  # the facet's value of a run that has none (shown as "(none)")
NONE_LABEL = "(none)"
GROUP_FACETS = ("verdict", *FACETS)  # what runs can be grouped by

# The verdicts the summary line counts, most urgent first: those with a preset filter of their
# own in ``vocabulary.FILTERS``, so each count is a one-key filter.
SUMMARY_VERDICTS = (
    "crashed",
    "in_doubt",
    "rollback_incomplete",
    "partially_committed",
    "running",
)


# Verdicts most urgent first: the order of the groups when grouping by verdict.
VERDICT_URGENCY = (
    "rollback_incomplete",
    "in_doubt",
    "crashed",
    "stale",
    "partially_committed",
    "failed",
    "running",
    "cancelled",
    "planned",
    "rolled_back",
    "completed",
)
_URGENCY = {verdict: n for n, verdict in enumerate(VERDICT_URGENCY)}


def facet_value(run: RunSummary, facet: str) -> str:
    """The run's value for ``facet`` (``""`` when it has none)."""
    if facet == "manifest":
        value = run.manifest_path
    elif facet in ("company", "profile", "environment", "format"):
        value = getattr(run, facet)
    else:
        raise ValueError(f"unknown facet {facet!r}; facets: {', '.join(FACETS)}")
    return value if isinstance(value, str) else NONE_VALUE


def facet_counts(runs: Iterable[RunSummary], facet: str) -> list[tuple[str, int]]:
    """Each value of ``facet`` among ``runs`` with how many runs have it, most runs first."""
    counts = Counter(facet_value(run, facet) for run in runs)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def matches(run: RunSummary, facet: str, wanted: Iterable[str]) -> bool:
    """Whether ``run``'s ``facet`` is one of ``wanted`` (see the module's matching rules)."""
    value = facet_value(run, facet).casefold()
    for text in wanted:
        needle = text.casefold()
        if facet == "manifest" and needle and needle in value:
            return True
        if value == needle:
            return True
    return False


def filter_runs(
    runs: Iterable[RunSummary], selected: Mapping[str, Iterable[str]]
) -> list[RunSummary]:
    """The runs matching every facet in ``selected`` (facet -> accepted values), order kept."""
    chosen = {facet: list(values) for facet, values in selected.items() if values}
    for facet in chosen:
        if facet not in FACETS:
            raise ValueError(f"unknown facet {facet!r}; facets: {', '.join(FACETS)}")
    return [run for run in runs if all(matches(run, f, v) for f, v in chosen.items())]


def verdict_counts(runs: Iterable[RunSummary]) -> list[tuple[str, int]]:
    """``[("attention", n), ("crashed", 2), ("in_doubt", 3) …]``: the runs needing attention,
    then each summary verdict that occurs, in ``SUMMARY_VERDICTS`` order (zero counts left out)."""
    from .. import (
        derive,  # here, not at import: `ledgerx --help` builds --group-by from this module
    )

    return verdict_counts_of(
        (run.verdict or run.state, derive.needs_attention(run)) for run in runs
    )


def verdict_counts_of(tallies: Iterable[tuple[str, bool]]) -> list[tuple[str, int]]:
    """``verdict_counts`` from each run's (verdict, needs attention), worked out beforehand:
    a list re-filtered at every key of a search counts 10,000 runs without deriving them."""
    verdicts: Counter[str] = Counter()
    attention = 0
    for verdict, needs in tallies:
        verdicts[verdict] += 1
        attention += needs
    out = [("attention", attention)] if attention else []
    out += [(v, verdicts[v]) for v in SUMMARY_VERDICTS if verdicts[v]]
    return out


@dataclass(frozen=True, slots=True)
class Group:
    """The runs sharing one value of a facet, with how many have each verdict."""

    facet: str
    value: str  # ``NONE_VALUE`` for the runs that have none
    runs: tuple[RunSummary, ...]
    counts: tuple[tuple[str, int], ...]
    """(verdict, runs): the summary verdicts first, most urgent first, then the others by
    number of runs; verdicts no run has are left out."""
    attention: int  # runs needing attention (``derive.needs_attention``)

    @property
    def label(self) -> str:
        """The value as people read it: ``(none)`` for runs without one."""
        return self.value if self.value != NONE_VALUE else NONE_LABEL

    def to_dict(self) -> dict[str, object]:
        """The group without its runs: ``value`` is ``None`` for the "(none)" group."""
        return {
            "facet": self.facet,
            "value": self.value if self.value != NONE_VALUE else None,
            "total": len(self.runs),
            "attention": self.attention,
            "counts": dict(self.counts),
        }


def group_value(run: RunSummary, facet: str) -> str:
    """The run's value for a grouping ``facet`` (one of ``GROUP_FACETS``)."""
    if facet == "verdict":
        return run.verdict or run.state or NONE_VALUE
    return facet_value(run, facet)


def group_runs(runs: Iterable[RunSummary], facet: str) -> list[Group]:
    """``runs`` grouped by ``facet``'s value, in the order the module's docstring gives.

    Each group keeps the runs in the order they came (so a sorted list stays sorted inside
    its groups). Raises ``ValueError`` for a facet that is not one of ``GROUP_FACETS``.
    """
    if facet not in GROUP_FACETS:
        raise ValueError(f"unknown facet {facet!r}; group by: {', '.join(GROUP_FACETS)}")
    members: dict[str, list[RunSummary]] = {}
    for run in runs:
        members.setdefault(group_value(run, facet), []).append(run)
    groups = [_group(facet, value, found) for value, found in members.items()]
    if facet == "verdict":
        groups.sort(key=lambda g: (_URGENCY.get(g.value, len(_URGENCY)), g.value))
        return groups
    groups.sort(
        key=lambda g: (
            g.value == NONE_VALUE,
            -g.attention,
            -len(g.runs),
            g.value.casefold(),
            g.value,
        )
    )
    return groups


def parse_group_facet(text: str) -> str:
    """A ``--group-by`` value (any case) as one of ``GROUP_FACETS``; ``ValueError`` otherwise."""
    facet = text.strip().lower()
    if facet not in GROUP_FACETS:
        raise ValueError(f"unknown facet {text!r}; group by: {', '.join(GROUP_FACETS)}")
    return facet


def _group(facet: str, value: str, runs: list[RunSummary]) -> Group:
    verdicts = Counter(run.verdict or run.state for run in runs)
    first = [(v, verdicts[v]) for v in SUMMARY_VERDICTS if verdicts[v]]
    rest = sorted(
        ((v, n) for v, n in verdicts.items() if v not in SUMMARY_VERDICTS),
        key=lambda item: (-item[1], item[0]),
    )
    from .. import derive

    return Group(
        facet=facet,
        value=value,
        runs=tuple(runs),
        counts=tuple(first + rest),
        attention=sum(derive.needs_attention(run) for run in runs),
    )
