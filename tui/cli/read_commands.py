"""The read-side commands ``ledgerx list``, ``ledgerx state RUN`` and ``ledgerx doctor``.

Each returns an exit code (SPEC §4). Tables are for people, JSON for scripts: with
``--format json`` stdout holds exactly one JSON document and every warning goes to stderr,
naming the file. Untrusted ledger text reaches the terminal only as ``rich.text.Text`` built
from ``clean(value)``: never as markup, never with control bytes. Rich honours ``NO_COLOR``
and prints no styling at all when stdout is not a terminal.

Exit codes:

* ``list`` — 0; 2 for a bad ``--state``/``--verdict``/``--limit`` or when a named source
  (directory or ``--ledger`` file) does not exist. Unreadable files inside the sources are
  warnings: the other runs still list, and the exit code stays 0.
* ``state`` — 0; 2 when no run matches, the prefix is ambiguous, or the run's file cannot be
  read.
* ``doctor`` — reporting problems is its job, so it exits 0 even when files are corrupt,
  locked, foreign or need recovery; it exits 2 only when a named source does not exist at all
  (a typo in ``--ledger-dir`` must not look like a healthy, empty directory).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable

from rich import box
from rich.table import Table
from rich.text import Text

from ledger_core.derive import needs_attention
from ledger_core.errors import SourceError
from ledger_core.ledgers import RUN_STATES, Sources, ledger_files, read_summaries, scan, snapshot
from ledger_core.models import RunDetail, RunSummary
from ledger_core.sanitize import clean
from ledger_core.textfit import shorten_middle
from ledger_core.timeutil import format_duration, to_epoch
from ledger_core.triage import NONE_VALUE, Group, display_with_zone, group_runs, zone_label
from ledger_core.vocabulary import VERDICTS, parse_many

from ..widgets.group_heading import heading_text
from ..widgets.safe import LIVENESS_STYLES, STATE_STYLES, VERDICT_STYLES
from .columns_fit import Column, fit_columns
from .output import (
    RECORD_FORMATS,
    OutputClosed,
    emit_json,
    emit_json_groups,
    fail,
    filter_runs_by_args,
    group_facet_from,
    is_piped,
    load_detail,
    make_console,
    parse_fields,
    show_utc,
    sources_from,
    stale_after_seconds,
    time_range_from,
    warn,
    write_records,
)

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE = 0, 1, 2

# One palette for the CLI and the TUI (tui.widgets.safe imports Rich only, not Textual).
_STATE_STYLES = {**STATE_STYLES, **LIVENESS_STYLES, "finished": ""}
_VERDICT_STYLES = {**STATE_STYLES, **VERDICT_STYLES}

# doctor: a coarse status per ``SourceError.kind`` (the kind itself is kept in JSON).
_DOCTOR_STATUS = {
    "missing": "missing",
    "not_a_file": "not_a_ledger",
    "empty": "not_a_ledger",
    "not_sqlite": "not_a_ledger",
    "not_a_ledger": "not_a_ledger",
    "missing_schema": "not_a_ledger",
    "corrupt": "corrupt",
    "newer_schema": "newer_schema",
    "needs_recovery": "needs_recovery",
    "locked": "locked",
    "unreadable": "unreadable",
    "ambiguous": "ambiguous",
    "mapping_error": "mapping_error",
}


# -- shared helpers ------------------------------------------------------------------------


def _cell(value: object, limit: int | None = 200, style: str = "") -> Text:
    """Untrusted ``value`` as inert text: control characters escaped, cut to ``limit``."""
    return Text(clean(value, limit) if value is not None else "—", style=style)


def _state_cell(state: str | None, limit: int = 40) -> Text:
    return _cell(state, limit, _STATE_STYLES.get(state or "", ""))


def _verdict_cell(run: RunSummary) -> Text:
    verdict = run.verdict or run.state
    return _cell(verdict, 40, _VERDICT_STYLES.get(verdict, ""))


def _when(value: str | None, utc: bool = False, header: str | None = None) -> Text:
    """A ledger timestamp for people, in the local zone (or UTC) with the zone named unless
    ``header`` (a column's zone) already names it; odd values are shown as stored (escaped)."""
    shown = display_with_zone(value, utc=utc, header=header)
    if shown is None:
        return _cell(value, 40)
    return Text(shown)


def _duration(run: RunSummary) -> Text:
    start = to_epoch(run.started_at)
    end = to_epoch(run.finished_at) if run.finished_at is not None else None
    if start is None:
        return Text("—")
    if end is not None:
        return Text(format_duration(end - start))
    last = to_epoch(run.last_activity)
    # Unfinished: how long it has been going so far, marked as open-ended.
    return Text(format_duration(last - start) + "+") if last is not None else Text("—")


def _missing_sources(sources: Sources) -> list[str]:
    """Named sources that do not exist at all (directories or ``--ledger`` files)."""
    missing = [str(d) for d in sources.dirs if not d.is_dir()]
    missing += [str(f) for f in sources.files if not f.exists()]
    return missing


def _warn_problems(problems: Iterable) -> None:
    for problem in problems:
        warn(f"{problem.path}: {problem.reason}")


# -- list ----------------------------------------------------------------------------------


def _parse_states(values: list[str] | None) -> list[str] | None:
    """``--state`` values: the runner's states, by value or TUI label, any case."""
    try:
        return parse_many(values, RUN_STATES)
    except ValueError as exc:
        raise ValueError(f"--state: {exc}") from None


def _parse_verdicts(values: list[str] | None) -> list[str] | None:
    """``--verdict`` values: verdicts, by value or TUI label, any case."""
    try:
        return parse_many(values, VERDICTS)
    except ValueError as exc:
        raise ValueError(f"--verdict: {exc}") from None


def _parse_formats(values: list[str] | None) -> set[str] | None:
    """``--ledger-format`` values (repeatable, comma-separated); unknown names are kept: a
    mapped format may name them, and an unknown one simply matches nothing."""
    if not values:
        return None
    return {f.strip() for v in values for f in v.split(",") if f.strip()}


# Dropped whole at a narrow terminal, highest rank first (``columns_fit``): what matters at
# 3 a.m. is the verdict, the counts, when it started and which run.
_RUN_COLUMNS = (
    Column("VERDICT"),
    Column("RUN", shrink_to=12),
    Column("FORMAT", drop_rank=4),
    Column("STATE", drop_rank=2),
    Column("LIVENESS", drop_rank=1),
    Column("STEPS ok/fail/doubt", right=True),
    Column("PROFILE", drop_rank=5),
    Column("ENVIRONMENT", drop_rank=6),
    Column("COMPANY", drop_rank=7),
    Column("STARTED"),
    Column("DURATION", right=True, drop_rank=3),
)
_RUN_ID = 1
_GAP = "  "

# ``--format csv|tsv`` and ``--fields``: one flat record per run, full values.
LIST_FIELDS = (
    "run_id",
    "verdict",
    "state",
    "stamped_state",
    "liveness",
    "committed",
    "failed",
    "in_doubt",
    "unknown",
    "total",
    "started_at",
    "finished_at",
    "last_activity",
    "profile",
    "environment",
    "company",
    "format",
    "manifest_path",
    "source",
)


def run_record(run: RunSummary) -> dict[str, object]:
    """One run as a flat record for ``write_records`` (UTC ISO times, as stored)."""
    c = run.counts
    return {
        "run_id": run.run_id,
        "verdict": run.verdict or run.state,
        "state": run.state,
        "stamped_state": run.stamped_state,
        "liveness": run.liveness,
        "committed": c.committed,
        "failed": c.failed,
        "in_doubt": c.in_doubt,
        "unknown": c.unknown,
        "total": c.total,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "last_activity": run.last_activity,
        "profile": run.profile,
        "environment": run.environment,
        "company": run.company,
        "format": run.format,
        "manifest_path": run.manifest_path,
        "source": run.source,
    }


def _run_cells(run: RunSummary, utc: bool, zone: str, full: bool = False) -> list[Text]:
    """One run's cells; ``full`` (piped) keeps every value whole, for grep and cut."""
    limit = None if full else 60
    state = _state_cell(run.state)
    if run.stamp_mismatch:
        state.append(" (stamped ")
        state.append_text(_cell(run.stamped_state, 40))
        state.append(")")
    c = run.counts
    return [
        _verdict_cell(run),
        _cell(run.run_id, None),  # whole: shortened in its middle only if the column is narrow
        _cell(run.format, limit),
        state,
        _state_cell(run.liveness),
        Text(f"{c.committed}/{c.failed}/{c.doubtful}  of {c.total}"),
        _cell(run.profile, limit),
        _cell(run.environment, limit),
        _cell(run.company, limit),
        _when(run.started_at, utc, zone),
        _duration(run),
    ]


def _runs_lines(
    runs: list[RunSummary],
    width: int,
    utc: bool = False,
    headers: bool = True,
    full: bool = False,
    groups: list[Group] | None = None,
) -> Text:
    """The runs as aligned columns, one line per run, fitted to ``width`` (``columns_fit``).

    Rich's ``Table`` measures every cell again on each render and takes seconds for 10,000
    runs; these columns are measured once, so ``list`` stays fast however many runs there are.
    With ``groups`` (the same runs, grouped) each group is a section: a blank line, its heading
    (``heading_text``), its runs; the columns line up across sections.
    """
    zone = zone_label(utc=utc)
    names = [f"STARTED ({zone})" if c.header == "STARTED" else c.header for c in _RUN_COLUMNS]
    rows = [_run_cells(run, utc, zone, full) for run in runs]
    natural = [len(name) for name in names]
    for row in rows:
        for i, cell in enumerate(row):
            natural[i] = max(natural[i], cell.cell_len)
    widths = fit_columns(_RUN_COLUMNS, natural, width, len(_GAP))
    shown = [i for i, w in enumerate(widths) if w is not None]

    def line(cells: list[Text]) -> Text:
        out = Text(no_wrap=True, overflow="ellipsis")
        for n, i in enumerate(shown):
            w = widths[i] or 0
            cell = cells[i]
            if i == _RUN_ID and cell.cell_len > w:
                cell = Text(shorten_middle(cell.plain, w), style=cell.style)
            else:
                cell = cell.copy()
                cell.truncate(w, overflow="ellipsis")
            pad = " " * (w - cell.cell_len)
            if n:
                out.append(_GAP)
            if _RUN_COLUMNS[i].right:
                out.append(pad)
                out.append_text(cell)
            else:
                out.append_text(cell)
                if n < len(shown) - 1:
                    out.append(pad)
        return out

    lines = [line(row) for row in rows]
    if groups is not None:
        by_run = {id(run): text for run, text in zip(runs, lines, strict=True)}
        lines = []
        for group in groups:
            if lines or headers:
                lines.append(Text(""))
            heading = heading_text(group, value_limit=None if full else 120)
            heading.stylize("bold")
            lines.append(heading)
            lines += [by_run[id(run)] for run in group.runs]
    if headers:
        header = line([Text(name, style="bold") for name in names])
        used = sum(widths[i] or 0 for i in shown) + len(_GAP) * (len(shown) - 1)
        lines[:0] = [header, Text("─" * min(width, used))]
    return Text("\n").join(lines)


def run_list(args: argparse.Namespace) -> int:
    """``ledgerx list``: runs newest first with derived state."""
    try:
        states = _parse_states(getattr(args, "state", None))
        verdicts = _parse_verdicts(getattr(args, "verdict", None))
    except ValueError as exc:
        fail(str(exc))
        return EXIT_USAGE
    limit = getattr(args, "limit", None)
    if limit is not None and limit <= 0:  # as in search: 0 would print "No runs" over runs
        fail("--limit must be a positive number")
        return EXIT_USAGE
    field_text = getattr(args, "fields", None)
    if field_text is not None and getattr(args, "format", "table") not in RECORD_FORMATS:
        fail("--fields works with --format csv or tsv")
        return EXIT_USAGE
    try:
        fields = parse_fields(field_text, LIST_FIELDS)
    except ValueError as exc:
        fail(str(exc))
        return EXIT_USAGE
    wanted = _parse_formats(getattr(args, "ledger_format", None))
    try:
        time_range_from(args)  # a bad --since/--until is a usage error before anything is read
        group_by = group_facet_from(args)
    except ValueError as exc:
        fail(str(exc))
        return EXIT_USAGE
    sources = sources_from(args)
    result = scan(sources, stale_after=stale_after_seconds(args))
    _warn_problems(result.problems)
    runs = result.runs
    if states is not None:
        runs = [r for r in runs if r.state in states]
    if verdicts is not None:
        runs = [r for r in runs if r.verdict in verdicts]
    if getattr(args, "attention", False):
        runs = [r for r in runs if needs_attention(r)]
    if wanted is not None:
        runs = [r for r in runs if r.format in wanted]
    runs, narrowed = filter_runs_by_args(runs, args)
    filtered = (
        narrowed
        or states is not None
        or verdicts is not None
        or wanted is not None
        or getattr(args, "attention", False)
    )
    if limit is not None:
        runs = runs[:limit]
    groups = group_runs(runs, group_by) if group_by else None

    fmt = getattr(args, "format", "table")
    headers = not getattr(args, "no_headers", False)
    if fmt == "json":
        if groups is None:
            emit_json([r.to_dict() for r in runs])
        else:
            emit_json_groups([(g.to_dict(), [r.to_dict() for r in g.runs]) for g in groups])
    elif fmt in RECORD_FORMATS:
        if groups is None:
            write_records((run_record(r) for r in runs), fields, fmt, headers=headers)
        else:
            write_records(_grouped_records(groups), ["group", *fields], fmt, headers=headers)
    else:
        console = make_console()
        if runs:
            console.print(
                _runs_lines(
                    runs, console.width, show_utc(args), headers, full=is_piped(), groups=groups
                ),
                no_wrap=True,
                overflow="ellipsis",
            )
        else:
            what = "matching runs" if filtered else "runs"
            console.print(Text(f"No {what} in {clean(sources.describe(), 500)}."))
        if result.problems:
            console.print(
                Text(
                    f"{len(result.problems)} source(s) could not be read (see stderr; "
                    "`ledgerx doctor` explains)."
                )
            )
    return EXIT_USAGE if _missing_sources(sources) else EXIT_OK


def _grouped_records(groups: list[Group]):
    """csv/tsv rows of ``--group-by``: the group's value (empty for "(none)") leads each run."""
    for group in groups:
        value = group.value if group.value != NONE_VALUE else ""
        for run in group.runs:
            yield {"group": value, **run_record(run)}


# -- state ---------------------------------------------------------------------------------


def _fact_lines(detail: RunDetail, utc: bool = False) -> Table:
    run = detail.summary
    # A grid, so a long value wraps under itself (hanging indent), not under the labels.
    out = Table.grid(padding=(0, 1))
    out.add_column(style="bold", no_wrap=True, min_width=13)
    out.add_column(overflow="fold")

    def line(label: str, value: Text | str) -> None:
        out.add_row(Text(label), value if isinstance(value, Text) else Text(value))

    line("verdict", _verdict_cell(run))
    line("run", _cell(run.run_id, 200))
    line("source", _cell(run.source, 500))
    line("format", _cell(run.format, 60))
    state = _state_cell(run.state)
    if run.stamp_mismatch:
        state.append("  (stamped ")
        state.append_text(_cell(run.stamped_state, 40))
        state.append(" — the stamp is stale or wrong; the steps decide)")
    elif run.stamped_state is None:
        state.append("  (no state stamped)")
    line("state", state)
    live = _state_cell(run.liveness)
    if run.liveness_reason:
        live.append("  (")
        live.append_text(_cell(run.liveness_reason, 300))
        live.append(")")
    line("liveness", live)
    line("profile", _cell(run.profile, 100))
    line("environment", _cell(run.environment, 100))
    line("company", _cell(run.company, 100))
    line("manifest", _cell(run.manifest_path, 300))
    line("started", _when(run.started_at, utc))
    line("finished", _when(run.finished_at, utc))
    line("last activity", _when(run.last_activity, utc))
    c = run.counts
    line(
        "steps",
        f"{c.total} total: {c.committed} committed, {c.failed} failed, {c.in_doubt} in doubt, "
        f"{c.rolled_back} rolled back, {c.rollback_failed} rollback failed, "
        f"{c.skipped + c.rollback_skipped} skipped, {c.unknown} unknown",
    )
    if any(run.resolved):
        landed, not_landed, unknown = run.resolved
        line(
            "resolved",
            f"{landed} landed, {not_landed} did not land, {unknown} still unknown "
            "(by a person; see Resolutions)",
        )
    if run.writer is not None:
        w = run.writer
        line("writer", _cell(f"pid {w.pid} on {w.host}, heartbeat {w.heartbeat_at}", 200))
    for label, value in run.extras:  # the format's own words (a cr run's PR, consumer lag …)
        line(clean(label, 13), _cell(value, 300))
    return out


# Below this many columns the nine-column steps table would cut every cell ("commi…"), so
# each step is shown as a short block instead.
_STEPS_TABLE_WIDTH = 140


def _step_blocks(detail: RunDetail, utc: bool = False) -> Table:
    """The steps for a narrow terminal: one block per step, each value whole and labelled."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(justify="right", no_wrap=True)
    grid.add_column(overflow="fold")
    for step in detail.steps:
        latency = step.latency_ms
        head = Text()
        head.append_text(_cell(step.method, 12))
        head.append("  ")
        head.append_text(_state_cell(step.derived_status))
        if step.status is not None and step.status != step.derived_status:
            head.append(" (recorded ")
            head.append_text(_cell(step.status, 30))
            head.append(")")
        if latency is not None:
            head.append(f"  {format_duration(latency / 1000.0)}")
        body = Text()
        body.append_text(_cell(step.url))
        body.append("\nintent ")
        body.append_text(_when(step.intent_ts, utc))
        body.append("  outcome ")
        body.append_text(_when(step.outcome_ts, utc) if step.outcome_ts else Text("— none —"))
        if step.bc_correlation_id:
            body.append("\ncorrelation id ")
            body.append_text(_cell(step.bc_correlation_id))
        if step.error_message:
            body.append("\nerror ")
            body.append_text(_cell(step.error_message, 1000))
        if step.extras:
            body.append("\n")
            body.append_text(_extras_cell(step.extras))
        grid.add_row(Text(str(step.seq) if step.seq is not None else "?", style="bold"), head)
        grid.add_row(Text(""), body)
    return grid


def _steps_table(detail: RunDetail, utc: bool = False, full: bool = False) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, title="Steps")
    zone = zone_label(utc=utc)
    for name, justify in (
        ("SEQ", "right"),
        ("METHOD", "left"),
        ("URL", "left"),
        (f"INTENT ({zone})", "left"),
        (f"OUTCOME ({zone})", "left"),
        ("LATENCY", "right"),
        ("STATUS", "left"),
        ("CORRELATION ID", "left"),
        ("ERROR", "left"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    foreign = any(step.extras for step in detail.steps)
    if foreign:
        table.add_column("DETAILS", justify="left")
    for step in detail.steps:
        latency = step.latency_ms
        status = _state_cell(step.derived_status)
        if step.status is not None and step.status != step.derived_status:
            status.append(" (")
            status.append_text(_cell(step.status, 30))
            status.append(")")
        table.add_row(
            _cell(step.seq),
            _cell(step.method, 12),
            _cell(step.url, None if full else 120),
            _when(step.intent_ts, utc, zone),
            _when(step.outcome_ts, utc, zone) if step.outcome_ts is not None else Text("— none —"),
            Text(format_duration(latency / 1000.0)) if latency is not None else Text("—"),
            status,
            _cell(step.bc_correlation_id, None if full else 60),
            # Free text, whole in JSON: cut even when piped (a 1 MB error is no record).
            _cell(step.error_message, 2000 if full else 200),
            *([_extras_cell(step.extras)] if foreign else []),
        )
    return table


def _extras_cell(extras: tuple[tuple[str, str], ...]) -> Text:
    """A step's own words in its format (``kind=inline_comment upstream_id=…``), inert."""
    return _cell("  ".join(f"{k}={v}" for k, v in extras if k != "payload"), 300)


def _attempts_table(detail: RunDetail, utc: bool = False) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, title="Rollback attempts")
    zone = zone_label(utc=utc)
    headers = ("#", "STEP", "METHOD", "URL", f"INTENT ({zone})", f"OUTCOME ({zone})", "HTTP")
    for name in (*headers, "RESULT", "ERROR"):
        table.add_column(name)
    seq_of = {s.step_id: s.seq for s in detail.steps}
    for a in detail.attempts:
        result = _state_cell(a.result) if a.result is not None else Text("in doubt")
        # Ids that were not integers in the file are None: "?", and no step's seq.
        step = "?" if a.step_id is None else seq_of.get(a.step_id, f"id {a.step_id}")
        table.add_row(
            Text("?" if a.attempt_id is None else str(a.attempt_id)),
            _cell(step),
            _cell(a.method, 12),
            _cell(a.url, 120),
            _when(a.intent_ts, utc, zone),
            _when(a.outcome_ts, utc, zone) if a.outcome_ts is not None else Text("— none —"),
            _cell(a.http_status),
            result,
            _cell(a.error_message, 200),
        )
    return table


def run_state(args: argparse.Namespace) -> int:
    """``ledgerx state RUN``: one run's facts, diagnosis, steps and rollback attempts."""
    detail = load_detail(args)

    if getattr(args, "format", "table") == "json":
        emit_json(detail.to_dict())
        return EXIT_OK
    console = make_console()
    utc = show_utc(args)
    console.print(_fact_lines(detail, utc))
    sentences = detail.summary.sentences("cli")
    if sentences:
        console.print(Text("Diagnosis", style="bold"))
        diagnosis = Table.grid(padding=(0, 1))  # a wrapped sentence stays under its bullet
        diagnosis.add_column(no_wrap=True)
        diagnosis.add_column(overflow="fold")
        for sentence in sentences:
            diagnosis.add_row(Text("  •"), _cell(sentence, 1000))
        console.print(diagnosis)
        console.print()
    if detail.steps:
        if is_piped() or console.width >= _STEPS_TABLE_WIDTH:
            console.print(_steps_table(detail, utc, full=is_piped()))
        else:
            console.print(Text("Steps", style="bold"))
            console.print(_step_blocks(detail, utc))
    else:
        console.print(Text("No steps recorded."))
    if detail.attempts:
        console.print(_attempts_table(detail, utc))
    if detail.resolutions:
        console.print(_resolutions_table(detail))
    return EXIT_OK


def _resolutions_table(detail: RunDetail) -> Table:
    """The audit trail of in-doubt steps people resolved, oldest first (the newest per step
    is the one in force)."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, title="Resolutions")
    for name in ("#", "STEP", "FOUND", "URL", "WHO", "WHEN", "NOTE"):
        table.add_column(name)
    for r in detail.resolutions:
        table.add_row(
            Text("?" if r.resolution_id is None else str(r.resolution_id)),
            _cell(r.seq),
            _cell(r.words, 20),
            _cell(r.url, 120),
            _cell(r.who, 60),
            _when(r.resolved_at),
            _cell(r.note, 300),
        )
    return table


# -- doctor --------------------------------------------------------------------------------


def _check_sources(sources: Sources, stale_after: float) -> list[dict]:
    """One entry per candidate file (and per unlistable directory), in a stable order."""
    files, errors = ledger_files(sources)
    report: list[dict] = []
    for directory, reason in errors:
        report.append(
            {"path": str(directory), "status": "missing", "kind": "missing", "reason": reason}
            | {"runs": 0, "format": None, "version": None}
        )
    for path in files:
        try:
            runs = read_summaries(path, stale_after=stale_after)
            described = describe_file(path)
        except SourceError as exc:
            report.append(
                {
                    "path": str(path),
                    "status": _DOCTOR_STATUS.get(exc.kind, exc.kind),
                    "kind": exc.kind,
                    "reason": exc.reason,
                    "runs": 0,
                    "format": None,
                    "version": None,
                }
            )
        else:
            fmt, version = described["format"], described["version"]
            if fmt == "bcli":
                reason = f"schema-v{version} ledger, {len(runs)} run(s)"
            else:
                reason = f"{fmt} ledger (version {version}), {len(runs)} run(s)"
            for note in described["notes"]:
                reason += f"; {note}"
            report.append(
                {
                    "path": str(path),
                    "status": "ok",
                    "kind": "ok",
                    "reason": reason,
                    "runs": len(runs),
                    "format": fmt,
                    "version": version,
                }
            )
    return report


def describe_file(path) -> dict:
    """The format, version and notes of one readable ledger file (``formats.describe``)."""
    from ledger_core.formats import describe

    return snapshot(path, lambda conn: describe(conn, path))


def run_doctor(args: argparse.Namespace) -> int:
    """``ledgerx doctor``: every candidate file with its status and the reason."""
    sources = sources_from(args)
    report = _check_sources(sources, stale_after_seconds(args))
    # One meaning per code: 2 a source given that does not exist, 1 some file has a problem
    # (so `ledgerx doctor && …` stops on a sick ledger directory), 0 every file is fine.
    if _missing_sources(sources):
        code = EXIT_USAGE
    elif any(entry["status"] != "ok" for entry in report):
        code = EXIT_PROBLEMS
    else:
        code = EXIT_OK
    if getattr(args, "format", "table") == "json":
        emit_json(report)
        return code
    try:
        _print_doctor(report, sources)
    except OutputClosed:
        pass  # `doctor | head`: still 1 when a file has a problem, whatever was read of it
    return code


def _print_doctor(report: list[dict], sources: Sources) -> None:
    console = make_console()
    if not report:
        console.print(Text(f"No ledger files in {clean(sources.describe(), 500)}."))
        return
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("STATUS", no_wrap=True)
    table.add_column("FORMAT", no_wrap=True)
    table.add_column("FILE", overflow="fold")
    table.add_column("RUNS", justify="right")
    table.add_column("REASON")
    for entry in report:
        ok = entry["status"] == "ok"
        table.add_row(
            Text(entry["status"].replace("_", " "), style="green" if ok else "bold red"),
            _cell(entry["format"], 40),
            _cell(entry["path"], 500),
            Text(str(entry["runs"])),
            _cell(entry["reason"], 500),
        )
    console.print(table)
    bad = sum(1 for e in report if e["status"] != "ok")
    console.print(Text(f"{len(report) - bad} ok, {bad} with problems."))
