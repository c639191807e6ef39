"""The append-only event log (seed 003, ``event-ledger``): many runs, one ``events`` table.

A run is a ``run_id``; its steps are its events in ``offset`` order. An event is appended only
after its work returned, so nothing is ever in doubt, and there is no outcome time. A run is
completed by its ``run.finished`` event; otherwise it is running — and stale once its last
event is older than the threshold, since an event log cannot tell a crashed run from a running
one. No rollback: an event log records what happened, it holds nothing to undo.
"""

from __future__ import annotations

import sqlite3

from ..models import RunSummary, Step
from .base import Capabilities, Format, RawPayload, Recognition, SchemaInfo
from .summary import build_summary, counts_from, shared_file_liveness
from .values import integer, latest, pairs, text

KNOWN_VERSION = 1
REQUIRED = ("offset", "id", "run_id", "turn", "kind", "actor")
CANNOT_TELL = "an event log cannot tell a crashed run from a running one"
_PAYLOAD_LIMIT = 4000


class EventLedgerFormat(Format):
    name = "event-ledger"
    title = "append-only event log (seed 003)"
    versions = "per-event schema_version 1"
    capabilities = Capabilities(
        rollback=False,
        no_rollback_reason=(
            "an event log records what happened after it happened; it holds no request to "
            "undo and no target to undo it on"
        ),
        liveness_source="age of the run's last event",
        in_doubt_possible=False,
        unknowable=(CANNOT_TELL, "events have no outcome time: no latency can be shown"),
    )

    def recognise(self, schema: SchemaInfo, conn: sqlite3.Connection) -> Recognition | None:
        if not schema.has("events", *REQUIRED):
            return None
        if "schema_version" not in schema.columns("events"):
            return Recognition("1 (no schema_version column)")
        row = conn.execute(
            "SELECT max(schema_version), sum(typeof(schema_version) != 'integer') FROM events"
        ).fetchone()
        newest = integer(row[0])
        if newest is not None and newest > KNOWN_VERSION:
            return Recognition(
                str(newest),
                (
                    "newer_schema",
                    f"newer schema: event-ledger events of schema_version {newest}, newer than "
                    f"this ledgerx knows ({KNOWN_VERSION}); upgrade ledgerx",
                ),
            )
        return Recognition(str(newest or KNOWN_VERSION))

    def read_raw(
        self, conn: sqlite3.Connection, schema: SchemaInfo, run_id: str | None = None
    ) -> list[RawPayload]:
        where, params = ("", ()) if run_id is None else (" WHERE run_id = ?", (run_id,))
        # Counts and the first and last offsets come from the (run_id, offset) index when the
        # tool made one; the first and last events are then fetched by their rowid.
        created = "created_at" if "created_at" in schema.columns("events") else "NULL"
        rows = (
            conn.execute(
                'WITH g AS (SELECT run_id, count(*) AS n, min("offset") AS lo, max("offset") AS hi '
                f"FROM events{where} GROUP BY run_id) "
                f"SELECT g.run_id, g.n, g.lo, g.hi, a.{created}, b.{created}, b.kind, b.actor, "
                'b.turn FROM g JOIN events a ON a."offset" = g.lo '
                'JOIN events b ON b."offset" = g.hi '
                "ORDER BY g.lo",
                params,
            ).fetchall()
            if created != "NULL"
            else conn.execute(
                'SELECT run_id, count(*), min("offset"), max("offset"), NULL, NULL, NULL, NULL, '
                f"NULL FROM events{where} GROUP BY run_id",
                params,
            ).fetchall()
        )
        finished: dict[object, object] = {}
        for rid, when in conn.execute(
            f"SELECT run_id, {created} FROM events WHERE kind = 'run.finished'"
            + ("" if run_id is None else " AND run_id = ?")
            + ' ORDER BY "offset"',
            params,
        ):
            finished.setdefault(rid, when)
        out: list[RawPayload] = []
        for rid, n, lo, hi, first, last, kind, actor, turn in rows:
            done = rid in finished
            out.append(
                (
                    text(rid) or "",
                    integer(n) or 0,
                    integer(lo),
                    integer(hi),
                    text(first),
                    text(last),
                    text(kind),
                    text(actor),
                    integer(turn),
                    done,
                    text(finished.get(rid)) if done else None,
                )
            )
        return out

    def summarize(
        self, payload: RawPayload, source: str, *, now: float, stale_after: float
    ) -> RunSummary:
        run_id, n, _lo, hi, first, last, kind, actor, turn, done, finished_at = payload
        live, why = shared_file_liveness(
            finished=done,
            stamp=last,
            now=now,
            stale_after=stale_after,
            fresh="unknown",
            source=source,
            evidence="event",
        )
        diagnosis: list[str] = []
        if not done:
            where = f"last event {kind or '?'} by {actor or '?'} (turn {turn})"
            if live == "stale":
                diagnosis.append(
                    f"no run.finished event and no event for longer than the stale threshold "
                    f"({where}): the run stopped, or is very slow; {CANNOT_TELL}."
                )
            else:
                diagnosis.append(f"no run.finished event yet ({where}); {CANNOT_TELL}.")
        return build_summary(
            format_name=self.name,
            run_id=run_id,
            source=source,
            state="completed" if done else "running",
            liveness=live,
            counts=counts_from({"committed": n}),
            started_at=first,
            finished_at=finished_at,
            last_activity=latest(first, last),
            last_seq=hi,
            diagnosis=tuple(diagnosis),
            liveness_reason=why,
            extras=pairs({"events": n, "last event": kind, "last actor": actor, "last turn": turn}),
            crash_knowable=False,
        )

    def read_steps(
        self,
        conn: sqlite3.Connection,
        schema: SchemaInfo,
        run_id: str,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[Step]:
        cols = schema.columns("events")
        optional = (
            "payload",
            "created_at",
            "schema_version",
            "session_id",
            "model_profile",
            "model_id",
        )
        picked = ", ".join(c if c in cols else "NULL" for c in optional)
        rows = conn.execute(
            f'SELECT "offset", id, turn, kind, actor, {picked} FROM events WHERE run_id = ? '
            'ORDER BY "offset" LIMIT ? OFFSET ?',
            (run_id, -1 if limit is None else limit, offset),
        ).fetchall()
        steps = []
        for i, row in enumerate(rows, start=offset + 1):
            off, eid, turn, kind, actor, payload, created, version, session, profile, model = row
            body = text(payload)
            steps.append(
                Step(
                    step_id=integer(off) if integer(off) is not None else i,
                    seq=integer(off),
                    method=text(kind),
                    url=text(actor),
                    body_hash=None,
                    intent_ts=text(created),
                    outcome_ts=None,
                    status="appended",
                    derived_status="committed",
                    latency_ms=None,
                    bc_correlation_id=text(eid),
                    error_message=None,
                    rollback_url=None,
                    format=self.name,
                    extras=pairs(
                        {
                            "id": eid,
                            "turn": turn,
                            "kind": kind,
                            "actor": actor,
                            "payload": body[:_PAYLOAD_LIMIT] if body else None,
                            "schema_version": version,
                            "session_id": session,
                            "model_profile": profile,
                            "model_id": model,
                        }
                    ),
                )
            )
        return steps


FORMAT = EventLedgerFormat()
