"""Demo ledgers of the other tools' formats, written the way each tool writes them.

``write_format_demos(ledger_dir, now)`` leaves three files beside the runner's demo ledgers
(named ``*.db`` so a directory scan finds them), each following its tool's write path as
FORMATS.md and the seeds describe it:

* ``codereview-ledger.db`` (cr): WAL and ``foreign_keys``; a run is allocated, its actions
  planned ``pending``; before each GitHub write ``attempts + 1`` and ``attempted_at`` are
  committed, after it ``posted``/``posted_at``/``upstream_id``; the heartbeat moves; the
  outcome is set last. One run crashed after attempting an action and before recording it
  (in doubt), one was approved, one failed on a terminal error.
* ``agent-events.db`` (event-ledger): the seed's table and indexes; each event appended once
  its work returned. One run finished, one cut short after an ``agent.thought``.
* ``orchestrator.db`` (agent-orchestrator, outbox version): each change writes the session
  row, a ``change_log`` entry and an ``outbox`` row in one transaction; the publisher marks
  rows sent; one delivery keeps failing, one is not attempted yet; a consumer lags behind.

All times are explicit (anchored on ``now``), so the same ``now`` gives the same files.
"""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

CR_FILE = "codereview-ledger.db"
EVENTS_FILE = "agent-events.db"
ORCHESTRATOR_FILE = "orchestrator.db"


def _go_time(epoch: float) -> str:
    """Go's RFC 3339 with nanoseconds: trailing zeros of the fraction trimmed."""
    whole = datetime.fromtimestamp(int(epoch), UTC).strftime("%Y-%m-%dT%H:%M:%S")
    nanos = round((epoch - int(epoch)) * 1e9)
    fraction = f"{nanos:09d}".rstrip("0")
    return f"{whole}.{fraction}Z" if fraction else f"{whole}Z"


def _py_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def _connect(path: Path) -> sqlite3.Connection:
    if path.exists():
        path.unlink()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    return conn


# -- cr ---------------------------------------------------------------------------------------

_CR_SCHEMA = """
CREATE TABLE meta (schema_version INTEGER NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE prs (pr_key TEXT PRIMARY KEY, pr_url TEXT NOT NULL, first_seen_at TEXT NOT NULL);
CREATE TABLE runs (run_id TEXT PRIMARY KEY, pr_key TEXT NOT NULL REFERENCES prs(pr_key),
  sha TEXT NOT NULL, base_sha TEXT NOT NULL, attempt INTEGER NOT NULL, profile TEXT NOT NULL,
  posting_identity TEXT NOT NULL, post_mode TEXT NOT NULL DEFAULT 'live',
  started_at TEXT NOT NULL, heartbeat_at TEXT, completed_at TEXT, outcome TEXT,
  artifact_path TEXT NOT NULL, blocking_count INTEGER NOT NULL DEFAULT 0,
  major_count INTEGER NOT NULL DEFAULT 0, minor_count INTEGER NOT NULL DEFAULT 0,
  nits_count INTEGER NOT NULL DEFAULT 0,
  UNIQUE (pr_key, sha, base_sha, profile, posting_identity, attempt));
CREATE TABLE planned_actions (action_id TEXT PRIMARY KEY,
  run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE, kind TEXT NOT NULL,
  finding_id TEXT, thread_id TEXT, planned_at TEXT NOT NULL, payload_json TEXT NOT NULL,
  status TEXT NOT NULL, required INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0, attempted_at TEXT, posted_at TEXT, upstream_id TEXT,
  error TEXT, failure_class TEXT);
CREATE TABLE sessions (session_row_id TEXT PRIMARY KEY,
  run_id TEXT NOT NULL REFERENCES runs(run_id) ON DELETE CASCADE, provider_session_id TEXT,
  role TEXT, tokens_in INTEGER, tokens_out INTEGER, cost_usd REAL);
CREATE TABLE findings (finding_id TEXT PRIMARY KEY, session_row_id TEXT, severity TEXT,
  file_path TEXT, line INTEGER, body TEXT);
CREATE TABLE named_sessions (name TEXT PRIMARY KEY, session_row_id TEXT);
"""


def _cr_run(
    conn: sqlite3.Connection,
    run_id: str,
    pr: tuple[str, str],
    start: float,
    actions: list[tuple[str, str | None, str]],
    *,
    die_after: int | None = None,
    outcome: str | None = "approved",
) -> None:
    """Play one cr run. ``actions``: (kind, thread_id, result) with result ``posted`` or
    ``terminal`` (a 422 that will never succeed); ``die_after``: the writer is killed right
    after committing the attempt of that action (1-based), before the request's answer."""
    t = start
    conn.execute(
        "INSERT OR IGNORE INTO prs VALUES (?, ?, ?)", (pr[0], pr[1], _go_time(start - 86400))
    )
    conn.execute(
        "INSERT INTO runs (run_id, pr_key, sha, base_sha, attempt, profile, posting_identity,"
        " started_at, heartbeat_at, artifact_path) VALUES (?, ?, ?, ?, 1, 'review-strict',"
        " 'review-bot', ?, ?, ?)",
        (run_id, pr[0], hashlib.sha1(run_id.encode()).hexdigest()[:16], "9be0c3a1f7d2",
         _go_time(t), _go_time(t), f"runs/{run_id}/artifact.json"),
    )  # fmt: skip
    t += 41.250031  # the review itself: LLM sessions, findings
    ids = []
    for i, (kind, thread, _result) in enumerate(actions, start=1):
        action_id = f"{run_id}-act-{i:02d}"
        ids.append(action_id)
        conn.execute(
            "INSERT INTO planned_actions (action_id, run_id, kind, finding_id, thread_id,"
            " planned_at, payload_json, status, required) VALUES (?, ?, ?, ?, ?, ?, ?,"
            " 'pending', ?)",
            (action_id, run_id, kind, f"F{i}" if kind == "inline_comment" else None, thread,
             _go_time(t + i * 0.000137), '{"body": "…"}', int(kind == "submit_review")),
        )  # fmt: skip
    for i, (action_id, (_kind, _thread, result)) in enumerate(zip(ids, actions, strict=True), 1):
        t += 1.5 + i * 0.3137
        conn.execute(
            "UPDATE planned_actions SET attempts = attempts + 1, attempted_at = ? "
            "WHERE action_id = ?",
            (_go_time(t), action_id),
        )
        conn.execute("UPDATE runs SET heartbeat_at = ? WHERE run_id = ?", (_go_time(t), run_id))
        if die_after == i:
            return  # killed while the request was on the wire
        t += 0.412345678
        if result == "posted":
            conn.execute(
                "UPDATE planned_actions SET status = 'posted', posted_at = ?, upstream_id = ? "
                "WHERE action_id = ?",
                (_go_time(t), f"PRRC_kwDOA{i:04d}{run_id[-4:]}", action_id),
            )
        else:
            conn.execute(
                "UPDATE planned_actions SET status = 'failed_terminal', error = ?, "
                "failure_class = 'terminal' WHERE action_id = ?",
                ("422 Unprocessable Entity: pull request review thread is outdated", action_id),
            )
    conn.execute(
        "UPDATE runs SET completed_at = ?, outcome = ?, heartbeat_at = ? WHERE run_id = ?",
        (_go_time(t + 0.5), outcome, _go_time(t + 0.5), run_id),
    )


def write_cr(path: Path, now: float) -> dict[str, str]:
    conn = _connect(path)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.executescript(_CR_SCHEMA)
    conn.execute("INSERT INTO meta VALUES (2, ?)", (_go_time(now - 30 * 86400),))
    pr = ("acme/billing#412", "https://github.com/acme/billing/pull/412")
    pr2 = ("acme/billing#415", "https://github.com/acme/billing/pull/415")
    comments = [("inline_comment", None, "posted")] * 3
    _cr_run(
        conn,
        "cr-20260517-approved",
        pr,
        now - 26 * 3600,
        [*comments, ("rollup_comment", None, "posted"), ("submit_review", None, "posted")],
    )
    _cr_run(
        conn,
        "cr-20260517-terminal",
        pr2,
        now - 7 * 3600,
        [("inline_comment", None, "posted"), ("thread_reply", "PRRT_77", "terminal"),
         ("submit_review", None, "posted")],
        outcome="failed",
    )  # fmt: skip
    _cr_run(
        conn,
        "cr-20260518-crashed",
        pr2,
        now - 3 * 3600,
        [*comments, ("resolve_thread", "PRRT_78", "posted"), ("submit_review", None, "posted")],
        die_after=3,
    )
    conn.close()
    return {
        "cr_completed": "cr-20260517-approved",
        "cr_failed": "cr-20260517-terminal",
        "cr_crashed_in_doubt": "cr-20260518-crashed",
    }


# -- event-ledger -----------------------------------------------------------------------------

_EVENTS_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    offset          INTEGER PRIMARY KEY AUTOINCREMENT,
    id              TEXT    UNIQUE NOT NULL,
    run_id          TEXT    NOT NULL,
    turn            INTEGER NOT NULL,
    kind            TEXT    NOT NULL,
    actor           TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    created_at      TEXT    NOT NULL,
    schema_version  INTEGER NOT NULL DEFAULT 1,
    session_id      TEXT,
    model_profile   TEXT,
    model_id        TEXT
);
CREATE INDEX IF NOT EXISTS idx_run_offset ON events(run_id, offset);
CREATE INDEX IF NOT EXISTS idx_kind       ON events(kind);
CREATE INDEX IF NOT EXISTS idx_actor      ON events(actor);
CREATE INDEX IF NOT EXISTS idx_session_id ON events(session_id);
CREATE INDEX IF NOT EXISTS idx_model_id   ON events(model_id);
"""

_SCRIPT = (
    ("run.started", "orchestrator", '{"scenario": "negotiation", "seed": 7}'),
    ("world.observed", "world", '{"market": "open", "price": 101.5}'),
    ("agent.thought", "buyer", '{"text": "Offer below list, leave room."}'),
    ("agent.spoke", "buyer", '{"text": "Would you take 92?"}'),
    ("agent.thought", "seller", '{"text": "Counter at 97."}'),
    ("agent.spoke", "seller", '{"text": "97 is my floor."}'),
    ("judge.verdict", "judge", '{"deal": true, "price": 96}'),
    ("run.finished", "orchestrator", '{"turns": 3}'),
)


def write_events(path: Path, now: float) -> dict[str, str]:
    conn = _connect(path)
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.executescript(_EVENTS_SCHEMA)
    n = 0

    def play(run_id: str, start: float, script) -> None:
        nonlocal n
        for turn, (kind, actor, payload) in enumerate(script):
            n += 1
            # Appended after the work returned: the event carries the time it finished.
            conn.execute(
                "INSERT INTO events (id, run_id, turn, kind, actor, payload, created_at,"
                " schema_version, session_id, model_profile, model_id) VALUES"
                " (?, ?, ?, ?, ?, ?, ?, 1, ?, 'balanced', 'claude-sonnet')",
                (f"evt-{n:05d}", run_id, turn // 2, kind, actor, payload,
                 _py_time(start + turn * 3.7), f"sess-{run_id[-3:]}"),
            )  # fmt: skip
            conn.commit() if conn.in_transaction else None

    play("neg-run-041", now - 5 * 3600, _SCRIPT)
    play("neg-run-042", now - 2 * 3600, _SCRIPT[:5])  # cut short after a thought
    conn.close()
    return {"events_completed": "neg-run-041", "events_cut_short": "neg-run-042"}


# -- agent-orchestrator -----------------------------------------------------------------------

_AO_SCHEMA = """
CREATE TABLE goose_db_version (id INTEGER PRIMARY KEY AUTOINCREMENT, version_id INTEGER NOT NULL,
  is_applied INTEGER NOT NULL, tstamp TIMESTAMP DEFAULT (datetime('now')));
CREATE TABLE sessions (id TEXT PRIMARY KEY, project_id TEXT NOT NULL, kind TEXT NOT NULL,
  revision INTEGER NOT NULL, session_state TEXT, session_reason TEXT, pr_state TEXT,
  pr_reason TEXT, runtime_state TEXT, runtime_reason TEXT, activity_state TEXT,
  activity_last_at TEXT);
CREATE TABLE change_log (seq INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL,
  event_type TEXT NOT NULL, revision INTEGER NOT NULL, payload TEXT NOT NULL,
  created_at TEXT NOT NULL);
CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT,
  change_log_seq INTEGER NOT NULL REFERENCES change_log(seq), sent INTEGER DEFAULT 0,
  sent_at TEXT, attempts INTEGER DEFAULT 0, last_error TEXT DEFAULT '', created_at TEXT);
CREATE TABLE consumer_offsets (consumer TEXT PRIMARY KEY, last_seq INTEGER DEFAULT 0,
  updated_at TEXT);
"""


def write_orchestrator(path: Path, now: float) -> dict[str, str]:
    conn = _connect(path)
    conn.execute("PRAGMA busy_timeout=5000")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.executescript(_AO_SCHEMA)
    for version in (1, 2):
        conn.execute(
            "INSERT INTO goose_db_version (version_id, is_applied, tstamp) VALUES (?, 1, ?)",
            (version, _go_time(now - 40 * 86400)),
        )

    def upsert(sid: str, revision: int, state: str, at: float, event: str) -> int:
        # The store's atomic Upsert: session row + change_log + outbox in one transaction.
        conn.execute("BEGIN")
        conn.execute(
            "INSERT INTO sessions (id, project_id, kind, revision, session_state, activity_state,"
            " activity_last_at) VALUES (?, 'billing_3f9a1c2b7d', 'worker', ?, ?, 'active', ?)"
            " ON CONFLICT(id) DO UPDATE SET revision = excluded.revision,"
            " session_state = excluded.session_state, activity_last_at = excluded.activity_last_at",
            (sid, revision, state, _go_time(at)),
        )
        seq = conn.execute(
            "INSERT INTO change_log (session_id, event_type, revision, payload, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (sid, event, revision, f'{{"state": "{state}"}}', _go_time(at)),
        ).lastrowid
        conn.execute(
            "INSERT INTO outbox (change_log_seq, created_at) VALUES (?, ?)", (seq, _go_time(at))
        )
        conn.execute("COMMIT")
        return int(seq or 0)

    def publish(seq: int, at: float, *, fail: str | None = None, tries: int = 1) -> None:
        if fail is None:
            conn.execute(
                "UPDATE outbox SET sent = 1, sent_at = ?, attempts = attempts + 1 "
                "WHERE change_log_seq = ?",
                (_go_time(at), seq),
            )
        else:
            conn.execute(
                "UPDATE outbox SET attempts = attempts + ?, last_error = ? "
                "WHERE change_log_seq = ?",
                (tries, fail, seq),
            )

    start = now - 9 * 3600
    for rev, state in enumerate(("spawning", "working", "pr_open", "merged"), start=1):
        seq = upsert("billing-1", rev, state, start + rev * 600, "session_updated")
        publish(seq, start + rev * 600 + 0.021)
    start = now - 50 * 60
    seqs = [
        upsert("billing-2", rev, state, start + rev * 300, "session_updated")
        for rev, state in enumerate(("spawning", "working", "ci_failed", "working"), start=1)
    ]
    publish(seqs[0], start + 300.02)
    publish(seqs[1], start + 600.02)
    publish(
        seqs[2], start + 900.5, fail="write session-events.jsonl: no space left on device", tries=3
    )
    # seqs[3] waits in the outbox: the publisher has not reached it.
    conn.execute(
        "INSERT INTO consumer_offsets VALUES ('dashboard', ?, ?)", (seqs[1], _go_time(now))
    )
    conn.execute("INSERT INTO consumer_offsets VALUES ('notifier', ?, ?)", (seqs[0], _go_time(now)))
    conn.close()
    return {"orchestrator_merged": "billing-1", "orchestrator_in_doubt": "billing-2"}


def write_format_demos(ledger_dir: Path, now: float) -> dict[str, tuple[str, str]]:
    """Write the three files into ``ledger_dir``; role -> (file name, run id)."""
    roles: dict[str, tuple[str, str]] = {}
    for name, write in (
        (CR_FILE, write_cr),
        (EVENTS_FILE, write_events),
        (ORCHESTRATOR_FILE, write_orchestrator),
    ):
        for role, run_id in write(Path(ledger_dir) / name, now).items():
            roles[role] = (name, run_id)
    return roles
