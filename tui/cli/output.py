"""Shared output helpers of the CLI: JSON to stdout only, messages to stderr, all sanitised.

Also the one console factory (``make_console``) every command prints through, so that a reader
that goes away (``| head``) ends the command quietly with exit 0, and the one record writer
(``write_records``) behind ``--format csv|tsv``, ``--fields`` and ``--no-headers``.
"""

from __future__ import annotations

import argparse
import csv
import functools
import json
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ledger_core.errors import RunNotFound
from ledger_core.ledgers import Sources
from ledger_core.sanitize import clean, redact_urls

if TYPE_CHECKING:  # Rich and the reader load when a command prints or reads, not at start-up
    from rich.console import Console
    from rich.segment import Segment

    from ledger_core.models import RunDetail


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


def emit_json_groups(groups: Sequence[tuple[Mapping[str, Any], list[Any]]]) -> None:
    """``list --group-by`` as JSON: ``[{"group": {...}, "runs": [...]}, ...]``, one group
    heading per line and, below it, one run per line (like ``emit_json``'s lists)."""
    items = [
        f'  {{"group": {json.dumps(group, ensure_ascii=True)}, "runs": {_dumps(runs, 1)}}}'
        for group, runs in groups
    ]
    text = "[\n" + ",\n".join(items) + "\n]" if items else "[]"
    sys.stdout.write(redact_urls(text) + "\n")


def sources_from(args: argparse.Namespace) -> Sources:
    return Sources.from_args(args.ledger_dir or (), args.ledger or ())


def stale_after_seconds(args: argparse.Namespace) -> float:
    from ledger_core.derive import DEFAULT_STALE_AFTER

    minutes = getattr(args, "stale_after", None)
    return DEFAULT_STALE_AFTER if minutes is None else minutes * 60.0


def load_detail(args: argparse.Namespace) -> RunDetail:
    """The run ``args.run`` names (id or unique prefix) in the sources, read whole.

    Raises ``RunNotFound`` naming the sources, and saying how many of them could not be read
    (the run may be in one of those), or ``AmbiguousRunId``.
    """
    from ledger_core.ledgers import read_run, resolve_run, scan

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


def add_group_by(parser: argparse.ArgumentParser) -> None:
    """``--group-by FACET``: one section per value (``ledger_core.triage.facets.group_runs``)."""
    from ledger_core.triage import GROUP_FACETS

    parser.add_argument(
        "--group-by",
        metavar="FACET",
        help=f"one section per value of FACET ({', '.join(GROUP_FACETS)}), most runs needing "
        "attention first; json: one object per group, csv/tsv: a leading group column",
    )


def group_facet_from(args: argparse.Namespace) -> str | None:
    """The ``--group-by`` facet, or ``None``; ``ValueError`` naming the facets if unknown."""
    from ledger_core.triage import parse_group_facet

    text = getattr(args, "group_by", None)
    return None if text is None else parse_group_facet(text)


def time_range_from(args: argparse.Namespace):
    """The ``--since/--until`` range (open when neither is given); ``ValueError`` if bad."""
    from ledger_core.triage import TimeRange

    return TimeRange.parse(getattr(args, "since", None), getattr(args, "until", None))


def filter_runs_by_args(runs: list, args: argparse.Namespace) -> tuple[list, bool]:
    """The runs that pass ``--since/--until`` and the facet flags, and whether any was given."""
    from ledger_core.triage import facets, timefilter

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


# -- consoles ------------------------------------------------------------------------------

# Piped output is for grep, cut and awk: one record per line, never wrapped, whatever $COLUMNS
# says (a wrapped URL or GUID cannot be matched or copied whole).
PIPED_WIDTH = 100_000


class OutputClosed(Exception):
    """The reader of stdout went away (``| head``): the output ends, quietly. ``main`` exits 0;
    a command whose exit code means something (``doctor``) catches it and keeps its code."""


@functools.cache
def _quiet_console_class() -> type[Console]:
    from rich.console import Console

    class _QuietConsole(Console):
        """A Rich console whose reader may leave: a broken pipe is the end of the output, not
        an error (Rich's own ``on_broken_pipe`` exits 1, which ``state X | head`` would
        report)."""

        def on_broken_pipe(self) -> None:
            self.quiet = True
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.file.fileno())
            raise OutputClosed

    return _QuietConsole


@functools.cache
def _piped_console_class() -> type[Console]:
    class _PipedConsole(_quiet_console_class()):  # type: ignore[misc]
        """Piped output is plain text for programs and files: no colour, and no line ends
        padded with spaces to the widest table row (``state X > ticket.txt`` was full of them)."""

        def _render_buffer(self, buffer: Iterable[Segment]) -> str:
            rendered = super()._render_buffer(buffer)
            return "\n".join(line.rstrip(" ") for line in rendered.split("\n"))

    return _PipedConsole


def make_console(stderr: bool = False) -> Console:
    """The console every CLI command prints through: markup never interpreted, no emoji codes;
    on a terminal it fits the terminal, piped it is plain and as wide as a record needs."""
    stream = sys.stderr if stderr else sys.stdout
    common: dict[str, Any] = {"file": stream, "markup": False, "highlight": False, "emoji": False}
    quiet_console = _quiet_console_class()
    if stream.isatty():
        return quiet_console(**common)
    return _piped_console_class()(**common, width=PIPED_WIDTH, color_system=None)


def is_piped() -> bool:
    """Whether stdout goes to a program or a file rather than a person's terminal."""
    return not sys.stdout.isatty()


# -- records: --format csv|tsv, --fields, --no-headers ---------------------------------------

RECORD_FORMATS = ("csv", "tsv")
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection); in CSV
# such a cell gets a leading apostrophe, which spreadsheets show as text. TSV is for cut/awk
# and keeps the value exactly.
_FORMULA_START = ("=", "+", "-", "@")


def parse_fields(text: str | None, known: Sequence[str]) -> list[str]:
    """``--fields a,b,c`` checked against ``known`` (any case); ``None`` means all of them.

    Raises ``ValueError`` naming the unknown fields and the known ones.
    """
    if text is None:
        return list(known)
    wanted = [f.strip().lower() for f in text.split(",") if f.strip()]
    unknown = [f for f in wanted if f not in known]
    if unknown or not wanted:
        what = ", ".join(unknown) if unknown else "(none given)"
        raise ValueError(f"--fields: unknown field {what}; known fields: {', '.join(known)}")
    return wanted


def _record_value(value: object, fmt: str) -> str:
    """One full value, inert: control characters (tab and newline included) become visible
    escapes, so a record stays one line and a TSV column stays one column."""
    if value is None:
        return ""
    text = ("true" if value else "false") if isinstance(value, bool) else clean(value, None)
    if fmt == "csv" and text.startswith(_FORMULA_START):
        text = "'" + text
    return text


def write_records(
    rows: Iterable[Mapping[str, object]],
    fields: Sequence[str],
    fmt: str,
    *,
    headers: bool = True,
    stream: TextIO | None = None,
) -> None:
    """Write ``rows`` as CSV or TSV on ``stream`` (stdout): one record per line, the columns
    ``fields`` in that order, full values (never cut), a header line unless ``headers`` is
    false. A reader that goes away (``| head``) ends the output quietly.
    """
    out = stream if stream is not None else sys.stdout
    if fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        write = writer.writerow
    elif fmt == "tsv":

        def write(values: Sequence[str]) -> None:
            out.write("\t".join(values) + "\n")

    else:
        raise ValueError(f"unknown record format {fmt!r}")
    try:
        if headers:
            write(list(fields))
        for row in rows:
            write([_record_value(row.get(field), fmt) for field in fields])
        out.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())
