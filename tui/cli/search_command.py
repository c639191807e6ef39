"""``ledgerx search TEXT``: which runs and steps hold a URL fragment, an error word, an id, a date.

Matches run fields (id, manifest, profile, environment, company, stamped state, start) and step
fields (URL, error, correlation id, body hash, rollback URL, status, method, intent time; for
other formats their step text) through ``ledger_core.triage.search_index``: substring, any case, the
user's text taken literally. One record per line, never wrapped, so ``grep``/``cut`` work.

Exit codes: 0 with matches and 0 with none (a sentence on stderr says so, stdout stays empty in
table mode and holds ``[]`` in JSON mode: "nothing found" is an answer, not an error); 2 for a
usage error (empty TEXT, a bad ``--limit`` or ``--since``, a named source that does not exist).
``--since``/``--until`` and the facet flags keep the matches of runs that pass them, as in
``list``.
"""

from __future__ import annotations

import argparse
import shutil
import sys

from ledger_core.sanitize import clean
from ledger_core.triage import (
    Hit,
    default_index_path,
    file_names,
    narrow_hits,
    open_default_index,
    search_files,
)

from .output import emit_json, fail, filter_runs_by_args, sources_from, time_range_from, warn

EXIT_OK, EXIT_USAGE = 0, 2
DEFAULT_LIMIT = 50
_HEADERS = ("RUN", "SEQ", "METHOD", "FIELD", "VALUE")


def _ref(hit: Hit, ambiguous: set[str]) -> str:
    return f"{hit.source}:{hit.run_id}" if hit.run_id in ambiguous else hit.run_id


def _lines(hits: list[Hit], ambiguous: set[str], width: int | None) -> list[str]:
    """Aligned columns, one match per line; cut at ``width`` on a terminal, never when piped."""
    rows = [
        (
            clean(_ref(hit, ambiguous), 300),
            "" if hit.seq is None else str(hit.seq),
            clean(hit.method or "", 12) if hit.seq is not None or hit.step_id is not None else "",
            clean(hit.field, 40),
            clean(hit.value, 1000),
        )
        for hit in hits
    ]
    rows.insert(0, _HEADERS)
    widths = [max(len(row[i]) for row in rows) for i in range(len(_HEADERS) - 1)]
    out = []
    for row in rows:
        line = "  ".join([*(c.ljust(widths[i]) for i, c in enumerate(row[:-1])), row[-1]])
        if width is not None and len(line) > width:
            line = line[: max(1, width - 1)] + "…"
        out.append(line)
    return out


def _narrowing(args: argparse.Namespace) -> str:
    """``started since 2h, company 'CRONUS USA, Inc.'``: the filters, said back."""
    parts = []
    span = time_range_from(args).describe()
    if span:
        parts.append(f"started {span}")
    for facet in ("manifest", "company", "profile", "environment"):
        for value in getattr(args, facet, None) or ():
            parts.append(f"{facet} {clean(value, 100)!r}")
    return ", ".join(parts)


def run_search(args: argparse.Namespace) -> int:
    text = args.text
    if not text:  # a space, or a no-break space in a company name, is something to look for
        fail("search: TEXT must not be empty")
        return EXIT_USAGE
    limit = args.limit if args.limit is not None else DEFAULT_LIMIT
    if limit <= 0:
        fail("--limit must be a positive number")
        return EXIT_USAGE
    sources = sources_from(args)
    missing = [str(d) for d in sources.dirs if not d.is_dir()]
    missing += [str(f) for f in sources.files if not f.exists()]
    if missing:
        fail(f"no such source: {', '.join(missing)}")
        return EXIT_USAGE
    try:
        narrowed = time_range_from(args).active or any(
            getattr(args, facet, None)
            for facet in ("manifest", "company", "profile", "environment")
        )
    except ValueError as exc:
        fail(str(exc))
        return EXIT_USAGE
    files = file_names(sources.dirs, sources.files)
    # Only read for other formats' run summaries; ``None`` is their default, and leaves the
    # verdict rules unloaded on the common path.
    stale_after = None if args.stale_after is None else args.stale_after * 60.0
    index = open_default_index()
    # Narrowed by the runs' start or facets: every match first, then the limit.
    result = search_files(
        files, text, limit=None if narrowed else limit, stale_after=stale_after, index=index
    )
    if narrowed:
        hits = narrow_hits(
            index,
            result.hits,
            lambda runs: filter_runs_by_args(runs, args)[0],
            pending=result.pending,
        )
        result.truncated = len(hits) > limit
        result.hits = hits[:limit]
    for note in result.notes:
        warn(note)
    for path, reason in result.problems:
        warn(f"{path}: {reason} (not searched)")
    if result.stale:
        warn(
            "the search index could not be updated (another ledgerx holds it); results may be stale"
        )
    wanted = set(files)
    ambiguous = {
        run_id
        for run_id, paths in index.files_of_runs(h.run_id for h in result.hits).items()
        if len(paths & wanted) > 1
    }
    if args.format == "json":
        emit_json(
            [{"ref": _ref(hit, ambiguous), **hit.to_dict()} for hit in result.hits],
        )
    elif result.hits:
        width = shutil.get_terminal_size().columns if sys.stdout.isatty() else None
        sys.stdout.write("\n".join(_lines(result.hits, ambiguous, width)) + "\n")
    if result.truncated:
        warn(f"showing the first {limit} matches; --limit N shows more")
    if not result.hits:
        where = default_index_path()
        print(
            f"ledgerx: no run or step matches {clean(text, 200)!r} in "
            f"{clean(sources.describe(), 300)}"
            + (f" among the runs {_narrowing(args)}" if narrowed else "")
            + ("" if where is not None else " (search index in memory: LEDGERX_CACHE_DIR=off)"),
            file=sys.stderr,
        )
    return EXIT_OK
