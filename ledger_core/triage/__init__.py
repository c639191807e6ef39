"""Triage: search, facets, time filters, what to look at first, resolutions of in-doubt steps and
the incident bundle.

The TUI and the CLI import from this package, not from its modules, e.g.
``from ledger_core.triage import DOUBTFUL``. Names are loaded on first use, so importing one of them
does not import the rest (nor httpx, for the read-only commands).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import loader

if TYPE_CHECKING:
    from .facets import (
        FACETS,
        GROUP_FACETS,
        NONE_VALUE,
        Group,
        facet_counts,
        group_runs,
        parse_group_facet,
        verdict_counts,
        verdict_counts_of,
    )
    from .focus import next_problem, step_that_matters
    from .resolutions import (
        DOUBTFUL,
        LANDED,
        NOT_LANDED,
        NOTE_LIMIT,
        UNKNOWN,
        Resolution,
        check_url,
        default_who,
        latest,
    )
    from .search_index import (
        Hit,
        RunHits,
        RunMatches,
        SearchSession,
        default_index_path,
        file_names,
        narrow_hits,
        open_default_index,
        search_files,
    )
    from .step_position import next_problem_position, position_of_step, position_that_matters
    from .timefilter import FORMS, TimeRange, display_time, display_with_zone, zone_label

_EXPORTS = {
    "DOUBTFUL": "resolutions",
    "FACETS": "facets",
    "FORMS": "timefilter",
    "GROUP_FACETS": "facets",
    "Group": "facets",
    "Hit": "search_index",
    "LANDED": "resolutions",
    "NONE_VALUE": "facets",
    "NOT_LANDED": "resolutions",
    "NOTE_LIMIT": "resolutions",
    "Resolution": "resolutions",
    "RunHits": "search_index",
    "RunMatches": "search_index",
    "SearchSession": "search_index",
    "TimeRange": "timefilter",
    "UNKNOWN": "resolutions",
    "check_url": "resolutions",
    "default_index_path": "search_index",
    "default_who": "resolutions",
    "display_time": "timefilter",
    "display_with_zone": "timefilter",
    "facet_counts": "facets",
    "file_names": "search_index",
    "group_runs": "facets",
    "latest": "resolutions",
    "narrow_hits": "search_index",
    "next_problem": "focus",
    "next_problem_position": "step_position",
    "open_default_index": "search_index",
    "parse_group_facet": "facets",
    "position_of_step": "step_position",
    "position_that_matters": "step_position",
    "search_files": "search_index",
    "step_that_matters": "focus",
    "verdict_counts": "facets",
    "verdict_counts_of": "facets",
    "zone_label": "timefilter",
}

__all__ = [
    "DOUBTFUL",
    "FACETS",
    "FORMS",
    "GROUP_FACETS",
    "Group",
    "Hit",
    "LANDED",
    "NONE_VALUE",
    "NOT_LANDED",
    "NOTE_LIMIT",
    "Resolution",
    "RunHits",
    "RunMatches",
    "SearchSession",
    "TimeRange",
    "UNKNOWN",
    "check_url",
    "default_index_path",
    "default_who",
    "display_time",
    "display_with_zone",
    "facet_counts",
    "file_names",
    "group_runs",
    "latest",
    "narrow_hits",
    "next_problem",
    "next_problem_position",
    "open_default_index",
    "parse_group_facet",
    "position_of_step",
    "position_that_matters",
    "search_files",
    "step_that_matters",
    "verdict_counts",
    "verdict_counts_of",
    "zone_label",
]

__getattr__ = loader(__name__, _EXPORTS)
