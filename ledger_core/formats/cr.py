"""The code-review tool's run ledger (seed 000, ``cr``): runs of PR reviews and their actions.

One file holds every run. A step is a ``planned_actions`` row, in ``planned_at`` then
``action_id`` order; its intent is ``attempted_at`` (committed before each GitHub write), its
outcome ``posted_at``. Mapping and derived state exactly as FORMATS.md's cr tables. Rollback:
none — posted review comments have no safe automatic inverse; the tool's own recovery is
running it again.
"""

from __future__ import annotations

import sqlite3

from ..models import RunSummary, Step
from .base import Capabilities, Format, RawPayload, Recognition, SchemaInfo
from .summary import build_summary, counts_from, shared_file_liveness
from .values import integer, latest, pairs, text

KNOWN_VERSIONS = (1, 2)
FINISHED_OK = frozenset({"approved", "request_changes", "comment", "nothing_to_review", "dry_run"})
_DOUBT_LIMIT = 5

# The derived status of an action, in SQL (``action_status`` below is the same in Python).
_STATUS_SQL = """CASE
  WHEN status = 'posted' THEN 'committed'
  WHEN status = 'failed_terminal' THEN 'failed'
  WHEN status = 'pending' AND attempted_at IS NOT NULL AND posted_at IS NULL THEN 'in_doubt'
  WHEN status = 'pending' AND attempted_at IS NULL THEN 'skipped'
  WHEN status IN ('planned_only', 'superseded') THEN 'skipped'
  ELSE 'unknown' END"""


def action_status(status: object, attempted_at: object, posted_at: object) -> str:
    if status == "posted":
        return "committed"
    if status == "failed_terminal":
        return "failed"
    if status == "pending" and attempted_at is not None and posted_at is None:
        return "in_doubt"
    if status == "pending" and attempted_at is None:
        return "skipped"
    if status in ("planned_only", "superseded"):
        return "skipped"
    return "unknown"


def action_note(status: object, attempted_at: object, posted_at: object, error: object) -> str:
    """What the action's row says, in words."""
    derived = action_status(status, attempted_at, posted_at)
    if derived == "in_doubt":
        if error is not None:
            return (
                "the last attempt failed, yet a timed-out request may still have landed: "
                "look for the comment on the PR"
            )
        return "attempted, never confirmed: the comment may or may not have been posted"
    if derived == "skipped":
        return {
            "planned_only": "not attempted: planned only (not meant to be posted)",
            "superseded": "not attempted: superseded by a later plan",
        }.get(status if isinstance(status, str) else "", "not attempted yet")  # type: ignore[arg-type]
    if derived == "committed":
        return "posted"
    if derived == "failed":
        return "failed for good (not retried)"
    return f"status {text(status)!r} is not one cr defines"


def run_state(outcome: object, counts: dict[str, int]) -> str:
    """FORMATS.md's cr table: the run's state from its ``outcome`` and its actions."""
    posted = counts.get("committed", 0) > 0
    troubled = counts.get("failed", 0) + counts.get("in_doubt", 0) + counts.get("unknown", 0)
    if outcome is None:
        return "partially_committed" if posted and troubled else "running"
    if outcome in FINISHED_OK:
        return "completed"
    if outcome in ("incomplete", "failed"):
        return "partially_committed" if posted else "failed"
    if outcome == "aborted":
        return "partially_committed" if posted else "cancelled"
    # An outcome cr does not define: the actions decide, as the runner's rules would.
    if posted and troubled:
        return "partially_committed"
    return "completed" if posted else "failed"


class CrFormat(Format):
    name = "cr"
    title = "code-review tool's run ledger (seed 000)"
    versions = "schema versions 1 and 2"
    capabilities = Capabilities(
        rollback=False,
        no_rollback_reason=(
            "posted review comments have no safe automatic inverse; cr's own recovery is to "
            "run it again: the next run finds its earlier comments by their hidden markers"
        ),
        liveness_source="heartbeat age (runs.heartbeat_at, else started_at); no pid recorded",
        in_doubt_possible=True,
        unknowable=(
            "a pending action with an attempt but no posted_at may or may not be on the PR: "
            "only GitHub can tell",
            "no writer pid is recorded: a fresh heartbeat is the only sign of life",
        ),
    )

    def recognise(self, schema: SchemaInfo, conn: sqlite3.Connection) -> Recognition | None:
        if not (
            "meta" in schema.tables
            and "runs" in schema.tables
            and schema.has("planned_actions", "attempted_at", "posted_at")
        ):
            return None
        missing = [
            f"{table}.{column}"
            for table, columns in (
                ("runs", ("run_id",)),
                ("planned_actions", ("action_id", "run_id", "status")),
            )
            for column in columns
            if column not in schema.columns(table)
        ]
        if missing:
            return Recognition(
                None, ("not_a_ledger", f"cr ledger without {', '.join(missing)}: cannot be read")
            )
        if not schema.has("meta", "schema_version"):
            return Recognition(None, ("missing_schema", "cr ledger without meta.schema_version"))
        values = [row[0] for row in conn.execute("SELECT schema_version FROM meta")]
        versions = [v for v in (integer(x) for x in values) if v is not None]
        if not versions:
            found = f" (found {text(values[0])!r})" if values else ""
            return Recognition(
                None, ("missing_schema", f"cr ledger with no readable schema version{found}")
            )
        version = max(versions)
        if version > max(KNOWN_VERSIONS):
            return Recognition(
                str(version),
                (
                    "newer_schema",
                    f"newer schema: cr schema version {version} is newer than this ledgerx "
                    f"knows ({', '.join(map(str, KNOWN_VERSIONS))}); upgrade ledgerx",
                ),
            )
        if version not in KNOWN_VERSIONS:
            return Recognition(
                str(version), ("missing_schema", f"unknown cr schema version {version}")
            )
        return Recognition(str(version))

    # -- runs ----------------------------------------------------------------------------

    def read_raw(
        self, conn: sqlite3.Connection, schema: SchemaInfo, run_id: str | None = None
    ) -> list[RawPayload]:
        runs_cols = schema.columns("runs")

        def col(name: str, table: str = "r") -> str:
            return f"{table}.{name}" if name in runs_cols else "NULL"

        pr_url = "NULL"
        join = ""
        if schema.has("prs", "pr_key", "pr_url") and "pr_key" in runs_cols:
            pr_url, join = "p.pr_url", " LEFT JOIN prs p ON p.pr_key = r.pr_key"
        where, params = ("", ()) if run_id is None else (" WHERE r.run_id = ?", (run_id,))
        runs = conn.execute(
            f"SELECT r.run_id, {col('started_at')}, {col('heartbeat_at')}, "
            f"{col('completed_at')}, {col('outcome')}, {col('profile')}, {pr_url}, "
            f"{col('sha')}, {col('attempt')}, {col('post_mode')}, {col('posting_identity')} "
            f"FROM runs r{join}{where}",
            params,
        ).fetchall()
        act_where = "" if run_id is None else " WHERE run_id = ?"
        has_error = "error" in schema.columns("planned_actions")
        stats: dict[object, list[tuple]] = {}
        for row in conn.execute(
            f"SELECT run_id, {_STATUS_SQL}, count(*), max(attempted_at), max(posted_at) "
            f"FROM planned_actions{act_where} GROUP BY 1, 2",
            params,
        ):
            stats.setdefault(row[0], []).append(row)
        notable: dict[object, list[tuple]] = {}
        error = "error" if has_error else "NULL"
        kind = "kind" if "kind" in schema.columns("planned_actions") else "NULL"
        for row in conn.execute(
            f"SELECT run_id, action_id, {kind}, {error}, {_STATUS_SQL} AS ds FROM planned_actions "
            f"WHERE ({_STATUS_SQL}) IN ('in_doubt', 'failed', 'unknown')"
            + ("" if run_id is None else " AND run_id = ?")
            + (
                " ORDER BY planned_at, action_id"
                if "planned_at" in schema.columns("planned_actions")
                else ""
            ),
            params,
        ):
            notable.setdefault(row[0], []).append(row)
        out: list[RawPayload] = []
        for r in runs:
            tally: dict[str, int] = {}
            last_attempt = last_post = None
            for _run, ds, n, attempted, posted in stats.get(r[0], ()):
                tally[ds] = tally.get(ds, 0) + n
                last_attempt = latest(last_attempt, attempted)
                last_post = latest(last_post, posted)
            briefs = tuple(
                (text(a[1]), text(a[2]), text(a[3]), a[4])
                for a in notable.get(r[0], ())[: _DOUBT_LIMIT * 2]
            )
            out.append(
                (
                    text(r[0]) or "",
                    *(text(v) for v in r[1:8]),
                    integer(r[8]),
                    text(r[9]),
                    text(r[10]),
                    tuple(sorted(tally.items())),
                    last_attempt,
                    last_post,
                    briefs,
                )
            )
        return out

    def summarize(
        self, payload: RawPayload, source: str, *, now: float, stale_after: float
    ) -> RunSummary:
        (run_id, started, heartbeat, completed, outcome, profile, pr_url, sha, attempt,
         post_mode, identity, tally_t, last_attempt, last_post, briefs) = payload  # fmt: skip
        tally = dict(tally_t)
        counts = counts_from(tally)
        state = run_state(outcome, tally)
        finished = outcome is not None
        beat = heartbeat if heartbeat is not None else started
        live, why = shared_file_liveness(
            finished=finished,
            stamp=beat,
            now=now,
            stale_after=stale_after,
            fresh="alive",
            source=source,
            evidence="heartbeat",
        )
        diagnosis: list[str] = []
        if live == "stale":
            diagnosis.append(
                "no outcome and no heartbeat for longer than the stale threshold: the cr run "
                "probably died; running cr again resumes it (it finds its own comments)."
            )
        elif live == "alive":
            diagnosis.append("heartbeat is recent: cr is probably still working on this run.")
        for action_id, kind, error, ds in briefs:
            label = f"action {action_id} ({kind or '?'})"
            if ds == "in_doubt":
                note = action_note("pending", "", None, error)
                diagnosis.append(f"{label} is in doubt: {note}.")
            elif ds == "failed":
                diagnosis.append(f"{label} failed" + (f": {error[:120]}" if error else "."))
            else:
                diagnosis.append(f"{label} has a status cr does not define.")
        if outcome is not None and outcome not in FINISHED_OK | {"incomplete", "failed", "aborted"}:
            diagnosis.append(f"outcome {outcome!r} is not one cr defines; the actions decide.")
        what = " ".join(
            p
            for p in (pr_url, (sha or "")[:7] or None, f"attempt {attempt}" if attempt else None)
            if p
        )
        return build_summary(
            format_name=self.name,
            run_id=run_id,
            source=source,
            state=state,
            liveness=live,
            counts=counts,
            started_at=started,
            finished_at=completed,
            last_activity=latest(started, heartbeat, last_attempt, last_post, completed),
            last_seq=None,
            diagnosis=tuple(diagnosis),
            liveness_reason=why,
            profile=profile,
            environment=post_mode,
            manifest_path=what or None,
            extras=pairs(
                {
                    "outcome": outcome or "(not finished)",
                    "pr": pr_url,
                    "sha": sha,
                    "attempt": attempt,
                    "post mode": post_mode,
                    "identity": identity,
                    "heartbeat": heartbeat,
                }
            ),
        )

    # -- steps ---------------------------------------------------------------------------

    def read_steps(
        self,
        conn: sqlite3.Connection,
        schema: SchemaInfo,
        run_id: str,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[Step]:
        cols = schema.columns("planned_actions")

        def col(name: str) -> str:
            return f"a.{name}" if name in cols else "NULL"

        pr_url, join = "NULL", ""
        if schema.has("prs", "pr_key", "pr_url") and schema.has("runs", "pr_key"):
            pr_url = "p.pr_url"
            join = " LEFT JOIN runs r ON r.run_id = a.run_id LEFT JOIN prs p ON p.pr_key = r.pr_key"
        order = (
            " ORDER BY a.planned_at, a.action_id"
            if "planned_at" in cols
            else " ORDER BY a.action_id"
        )
        rows = conn.execute(
            f"SELECT a.action_id, {col('kind')}, {col('thread_id')}, {col('finding_id')}, "
            f"{col('planned_at')}, a.status, {col('required')}, {col('attempts')}, "
            f"a.attempted_at, a.posted_at, {col('upstream_id')}, {col('error')}, "
            f"{col('failure_class')}, {pr_url} FROM planned_actions a{join} "
            f"WHERE a.run_id = ?{order} LIMIT ? OFFSET ?",
            (run_id, -1 if limit is None else limit, offset),
        ).fetchall()
        steps = []
        for i, row in enumerate(rows, start=offset + 1):
            (action_id, kind, thread, finding, planned, status, required, attempts,
             attempted, posted, upstream, error, failure_class, url) = row  # fmt: skip
            error_text = text(error)
            if failure_class is not None and error_text:
                error_text = f"{error_text} (failure class {text(failure_class)})"
            elif failure_class is not None:
                error_text = f"failure class {text(failure_class)}"
            target = text(url) or ""
            if thread is not None:
                target = f"{target} thread {text(thread)}".strip()
            steps.append(
                Step(
                    step_id=i,
                    seq=i,
                    method=text(kind),
                    url=target or None,
                    body_hash=None,
                    intent_ts=text(attempted),
                    outcome_ts=text(posted),
                    status=text(status),
                    derived_status=action_status(status, attempted, posted),
                    latency_ms=_latency(attempted, posted),
                    bc_correlation_id=text(upstream),
                    error_message=error_text,
                    rollback_url=None,
                    format=self.name,
                    extras=pairs(
                        {
                            "action_id": action_id,
                            "kind": kind,
                            "upstream_id": upstream,
                            "thread_id": thread,
                            "finding_id": finding,
                            "planned_at": planned,
                            "attempts": attempts,
                            "required": required,
                            "failure_class": failure_class,
                            "what it means": action_note(status, attempted, posted, error),
                        }
                    ),
                )
            )
        return steps


def _latency(start: object, end: object) -> float | None:
    from ..derive import latency_ms

    return latency_ms(text(start), text(end))


FORMAT = CrFormat()
