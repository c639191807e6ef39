"""The plain, independent reference the fast scanner is checked against: the old seven-query path.

This is how ``ledger_core.ledgers.reader`` summarised a ledger before
``ledger_core.ledgers.scanner`` existed: ``check_ledger`` (four statements), then one query for
writers, one for notable steps and one aggregate per run, with Python glue that favours clarity
over speed. Production code no longer calls it; it lives here so ``tests/core/test_scanner.py``
can hold the scanner's single-statement, cached, parallel reads to exactly the summaries this
straightforward version derives.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ledger_core import derive
from ledger_core.ledgers import holders
from ledger_core.ledgers.reader import RUN_COLUMNS, check_ledger
from ledger_core.ledgers.schema import STEP_STATUS_SQL
from ledger_core.models import RunSummary, StepCounts, WriterInfo
from ledger_core.timeutil import to_epoch

DOUBT_LIMIT = 5  # per run: diagnosis names at most this many doubtful steps

SUMMARY_SQL = f"""
SELECT {", ".join("r." + c for c in RUN_COLUMNS)},
       a.committed, a.failed, a.in_doubt, a.rolled_back, a.rollback_skipped,
       a.rollback_failed, a.skipped, a.unknown, a.last_intent, a.last_outcome, a.last_seq
FROM run AS r LEFT JOIN (
  SELECT run_id,
         SUM(ds = 'committed') AS committed, SUM(ds = 'failed') AS failed,
         SUM(ds = 'in_doubt') AS in_doubt, SUM(ds = 'rolled_back') AS rolled_back,
         SUM(ds = 'rollback_skipped') AS rollback_skipped,
         SUM(ds = 'rollback_failed') AS rollback_failed, SUM(ds = 'skipped') AS skipped,
         SUM(ds = 'unknown') AS unknown,
         MAX(intent_ts) AS last_intent, MAX(outcome_ts) AS last_outcome, MAX(seq) AS last_seq
  FROM (SELECT run_id, intent_ts, outcome_ts, seq, {STEP_STATUS_SQL} AS ds FROM step)
  GROUP BY run_id
) AS a ON a.run_id = r.run_id
"""

NOTABLE_SQL = f"""
SELECT run_id, seq, method, url, ds, bc_correlation_id, error_message FROM (
  SELECT run_id, seq, method, url, bc_correlation_id, error_message, ds,
         ROW_NUMBER() OVER (PARTITION BY run_id, ds = 'failed' ORDER BY seq, step_id) AS n
  FROM (SELECT *, {STEP_STATUS_SQL} AS ds FROM step)
  WHERE ds IN ('in_doubt', 'unknown', 'failed')
) WHERE (ds = 'failed' AND n = 1) OR (ds != 'failed' AND n <= {DOUBT_LIMIT})
ORDER BY run_id, seq
"""


def _text(value: object) -> str | None:
    """Coerce a stored value to text: ledgers written by hand hold odd types in TEXT columns."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _int(value: object) -> int | None:
    return value if isinstance(value, int) else None


def writers(conn: sqlite3.Connection, tables: set[str]) -> dict[str, WriterInfo]:
    """Each run's writer row; rows are read in ``started_at`` order, so the last one wins."""
    if "writer" not in tables:
        return {}
    out: dict[str, WriterInfo] = {}
    rows = conn.execute(
        "SELECT run_id, pid, host, proc_start, started_at, heartbeat_at, closed_at FROM writer "
        "ORDER BY started_at"
    )
    for run_id, pid, host, proc_start, started_at, heartbeat, closed in rows:
        if isinstance(pid, int):
            out[_text(run_id) or ""] = WriterInfo(
                pid,
                _text(host) or "",
                _text(proc_start),
                _text(started_at),
                _text(heartbeat),
                _text(closed),
            )
    return out


def rollback_attempts_in_doubt(conn: sqlite3.Connection, tables: set[str]) -> dict[str, int]:
    """Per run: rollback attempts with no outcome whose step is not rolled back since."""
    if "rollback_attempt" not in tables:
        return {}
    out: dict[str, int] = {}
    attempts = conn.execute("SELECT run_id, step_id FROM rollback_attempt WHERE outcome_ts IS NULL")
    for run_id, step_id in attempts.fetchall():
        statuses = [
            r[0] for r in conn.execute("SELECT status FROM step WHERE step_id = ?", (step_id,))
        ]
        if "rolled_back" not in statuses:
            key = _text(run_id) or ""
            out[key] = out.get(key, 0) + 1
    return out


def latest(*values: str | None) -> str | None:
    """The latest parseable timestamp of ``values``, parsing every one (no fast path)."""
    best, best_epoch = None, None
    for value in values:
        epoch = to_epoch(value)
        if epoch is not None and (best_epoch is None or epoch > best_epoch):
            best, best_epoch = value, epoch
    return best


def summaries(
    conn: sqlite3.Connection, path: Path, now: float, stale_after: float, host: str
) -> list[RunSummary]:
    """Every run in the open ledger, summarised and derived. Raises ``SourceError``."""
    tables = check_ledger(conn, path)
    writer_of = writers(conn, tables)
    rollback_doubt = rollback_attempts_in_doubt(conn, tables)
    notable: dict[str, list[derive.StepBrief]] = {}
    failures: dict[str, derive.StepBrief] = {}
    for run_id, seq, method, url, ds, corr, error in conn.execute(NOTABLE_SQL):
        brief = derive.StepBrief(
            _int(seq), _text(method), _text(url), ds, _text(corr), _text(error)
        )
        if ds == "failed":
            failures[_text(run_id) or ""] = brief
        else:
            notable.setdefault(_text(run_id) or "", []).append(brief)
    out = []
    for row in conn.execute(SUMMARY_SQL):
        run = [_text(v) for v in row[:9]]
        run_id = run[0] or ""
        counts = StepCounts(*(int(v or 0) for v in row[9:17]))
        writer = writer_of.get(run_id)
        last_activity = latest(
            run[7], _text(row[17]), _text(row[18]), writer.heartbeat_at if writer else None
        )
        finished = run[8] is not None and run[6] is not None
        state = derive.run_state(run[6], run[8], counts)
        hold = None if finished else holders.check(str(path))
        live, reason = derive.judge_liveness(
            finished=finished,
            writer=writer,
            last_activity=last_activity,
            now=now,
            stale_after=stale_after,
            this_host=host,
            hold=hold,
        )
        reason = "" if finished else reason
        rb_doubt = rollback_doubt.get(run_id, 0)
        diagnosis = derive.diagnose(
            state=state,
            stamped=run[6],
            finished_at=run[8],
            counts=counts,
            liveness_value=live,
            writer=writer,
            last_activity=last_activity,
            doubtful=notable.get(run_id, ()),
            first_failure=failures.get(run_id),
            now=now,
            stale_after=stale_after,
            last_seq=_int(row[19]),
            liveness_reason=reason,
            rollback_in_doubt=rb_doubt,
        )
        out.append(
            RunSummary(
                run_id=run_id,
                source=str(path),
                manifest_path=run[1],
                manifest_hash=run[2],
                profile=run[3],
                environment=run[4],
                company=run[5],
                stamped_state=run[6],
                started_at=run[7],
                finished_at=run[8],
                counts=counts,
                last_activity=last_activity,
                last_seq=_int(row[19]),
                state=state,
                liveness=live,
                diagnosis=diagnosis,
                writer=writer,
                verdict=derive.verdict(
                    state=state,
                    liveness=live,
                    finished=finished,
                    counts=counts,
                    rollback_in_doubt=rb_doubt,
                ),
                liveness_reason=reason,
                holder=hold.holder if hold is not None and live == "alive" else None,
                rollback_in_doubt=rb_doubt,
                advice=derive.advise(
                    run_id=run_id, state=state, counts=counts, rollback_in_doubt=rb_doubt
                ),
            )
        )
    return out
