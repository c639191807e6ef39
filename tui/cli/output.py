"""Shared output helpers of the CLI: JSON to stdout only, messages to stderr, all sanitised."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from ledger_core.derive import DEFAULT_STALE_AFTER
from ledger_core.errors import RunNotFound
from ledger_core.models import RunDetail
from ledger_core.reader import read_run, resolve_run, scan
from ledger_core.sanitize import clean, redact_urls
from ledger_core.sources import Sources


def fail(message: str) -> None:
    """One line on stderr, control characters escaped."""
    print(f"ledgerx: {clean(message, 4000)}", file=sys.stderr)


def warn(message: str) -> None:
    print(f"ledgerx: warning: {clean(message, 4000)}", file=sys.stderr)


def _dumps(data: Any, depth: int = 0) -> str:
    # json's C encoder only runs without ``indent``; indenting 10,000 runs or 100,000 steps
    # in pure Python takes seconds. So: one list item (run, step) per line, each compact.
    if depth < 2 and isinstance(data, list) and data:
        pad = "  " * (depth + 1)
        items = ",\n".join(pad + _dumps(item, depth + 1) for item in data)
        return f"[\n{items}\n{'  ' * depth}]"
    if depth == 0 and isinstance(data, dict) and data:
        items = ",\n".join(
            f"  {json.dumps(str(key), ensure_ascii=True)}: {_dumps(value, 1)}"
            for key, value in data.items()
        )
        return f"{{\n{items}\n}}"
    return json.dumps(data, ensure_ascii=True)


def emit_json(data: Any) -> None:
    """JSON on stdout, the only thing there. ``ensure_ascii`` keeps control bytes escaped, and
    a password in any URL is masked (``http://user:***@host``)."""
    sys.stdout.write(redact_urls(_dumps(data)) + "\n")


def piped_width(default: int) -> int:
    """Console width when not on a terminal: ``$COLUMNS`` if it is a positive number."""
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() and int(columns) > 0 else default


def sources_from(args: argparse.Namespace) -> Sources:
    return Sources.from_args(args.ledger_dir or (), args.ledger or ())


def stale_after_seconds(args: argparse.Namespace) -> float:
    minutes = getattr(args, "stale_after", None)
    return DEFAULT_STALE_AFTER if minutes is None else minutes * 60.0


def load_detail(args: argparse.Namespace) -> RunDetail:
    """The run ``args.run`` names (id or unique prefix) in the sources, read whole.

    Raises ``RunNotFound`` naming the sources, and saying how many of them could not be read
    (the run may be in one of those), or ``AmbiguousRunId``.
    """
    sources = sources_from(args)
    stale_after = stale_after_seconds(args)
    result = scan(sources, stale_after=stale_after)
    try:
        summary = resolve_run(result.runs, args.run)
    except RunNotFound as exc:
        hint = ""
        if result.problems:
            hint = (
                f"; {len(result.problems)} source(s) could not be read "
                "(`ledgerx doctor` lists them)"
            )
        raise RunNotFound(f"{exc.message} in {sources.describe()}{hint}") from None
    return read_run(Path(summary.source), summary.run_id, stale_after=stale_after)


# -- filters every command that lists runs shares (``list``; ``search`` alike) ----------------


def add_run_filters(parser: argparse.ArgumentParser) -> None:
    """``--since/--until`` and the facet flags, for any command that lists runs.

    Pair with ``filter_runs_by_args``, which reads them back (and turns bad values into
    ``ValueError`` for a usage error, exit 2).
    """
    parser.add_argument(
        "--since",
        metavar="WHEN",
        help="only runs that started at or after WHEN: 2h, 90m, 3d, 1w, today, yesterday, "
        "an ISO date (its local start) or date-time (local unless it has a zone)",
    )
    parser.add_argument(
        "--until",
        metavar="WHEN",
        help="only runs that started before WHEN (an ISO date, today or yesterday: the end of "
        "that local day)",
    )
    parser.add_argument(
        "--manifest",
        action="append",
        metavar="TEXT",
        help="only runs whose manifest path contains TEXT (any case; repeatable)",
    )
    for facet in ("company", "profile", "environment"):
        parser.add_argument(
            f"--{facet}",
            action="append",
            metavar="NAME",
            help=f"only runs of this {facet} (exact, any case; repeatable)",
        )


def time_range_from(args: argparse.Namespace):
    """The ``--since/--until`` range (open when neither is given); ``ValueError`` if bad."""
    from ledger_core.timefilter import TimeRange

    return TimeRange.parse(getattr(args, "since", None), getattr(args, "until", None))


def filter_runs_by_args(runs: list, args: argparse.Namespace) -> tuple[list, bool]:
    """The runs that pass ``--since/--until`` and the facet flags, and whether any was given."""
    from ledger_core import facets, timefilter

    span = time_range_from(args)
    selected = {
        facet: getattr(args, facet, None) or []
        for facet in ("manifest", "company", "profile", "environment")
    }
    runs = timefilter.filter_runs(runs, span)
    runs = facets.filter_runs(runs, selected)
    return runs, span.active or any(selected.values())


def show_utc(args: argparse.Namespace) -> bool:
    """``--utc``: tables show UTC instead of the local zone (JSON is always UTC)."""
    return bool(getattr(args, "utc", False))
