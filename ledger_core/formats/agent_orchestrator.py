"""The agent daemon's session store (seed 001, ``agent-orchestrator``): sessions and their CDC.

A run is a ``sessions`` row; its steps are its ``change_log`` entries in ``seq`` order. Where
an ``outbox`` row exists (the seed's version), intent is the outbox row's ``created_at``,
outcome its ``sent_at``: committed when ``sent = 1``, in doubt when ``sent = 0`` after an
attempt (with ``last_error``), not attempted yet when ``attempts = 0``. Later versions have no
outbox (CDC is trigger-written): an entry is then simply recorded. Each consumer's lag behind
the change log is shown with the file. Liveness: the age of ``activity_last_at``.
"""

from __future__ import annotations

import sqlite3

from ..derive import latency_ms, run_state
from ..models import RunSummary, Step
from .base import Capabilities, Format, RawPayload, Recognition, SchemaInfo
from .summary import build_summary, counts_from, shared_file_liveness
from .values import earliest, integer, latest, pairs, text

_OUTBOX_STATUS = """CASE
  WHEN o.rowid IS NULL THEN 'committed'
  WHEN o.sent = 1 THEN 'committed'
  WHEN typeof(o.attempts) = 'integer' AND o.attempts > 0 THEN 'in_doubt'
  WHEN o.attempts IS NULL OR (typeof(o.attempts) = 'integer' AND o.attempts = 0) THEN 'skipped'
  ELSE 'unknown' END"""
_PAYLOAD_LIMIT = 4000
_ORCH_WORDS = {
    "acknowledged": "submitted and acknowledged",
    "submitted": "submitted, never acknowledged: it may or may not have taken effect",
    "leased": "leased by a worker, not acknowledged: it may or may not have been submitted",
    "pending": "not attempted yet",
    "dead_letter": "given up after its attempts (dead letter)",
}
_ORCH_STATUS = {
    "acknowledged": "committed",
    "submitted": "in_doubt",
    "leased": "in_doubt",
    "pending": "skipped",
    "dead_letter": "failed",
}


def delivery_status(has_outbox_row: bool, sent: object, attempts: object) -> str:
    """The derived status of a change-log entry from its outbox row (as ``_OUTBOX_STATUS``)."""
    if not has_outbox_row or sent == 1:
        return "committed"
    if isinstance(attempts, int) and attempts > 0:
        return "in_doubt"
    if attempts is None or (isinstance(attempts, int) and attempts == 0):
        return "skipped"
    return "unknown"


class AgentOrchestratorFormat(Format):
    name = "agent-orchestrator"
    title = "agent daemon's session store with a change log (seed 001)"
    versions = "goose migrations (informational); with or without outbox"
    capabilities = Capabilities(
        rollback=False,
        no_rollback_reason=(
            "a session's change-log entries and their deliveries are events already seen by "
            "consumers; they cannot be taken back, and the store offers no inverse"
        ),
        liveness_source="age of sessions.activity_last_at",
        in_doubt_possible=True,
        unknowable=(
            "the store does not record that a session ended: its state comes from its "
            "change-log deliveries",
            "an outbox row with attempts and no sent flag may have reached its consumer",
        ),
    )

    def recognise(self, schema: SchemaInfo, conn: sqlite3.Connection) -> Recognition | None:
        if not ("sessions" in schema.tables and schema.has("change_log", "seq")):
            return None
        if not schema.has("sessions", "id") or not schema.has("change_log", "session_id"):
            return Recognition(
                None,
                (
                    "not_a_ledger",
                    "agent-orchestrator store without sessions.id or "
                    "change_log.session_id: cannot tie changes to sessions",
                ),
            )
        variant = "outbox" if schema.has("outbox", "change_log_seq") else "no outbox"
        version = "?"
        if schema.has("goose_db_version", "version_id"):
            row = conn.execute("SELECT max(version_id) FROM goose_db_version").fetchone()
            version = text(row[0]) or "?"
        return Recognition(f"goose {version}, {variant}")

    def _outbox(self, schema: SchemaInfo) -> bool:
        return schema.has("outbox", "change_log_seq", "sent", "attempts")

    def read_raw(
        self, conn: sqlite3.Connection, schema: SchemaInfo, run_id: str | None = None
    ) -> list[RawPayload]:
        scols = schema.columns("sessions")

        def s(name: str) -> str:
            return name if name in scols else "NULL"

        where, params = ("", ()) if run_id is None else (" WHERE id = ?", (run_id,))
        sessions = conn.execute(
            f"SELECT id, {s('project_id')}, {s('kind')}, {s('session_state')}, "
            f"{s('activity_state')}, {s('activity_last_at')}, {s('created_at')} "
            f"FROM sessions{where}",
            params,
        ).fetchall()
        created = "c.created_at" if "created_at" in schema.columns("change_log") else "NULL"
        if self._outbox(schema):
            status, join, sent_at = (
                _OUTBOX_STATUS,
                " LEFT JOIN outbox o ON o.change_log_seq = c.seq",
                "max(o.sent_at)",
            )
            if "sent_at" not in schema.columns("outbox"):
                sent_at = "NULL"
        else:
            status, join, sent_at = "'committed'", "", "NULL"
        cwhere = "" if run_id is None else " WHERE c.session_id = ?"
        stats: dict[object, list[tuple]] = {}
        for row in conn.execute(
            f"SELECT c.session_id, {status}, count(*), max(c.seq), min({created}), "
            f"max({created}), {sent_at} FROM change_log c{join}{cwhere} GROUP BY 1, 2",
            params,
        ):
            stats.setdefault(row[0], []).append(row)
        orch: dict[object, list[tuple]] = {}
        if schema.has("orchestration_events", "session_id", "state"):
            for row in conn.execute(
                "SELECT session_id, state, count(*) FROM orchestration_events"
                + ("" if run_id is None else " WHERE session_id = ?")
                + " GROUP BY 1, 2",
                params,
            ):
                orch.setdefault(row[0], []).append((text(row[1]), integer(row[2])))
        lag = self._lag(conn, schema)
        out: list[RawPayload] = []
        for sid, project, kind, sstate, astate, activity, screated in sessions:
            tally: dict[str, int] = {}
            last_seq = first = last = sent = None
            for _sid, ds, n, hi, lo_at, hi_at, sent_hi in stats.get(sid, ()):
                tally[ds] = tally.get(ds, 0) + n
                last_seq = max(filter(None, (last_seq, integer(hi))), default=None)
                first = earliest(first, lo_at)
                last = latest(last, hi_at)
                sent = latest(sent, sent_hi)
            out.append(
                (
                    text(sid) or "",
                    text(project),
                    text(kind),
                    text(sstate),
                    text(astate),
                    text(activity),
                    text(screated) or text(first),
                    tuple(sorted(tally.items())),
                    last_seq,
                    latest(last, sent),
                    tuple(sorted(orch.get(sid, ()), key=lambda t: t[0] or "")),
                    lag,
                    self._outbox(schema),
                )
            )
        return out

    def _lag(self, conn: sqlite3.Connection, schema: SchemaInfo) -> tuple[tuple[str, int], ...]:
        if not schema.has("consumer_offsets", "consumer", "last_seq"):
            return ()
        head = integer(conn.execute("SELECT max(seq) FROM change_log").fetchone()[0]) or 0
        return tuple(
            (text(c) or "?", head - (integer(seq) or 0))
            for c, seq in conn.execute(
                "SELECT consumer, last_seq FROM consumer_offsets ORDER BY consumer"
            )
        )

    def file_notes(self, conn: sqlite3.Connection, schema: SchemaInfo) -> tuple[str, ...]:
        notes = []
        lag = self._lag(conn, schema)
        if lag:
            notes.append("consumer lag: " + ", ".join(f"{c} {n}" for c, n in lag))
        if not self._outbox(schema):
            notes.append("no outbox table: deliveries are not tracked in this version")
        if "orchestration_events" in schema.tables and not schema.has(
            "orchestration_events", "session_id", "state"
        ):
            notes.append("orchestration_events has no session_id/state columns: not shown")
        return tuple(notes)

    def summarize(
        self, payload: RawPayload, source: str, *, now: float, stale_after: float
    ) -> RunSummary:
        (sid, project, kind, sstate, astate, activity, started, tally_t, last_seq, last,
         orch, lag, outbox) = payload  # fmt: skip
        tally = dict(tally_t)
        for state, n in orch:
            ds = _ORCH_STATUS.get(state or "", "unknown")
            tally[ds] = tally.get(ds, 0) + (n or 0)
        counts = counts_from(tally)
        state = run_state(None, None, counts)
        live, why = shared_file_liveness(
            finished=False,
            stamp=activity if activity is not None else last,
            now=now,
            stale_after=stale_after,
            fresh="alive",
            source=source,
            evidence="session activity",
        )
        diagnosis: list[str] = []
        if counts.in_doubt:
            diagnosis.append(
                f"{counts.in_doubt} change(s) were handed to the outbox and attempted but never "
                "marked sent: a consumer may or may not have received them."
            )
        if counts.skipped:
            diagnosis.append(f"{counts.skipped} change(s) wait in the outbox, not attempted yet.")
        behind = [f"{c} is {n} behind" for c, n in lag if n > 0]
        if behind:
            diagnosis.append("consumers lag the change log: " + ", ".join(behind) + ".")
        if live == "stale":
            diagnosis.append("no session activity for longer than the stale threshold.")
        return build_summary(
            format_name=self.name,
            run_id=sid,
            source=source,
            state=state,
            liveness=live,
            counts=counts,
            started_at=started,
            finished_at=None,
            last_activity=latest(activity, last, started),
            last_seq=last_seq,
            diagnosis=tuple(diagnosis),
            liveness_reason=why,
            profile=kind,
            environment=project,
            manifest_path=None,
            extras=pairs(
                {
                    "session state": sstate,
                    "activity": astate,
                    "activity at": activity,
                    "outbox": "yes" if outbox else "absent (no delivery tracking)",
                    "consumer lag": ", ".join(f"{c} {n}" for c, n in lag) or None,
                    "orchestration events": ", ".join(f"{n} {s}" for s, n in orch) or None,
                }
            ),
        )

    def read_steps(
        self,
        conn: sqlite3.Connection,
        schema: SchemaInfo,
        run_id: str,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[Step]:
        ccols = schema.columns("change_log")

        def c(name: str) -> str:
            return f"c.{name}" if name in ccols else "NULL"

        if self._outbox(schema):
            ocols = schema.columns("outbox")

            def o(name: str) -> str:
                return f"o.{name}" if name in ocols else "NULL"

            outbox = (
                f"o.rowid, o.sent, o.attempts, {o('sent_at')}, {o('last_error')}, {o('created_at')}"
            )
            join = " LEFT JOIN outbox o ON o.change_log_seq = c.seq"
        else:
            outbox, join = "NULL, NULL, NULL, NULL, NULL, NULL", ""
        rows = conn.execute(
            f"SELECT c.seq, {c('event_type')}, {c('revision')}, {c('payload')}, "
            f"{c('created_at')}, {c('project_id')}, {outbox} FROM change_log c{join} "
            "WHERE c.session_id = ? ORDER BY c.seq LIMIT ? OFFSET ?",
            (run_id, -1 if limit is None else limit, offset),
        ).fetchall()
        steps = self._change_steps(rows, run_id, offset)
        if schema.has("orchestration_events", "session_id", "state") and (
            limit is None or len(steps) < limit
        ):
            # After the change log come the session's orchestration events (later versions).
            before = conn.execute(
                "SELECT count(*) FROM change_log WHERE session_id = ?", (run_id,)
            ).fetchone()[0]
            skip = max(0, offset - before)
            left = None if limit is None else limit - len(steps)
            steps += self._orchestration_steps(conn, schema, run_id, skip, left)
        return steps

    def _orchestration_steps(
        self,
        conn: sqlite3.Connection,
        schema: SchemaInfo,
        run_id: str,
        offset: int,
        limit: int | None,
    ) -> list[Step]:
        cols = schema.columns("orchestration_events")
        key = "id" if "id" in cols else "rowid"

        def o(name: str) -> str:
            return name if name in cols else "NULL"

        rows = conn.execute(
            f"SELECT {key}, state, {o('attempt_count')}, {o('submitted_at')}, "
            f"{o('acknowledged_at')}, {o('lease_expires_at')}, {o('last_error')} "
            f"FROM orchestration_events WHERE session_id = ? ORDER BY {key} LIMIT ? OFFSET ?",
            (run_id, -1 if limit is None else limit, offset),
        ).fetchall()
        steps = []
        for i, (oid, state, attempts, submitted, acked, lease, error) in enumerate(rows):
            derived = _ORCH_STATUS.get(state, "unknown") if isinstance(state, str) else "unknown"
            number = integer(oid)
            steps.append(
                Step(
                    # Negative: never equal to a change-log seq of the same session.
                    step_id=-(number if number is not None else offset + i + 1),
                    seq=None,
                    method="orchestration_event",
                    url=run_id,
                    body_hash=None,
                    intent_ts=text(submitted),
                    outcome_ts=text(acked),
                    status=text(state),
                    derived_status=derived,
                    latency_ms=latency_ms(text(submitted), text(acked)),
                    bc_correlation_id=text(oid),
                    error_message=text(error) or None,
                    rollback_url=None,
                    format=self.name,
                    extras=pairs(
                        {
                            "orchestration event": oid,
                            "state": state,
                            "attempt_count": attempts,
                            "lease_expires_at": lease,
                            "what it means": _ORCH_WORDS.get(
                                text(state) or "", "a state the tool does not define"
                            ),
                        }
                    ),
                )
            )
        return steps

    def _change_steps(self, rows: list[tuple], run_id: str, offset: int) -> list[Step]:
        steps = []
        for i, row in enumerate(rows, start=offset + 1):
            (
                seq,
                event,
                revision,
                payload,
                created,
                project,
                orow,
                sent,
                attempts,
                sent_at,
                error,
                queued,
            ) = row
            has_row = orow is not None
            ds = delivery_status(has_row, sent, attempts)
            intent = text(queued) if has_row else text(created)
            if not has_row:
                note = (
                    "recorded in the change log; no outbox row (none in this version, or reclaimed)"
                )
            elif ds == "committed":
                note = "delivered (outbox row sent)"
            elif ds == "in_doubt":
                note = "attempted, never marked sent: the consumer may or may not have it"
            elif ds == "skipped":
                note = "waiting in the outbox: not attempted yet"
            else:
                note = "the outbox row holds values the tool does not define"
            body = text(payload)
            steps.append(
                Step(
                    step_id=integer(seq) if integer(seq) is not None else i,
                    seq=integer(seq),
                    method=text(event),
                    url=text(project) or run_id,
                    body_hash=None,
                    intent_ts=intent,
                    outcome_ts=text(sent_at),
                    status=("sent" if sent == 1 else "unsent") if has_row else "recorded",
                    derived_status=ds,
                    latency_ms=latency_ms(intent, text(sent_at)),
                    bc_correlation_id=None,
                    error_message=text(error) or None,
                    rollback_url=None,
                    format=self.name,
                    extras=pairs(
                        {
                            "seq": seq,
                            "event_type": event,
                            "revision": revision,
                            "created_at": created,
                            "outbox attempts": attempts if has_row else None,
                            "last error": error if has_row else None,
                            "sent_at": sent_at,
                            "delivery": note,
                            "payload": body[:_PAYLOAD_LIMIT] if body else None,
                        }
                    ),
                )
            )
        return steps


FORMAT = AgentOrchestratorFormat()
