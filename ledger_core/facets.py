"""Facets of the runs list (manifest, company, profile, environment, format) and verdict counts.

The CLI's ``--manifest/--company/--profile/--environment`` and the TUI's facet picker use these,
so both find the same runs. Matching: ``manifest`` is a case-insensitive substring of the
manifest path (paths are long; people type the file name); the others are equal ignoring case.
Several values for one facet mean any of them; several facets mean all of them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from .derive import needs_attention
from .models import RunSummary

FACETS = ("manifest", "company", "profile", "environment", "format")
NONE_VALUE = ""  # the facet's value of a run that has none (shown as "(none)")

# The verdicts the summary line counts, most urgent first: those with a preset filter of their
# own in ``vocabulary.FILTERS``, so each count is a one-key filter.
SUMMARY_VERDICTS = (
    "crashed",
    "in_doubt",
    "rollback_incomplete",
    "partially_committed",
    "running",
)


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
    verdicts: Counter[str] = Counter()
    attention = 0
    for run in runs:
        verdicts[run.verdict or run.state] += 1
        attention += needs_attention(run)
    out = [("attention", attention)] if attention else []
    out += [(v, verdicts[v]) for v in SUMMARY_VERDICTS if verdicts[v]]
    return out
