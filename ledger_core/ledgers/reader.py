"""Read runs, steps and rollback attempts out of ledger files, and derive their state.

All reads go through ``access.snapshot`` (read-only in every sense of SPEC §6). Summaries are
built from one aggregate query per file, never from every step row, so listing thousands of
runs stays cheap; a whole run's steps are read only when asked for, and can be paged.
"""

from __future__ import annotations

import socket
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from .. import derive
from ..errors import AmbiguousRunId, RunNotFound, SourceError
from ..models import (
    Problem,
    RollbackAttempt,
    RunDetail,
    RunSummary,
    ScanResult,
    Step,
)
from ..sanitize import clean
from ..timeutil import to_epoch
from ..triage.resolutions import read_from_ledger, read_from_state
from .access import snapshot
from .scanner import raw_runs, read_raw, scan_files, summarize
from .schema import SCHEMA_VERSION
from .sources import Sources, ledger_files

RUN_COLUMNS = (
    "run_id",
    "manifest_path",
    "manifest_hash",
    "profile",
    "environment",
    "company",
    "state",
    "started_at",
    "finished_at",
)
STEP_COLUMNS = (
    "step_id",
    "run_id",
    "seq",
    "intent_ts",
    "method",
    "url",
    "body_hash",
    "outcome_ts",
    "status",
    "bc_correlation_id",
    "error_message",
    "rollback_url",
)


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


def check_ledger(conn: sqlite3.Connection, path: Path) -> set[str]:
    """Confirm the open database is a schema-v1 ledger; return its table names."""
    name = str(path)
    tables = _tables(conn)
    if not {"run", "step"} <= tables:
        from ..formats.registry import not_a_ledger_reason

        raise SourceError(name, "not_a_ledger", not_a_ledger_reason(tables))
    missing = (set(RUN_COLUMNS) - _columns(conn, "run")) | (
        set(STEP_COLUMNS) - _columns(conn, "step")
    )
    if missing:
        raise SourceError(
            name,
            "not_a_ledger",
            f"not a ledger: its run/step tables lack {', '.join(sorted(missing))}",
        )
    if "schema_version" not in tables:
        raise SourceError(name, "missing_schema", "no schema_version table: unknown ledger format")
    versions = [row[0] for row in conn.execute("SELECT version FROM schema_version")]
    if not versions:
        raise SourceError(name, "missing_schema", "schema_version table is empty")
    newest = (
        max(v for v in versions if isinstance(v, int))
        if any(isinstance(v, int) for v in versions)
        else None
    )
    if newest is None:
        raise SourceError(name, "missing_schema", f"unreadable schema version {versions[0]!r}")
    if newest > SCHEMA_VERSION:
        raise SourceError(
            name,
            "newer_schema",
            f"schema version {newest} is newer than this ledgerx understands "
            f"({SCHEMA_VERSION}); upgrade ledgerx",
        )
    if newest < SCHEMA_VERSION:
        raise SourceError(name, "missing_schema", f"unknown old schema version {newest}")
    return tables


def _text(value: object) -> str | None:
    """Coerce a stored value to text: ledgers written by hand hold odd types in TEXT columns."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _int(value: object) -> int | None:
    return value if isinstance(value, int) else None


def read_summaries(
    path: Path,
    *,
    now: float | None = None,
    stale_after: float = derive.DEFAULT_STALE_AFTER,
    timeout: float = 2.0,
) -> list[RunSummary]:
    """Every run in one ledger file, summarised and derived. Raises ``SourceError``."""
    moment = time.time() if now is None else now
    host = socket.gethostname()
    # One statement per file (tests/core/reference_summaries.py is the old seven-query path).
    path = Path(path)
    return [
        summarize(raw, str(path), now=moment, stale_after=stale_after, host=host)
        for raw in read_raw(path, timeout=timeout)
    ]


def sort_newest_first(runs: list[RunSummary]) -> list[RunSummary]:
    """Newest start first; runs with no parseable start go last, then by id for stability."""
    return sorted(runs, key=lambda r: (-(to_epoch(r.started_at) or float("-inf")), r.run_id))


def scan(
    sources: Sources,
    *,
    now: float | None = None,
    stale_after: float = derive.DEFAULT_STALE_AFTER,
    timeout: float = 2.0,
) -> ScanResult:
    """Read every ledger file in the sources; unusable files become ``problems``."""
    result = ScanResult()
    files, errors = ledger_files(sources)
    for directory, reason in errors:
        result.problems.append(Problem(str(directory), "missing", reason))
    # scanner: the same summaries as read_summaries, via a summary cache and parallel reads.
    runs, problems, files_ok = scan_files(files, now=now, stale_after=stale_after, timeout=timeout)
    result.runs.extend(runs)
    result.problems.extend(problems)
    result.files_ok.extend(files_ok)
    result.runs = sort_newest_first(result.runs)
    return result


def run_ref(run: RunSummary) -> str:
    """How a run is named when its id alone is ambiguous: ``FILE:RUN``."""
    return f"{run.source}:{run.run_id}"


def _file_matches(run: RunSummary, file: str) -> bool:
    source = run.source
    if file in (source, Path(source).name):
        return True
    try:
        return Path(file).expanduser().resolve() == Path(source).resolve()
    except (OSError, RuntimeError, ValueError):
        return False


def _by_file(runs: list[RunSummary], ref: str) -> list[RunSummary]:
    """Runs named ``FILE:RUN`` (FILE: the source path, its name, or the same file; RUN: an id
    or a prefix). Ids may hold colons too, so every colon is tried as the separator."""
    found: list[RunSummary] = []
    for i, char in enumerate(ref):
        if char != ":":
            continue
        file, prefix = ref[:i], ref[i + 1 :]
        if not file:
            continue
        candidates = [r for r in runs if _file_matches(r, file)]
        exact = [r for r in candidates if r.run_id == prefix]
        hits = exact or [r for r in candidates if r.run_id.startswith(prefix)]
        found.extend(r for r in hits if r not in found)
    return found


def resolve_run(runs: Iterable[RunSummary], ref: str) -> RunSummary:
    """The one run whose id equals ``ref`` or starts with it, or that ``FILE:RUN`` names
    (the same run id in two files). Raises ``RunNotFound`` or ``AmbiguousRunId`` (listing the
    candidates as ``FILE:RUN``)."""
    runs = list(runs)
    exact = [r for r in runs if r.run_id == ref]
    # A run table without a PRIMARY KEY may repeat a run row: one run id in one file is one
    # run (its rows are read by that id), however many times it is listed.
    if len({(r.run_id, r.source) for r in exact}) == 1:
        return exact[0]
    matches = exact or [r for r in runs if ref and r.run_id.startswith(ref)]
    if not matches and ":" in ref:
        matches = _by_file(runs, ref)
    if len({(r.run_id, r.source) for r in matches}) == 1:
        return matches[0]
    if not matches:
        raise RunNotFound(f"no run matches {ref!r}")
    if len(matches) > 1:
        ids = sorted({run_ref(r) for r in matches})
        raise AmbiguousRunId(
            f"{ref!r} matches {len(matches)} runs: {', '.join(ids[:5])}"
            + (" …" if len(ids) > 5 else "")
            + " (name one as FILE:RUN)",
            [r.run_id for r in matches],
        )
    return matches[0]


def _step_from_row(row: tuple) -> Step:
    step_id, seq, intent_ts, method, url, body_hash, outcome_ts, raw_status, corr, error, rb = row
    intent_ts, outcome_ts, status = _text(intent_ts), _text(outcome_ts), _text(raw_status)
    # STEP_STATUS_SQL never matches a BLOB status against the known words; neither do we, so
    # a run's counts (SQL) and its step rows (Python) always agree.
    derived = "unknown" if isinstance(raw_status, bytes) else derive.step_status(status, outcome_ts)
    return Step(
        # Not int(): a step table made without INTEGER PRIMARY KEY holds NULL, text, REAL or
        # BLOB ids. None says "no usable id"; step_id_problem names the stored value.
        step_id=_int(step_id),
        seq=_int(seq),
        method=_text(method),
        url=_text(url),
        body_hash=_text(body_hash),
        intent_ts=intent_ts,
        outcome_ts=outcome_ts,
        status=status,
        derived_status=derived,
        latency_ms=derive.latency_ms(intent_ts, outcome_ts),
        bc_correlation_id=_text(corr),
        error_message=_text(error),
        rollback_url=_text(rb),
    )


def _stored(value: object) -> str:
    """A stored SQLite value described for a sentence: its type and (cut, escaped) text."""
    if value is None:
        return "NULL"
    if isinstance(value, bytes):
        return f"a {len(value)}-byte BLOB"
    if isinstance(value, float):
        return f"the REAL {value!r}"
    if isinstance(value, str):
        return f"the text '{clean(value, 40)}'"
    return str(value)


def step_id_problem(ids: Iterable[tuple[object, object]], *, stored: bool = True) -> str | None:
    """Why a run's steps cannot be told apart by ``step_id``, or ``None`` when they can.

    ``ids`` holds (step_id, seq) per step: the stored values (``stored=True``), or those of
    ``Step`` objects, where ``None`` stands for "not an integer". Rollback records attempts and
    updates steps by ``step_id``: a NULL, non-integer or repeated id (a ``step`` table created
    without INTEGER PRIMARY KEY) would attach an outcome to the wrong row.
    """
    seen: dict[int, object] = {}
    for step_id, seq in ids:
        where = f"the step with seq {clean(seq, 20) if seq is not None else 'NULL'}"
        if not isinstance(step_id, int):
            what = f"holds {_stored(step_id)}, not an integer id" if stored else "has no integer id"
            return (
                f"table step, column step_id: {where} {what}, so this run's steps cannot be "
                "told apart (a step table without INTEGER PRIMARY KEY?); ledgerx shows this run "
                "but will not roll it back."
            )
        if step_id in seen:
            first = seen[step_id]
            return (
                f"table step, column step_id: the steps with seq "
                f"{clean(first, 20) if first is not None else 'NULL'} and "
                f"{clean(seq, 20) if seq is not None else 'NULL'} share step_id {step_id} (a "
                "step table without INTEGER PRIMARY KEY?), so their rollback records cannot be "
                "told apart; ledgerx shows this run but will not roll it back."
            )
        seen[step_id] = seq
    return None


_STEP_SELECT = (
    "SELECT step_id, seq, intent_ts, method, url, body_hash, outcome_ts, status, "
    "bc_correlation_id, error_message, rollback_url FROM step WHERE run_id = ?"
)


_ATTEMPT_COLUMNS = frozenset(
    {"attempt_id", "run_id", "step_id", "method", "url", "intent_ts", "outcome_ts"}
    | {"http_status", "result", "error_message", "pid", "host"}
)


def _attempts(
    conn: sqlite3.Connection, tables: set[str], run_id: str, path: Path | str = "?"
) -> list[RollbackAttempt]:
    if "rollback_attempt" not in tables:
        return []
    missing = _ATTEMPT_COLUMNS - _columns(conn, "rollback_attempt")
    if missing:
        # Not ledgerx's table, though it bears its name: its rollback records cannot be read,
        # so neither can the run's rollback history (nor may a rollback write into it).
        raise SourceError(
            str(path),
            "bad_rows",
            "table rollback_attempt is not ledgerx's (it lacks "
            f"{', '.join(sorted(missing))}): the run's rollback history cannot be read, so "
            "ledgerx does not open or roll back its runs.",
        )
    rows = conn.execute(
        "SELECT attempt_id, step_id, method, url, intent_ts, outcome_ts, http_status, result, "
        "error_message, pid, host FROM rollback_attempt WHERE run_id = ? ORDER BY attempt_id",
        (run_id,),
    )
    # Ids stay None unless they are integers: attempts are shown and fingerprinted, never
    # updated by a stored id (the executor updates the row it has just inserted).
    return [
        RollbackAttempt(
            _int(a),
            _int(s),
            _text(m) or "",
            _text(u) or "",
            _text(i) or "",
            _text(o),
            _int(h),
            _text(r),
            _text(e),
            _int(p),
            _text(ho),
        )
        for a, s, m, u, i, o, h, r, e, p, ho in rows
    ]


def _not_found(conn: sqlite3.Connection, path: Path, run_id: str) -> str:
    """Why ``run_id`` was not found: absent, or listed from a run_id stored as a number."""
    row = conn.execute(
        "SELECT typeof(run_id) FROM run WHERE typeof(run_id) IN ('integer', 'real') "
        "AND CAST(run_id AS TEXT) = ? LIMIT 1",
        (run_id,),
    ).fetchone()
    if row is None:
        return f"no run {run_id!r} in {path}"
    return (
        f"table run, column run_id: run {clean(run_id, 60)} in {path} is stored as "
        f"{row[0].upper()}, not text; ledgerx reads a run's rows by its text id, so this one "
        "is listed but cannot be opened or rolled back."
    )


def read_run(
    path: Path,
    run_id: str,
    *,
    now: float | None = None,
    stale_after: float = derive.DEFAULT_STALE_AFTER,
    timeout: float = 2.0,
) -> RunDetail:
    """One run with every step (in ``seq`` order) and its rollback attempts, in one snapshot."""
    moment = time.time() if now is None else now
    host = socket.gethostname()
    path = Path(path)

    def read(conn: sqlite3.Connection) -> RunDetail:
        # The scanner reads only this run's rows (the same summary a whole-file read gives).
        summaries = [
            summarize(raw, str(path), now=moment, stale_after=stale_after, host=host)
            for raw in raw_runs(conn, path, run_id)
        ]
        if not summaries:
            raise RunNotFound(_not_found(conn, path, run_id))
        if len(summaries) > 1:
            # Which row holds the run's profile and stamp? Guessing could roll back under the
            # wrong profile, so the run is listed but not opened.
            raise SourceError(
                str(path),
                "bad_rows",
                f"table run, column run_id: run {clean(run_id, 60)} has {len(summaries)} rows "
                "(a run table without PRIMARY KEY, or ids stored as text and as BLOB); ledgerx "
                "cannot tell which is the run, so it does not open or roll it back.",
            )
        if summaries[0].format != "bcli":
            return RunDetail(
                summaries[0],
                tuple(_foreign_steps(conn, path, run_id)),
                resolutions=tuple(read_from_state(path, run_id)),
            )
        rows = conn.execute(_STEP_SELECT + " ORDER BY seq, step_id", (run_id,)).fetchall()
        steps = tuple(_step_from_row(row) for row in rows)
        summary = summaries[0]
        if len(rows) != summary.counts.total:
            # Some of the run's step rows cannot be read by its id (ids stored as BLOB or with
            # another type): a plan made from the rest would call committed POSTs "nothing to
            # undo". Listed, but not opened or rolled back.
            raise SourceError(
                str(path),
                "bad_rows",
                f"table step, column run_id: run {clean(run_id, 60)} counts "
                f"{summary.counts.total} step(s) but only {len(rows)} can be read by its id "
                "(ids stored as BLOB or another type); ledgerx does not open or roll back a run "
                "it cannot read whole.",
            )
        problem = step_id_problem((row[0], row[1]) for row in rows)
        if problem is not None:
            summary = replace(summary, diagnosis=(*summary.diagnosis, problem))
        return RunDetail(
            summary,
            steps,
            tuple(_attempts(conn, _tables(conn), run_id, path)),
            tuple(read_from_ledger(conn, run_id)),
        )

    return snapshot(path, read, timeout=timeout)


def _foreign_steps(
    conn: sqlite3.Connection, path: Path, run_id: str, offset: int = 0, limit: int | None = None
) -> list[Step]:
    """A run's steps in a file of another format than the runner's (``formats``)."""
    from ..formats.registry import read_foreign_steps

    original = SourceError(str(path), "not_a_ledger", "not a runner ledger")
    return read_foreign_steps(conn, path, run_id, original, offset, limit)


def _is_runner(conn: sqlite3.Connection) -> bool:
    return {"run", "step"} <= _tables(conn)


def read_steps_page(
    path: Path, run_id: str, offset: int, limit: int, *, timeout: float = 2.0
) -> list[Step]:
    """Steps ``offset`` .. ``offset+limit`` of a run in ``seq`` order (for huge runs)."""
    sql = _STEP_SELECT + " ORDER BY seq, step_id LIMIT ? OFFSET ?"

    def read(c: sqlite3.Connection) -> list[Step]:
        if not _is_runner(c):
            return _foreign_steps(c, Path(path), run_id, offset, limit)
        return [_step_from_row(r) for r in c.execute(sql, (run_id, limit, offset))]

    return snapshot(Path(path), read, timeout=timeout)


def read_resolutions(path: Path, run_id: str, *, timeout: float = 2.0) -> list:
    """A run's resolutions (``resolutions.Resolution``, oldest first): from the ledger's own
    table for runner ledgers, from ledgerx's state file for the other formats."""
    path = Path(path)

    def read(c: sqlite3.Connection) -> list:
        return read_from_ledger(c, run_id) if _is_runner(c) else read_from_state(path, run_id)

    return snapshot(path, read, timeout=timeout)


def read_attempts(path: Path, run_id: str, *, timeout: float = 2.0) -> list[RollbackAttempt]:
    """Every rollback attempt recorded for a run (none in other formats: no rollback there)."""
    return snapshot(Path(path), lambda c: _attempts(c, _tables(c), run_id, path), timeout=timeout)


def load_run(
    sources: Sources,
    ref: str,
    *,
    now: float | None = None,
    stale_after: float = derive.DEFAULT_STALE_AFTER,
) -> RunDetail:
    """Find a run by id or unique prefix across the sources and read it whole."""
    summary = resolve_run(scan(sources, now=now, stale_after=stale_after).runs, ref)
    return read_run(Path(summary.source), summary.run_id, now=now, stale_after=stale_after)
