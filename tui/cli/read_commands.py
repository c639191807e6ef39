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
import sys
from collections.abc import Iterable

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ledger_core.access import snapshot
from ledger_core.derive import needs_attention
from ledger_core.errors import SourceError
from ledger_core.models import RunDetail, RunSummary
from ledger_core.reader import read_summaries, scan
from ledger_core.sanitize import clean
from ledger_core.schema import RUN_STATES
from ledger_core.sources import Sources, ledger_files
from ledger_core.timeutil import format_duration, parse_ts, to_epoch
from ledger_core.vocabulary import VERDICTS, parse_many

from ..widgets.safe import LIVENESS_STYLES, STATE_STYLES, VERDICT_STYLES
from .output import (
    emit_json,
    fail,
    load_detail,
    piped_width,
    sources_from,
    stale_after_seconds,
    warn,
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


def _console() -> Console:
    """A console that never interprets markup and stays plain when piped."""
    if sys.stdout.isatty():
        return Console(markup=False, highlight=False, emoji=False)
    # Piped: no colour or styling, and wide enough that a run stays on one line for grep.
    width = piped_width(1000)
    return Console(markup=False, highlight=False, emoji=False, width=width, color_system=None)


def _cell(value: object, limit: int | None = 200, style: str = "") -> Text:
    """Untrusted ``value`` as inert text: control characters escaped, cut to ``limit``."""
    return Text(clean(value, limit) if value is not None else "—", style=style)


def _state_cell(state: str | None, limit: int = 40) -> Text:
    return _cell(state, limit, _STATE_STYLES.get(state or "", ""))


def _verdict_cell(run: RunSummary) -> Text:
    verdict = run.verdict or run.state
    return _cell(verdict, 40, _VERDICT_STYLES.get(verdict, ""))


def _when(value: str | None) -> Text:
    """A ledger timestamp for people; odd values are shown as stored (escaped)."""
    parsed = parse_ts(value)
    if parsed is None:
        return _cell(value, 40)
    return Text(parsed.strftime("%Y-%m-%d %H:%M:%SZ"))


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


_RUN_COLUMNS = (
    # header, right-aligned
    ("VERDICT", False),
    ("RUN", False),
    ("FORMAT", False),
    ("STATE", False),
    ("LIVENESS", False),
    ("STEPS ok/fail/doubt", True),
    ("PROFILE", False),
    ("ENV", False),
    ("COMPANY", False),
    ("STARTED", False),
    ("DURATION", True),
)
_MIN_WIDTH = 8
_GAP = "  "


def _run_cells(run: RunSummary) -> list[Text]:
    state = _state_cell(run.state)
    if run.stamp_mismatch:
        state.append(" (stamped ")
        state.append_text(_cell(run.stamped_state, 40))
        state.append(")")
    c = run.counts
    return [
        _verdict_cell(run),
        _cell(run.run_id, 80),
        _cell(run.format, 20),
        state,
        _state_cell(run.liveness),
        Text(f"{c.committed}/{c.failed}/{c.in_doubt}  of {c.total}"),
        _cell(run.profile, 30),
        _cell(run.environment, 30),
        _cell(run.company, 30),
        _when(run.started_at),
        _duration(run),
    ]


def _runs_lines(runs: list[RunSummary], width: int) -> Text:
    """The runs as aligned columns, one line per run.

    Rich's ``Table`` measures every cell again on each render and takes seconds for 10,000
    runs; these columns are measured once, so ``list`` stays fast however many runs there are.
    """
    rows = [_run_cells(run) for run in runs]
    widths = [len(header) for header, _right in _RUN_COLUMNS]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], cell.cell_len)
    # On a narrow terminal, shrink the free-text columns first and the run id last (never
    # below a uuid's 36 characters); what still does not fit is cut at the screen's edge.
    excess = sum(widths) + len(_GAP) * (len(widths) - 1) - width
    for i in (8, 7, 6, 1):  # company, environment, profile, then the run id
        if excess <= 0:
            break
        floor = min(widths[i], 36) if i == 1 else _MIN_WIDTH
        cut = max(0, min(excess, widths[i] - floor))
        widths[i] -= cut
        excess -= cut

    def line(cells: list[Text]) -> Text:
        out = Text(no_wrap=True, overflow="ellipsis")
        for i, cell in enumerate(cells):
            cell = cell.copy()
            cell.truncate(widths[i], overflow="ellipsis")
            pad = " " * (widths[i] - cell.cell_len)
            if i:
                out.append(_GAP)
            if _RUN_COLUMNS[i][1]:
                out.append(pad)
                out.append_text(cell)
            else:
                out.append_text(cell)
                if i < len(cells) - 1:
                    out.append(pad)
        return out

    header = line([Text(h, style="bold") for h, _right in _RUN_COLUMNS])
    rule = Text("─" * min(width, sum(widths) + len(_GAP) * (len(widths) - 1)))
    return Text("\n").join([header, rule, *(line(row) for row in rows)])


def run_list(args: argparse.Namespace) -> int:
    """``ledgerx list``: runs newest first with derived state."""
    try:
        states = _parse_states(getattr(args, "state", None))
        verdicts = _parse_verdicts(getattr(args, "verdict", None))
    except ValueError as exc:
        fail(str(exc))
        return EXIT_USAGE
    limit = getattr(args, "limit", None)
    if limit is not None and limit < 0:
        fail("--limit must be zero or a positive number")
        return EXIT_USAGE
    wanted = _parse_formats(getattr(args, "ledger_format", None))
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
    filtered = (
        states is not None
        or verdicts is not None
        or wanted is not None
        or getattr(args, "attention", False)
    )
    if limit is not None:
        runs = runs[:limit]

    if getattr(args, "format", "table") == "json":
        emit_json([r.to_dict() for r in runs])
    else:
        console = _console()
        if runs:
            console.print(_runs_lines(runs, console.width), no_wrap=True, overflow="ellipsis")
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


# -- state ---------------------------------------------------------------------------------


def _fact_lines(detail: RunDetail) -> Text:
    run = detail.summary
    out = Text()

    def line(label: str, value: Text | str) -> None:
        out.append(f"{label:<14}", style="bold")
        out.append_text(value if isinstance(value, Text) else Text(value))
        out.append("\n")

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
    line("started", _when(run.started_at))
    line("finished", _when(run.finished_at))
    line("last activity", _when(run.last_activity))
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


def _steps_table(detail: RunDetail) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, title="Steps")
    for name, justify in (
        ("SEQ", "right"),
        ("METHOD", "left"),
        ("URL", "left"),
        ("INTENT", "left"),
        ("OUTCOME", "left"),
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
            _cell(step.url, 120),
            _when(step.intent_ts),
            _when(step.outcome_ts) if step.outcome_ts is not None else Text("— none —"),
            Text(format_duration(latency / 1000.0)) if latency is not None else Text("—"),
            status,
            _cell(step.bc_correlation_id, 60),
            _cell(step.error_message, 200),
            *([_extras_cell(step.extras)] if foreign else []),
        )
    return table


def _extras_cell(extras: tuple[tuple[str, str], ...]) -> Text:
    """A step's own words in its format (``kind=inline_comment upstream_id=…``), inert."""
    return _cell("  ".join(f"{k}={v}" for k, v in extras if k != "payload"), 300)


def _attempts_table(detail: RunDetail) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, title="Rollback attempts")
    for name in ("#", "STEP", "METHOD", "URL", "INTENT", "OUTCOME", "HTTP", "RESULT", "ERROR"):
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
            _when(a.intent_ts),
            _when(a.outcome_ts) if a.outcome_ts is not None else Text("— none —"),
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
    console = _console()
    console.print(_fact_lines(detail))
    sentences = detail.summary.sentences("cli")
    if sentences:
        diagnosis = Text("Diagnosis\n", style="bold")
        for sentence in sentences:
            diagnosis.append("  • ")
            diagnosis.append_text(_cell(sentence, 1000))
            diagnosis.append("\n")
        console.print(diagnosis)
    if detail.steps:
        console.print(_steps_table(detail))
    else:
        console.print(Text("No steps recorded."))
    if detail.attempts:
        console.print(_attempts_table(detail))
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
    console = _console()
    if not report:
        console.print(Text(f"No ledger files in {clean(sources.describe(), 500)}."))
        return code
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
    return code
