"""Ledgers of the other tools' formats, written from FORMATS.md's column lists by test code.

Deliberately independent of ``ledger_core.formats``: the DDL below is transcribed from the
contract (and the seeds' own DDL), so a reader that drifts from the contract fails the tests.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

CR_V1_DDL = """
PRAGMA journal_mode=WAL;
CREATE TABLE meta (schema_version INTEGER NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE prs (pr_key TEXT PRIMARY KEY, pr_url TEXT NOT NULL, first_seen_at TEXT NOT NULL);
CREATE TABLE runs (
  run_id TEXT PRIMARY KEY, pr_key TEXT NOT NULL REFERENCES prs(pr_key), sha TEXT NOT NULL,
  base_sha TEXT NOT NULL, attempt INTEGER NOT NULL, profile TEXT NOT NULL,
  posting_identity TEXT NOT NULL, post_mode TEXT NOT NULL DEFAULT 'live',
  started_at TEXT NOT NULL, heartbeat_at TEXT, completed_at TEXT, outcome TEXT,
  artifact_path TEXT NOT NULL, blocking_count INTEGER NOT NULL DEFAULT 0,
  major_count INTEGER NOT NULL DEFAULT 0, minor_count INTEGER NOT NULL DEFAULT 0,
  nits_count INTEGER NOT NULL DEFAULT 0,
  UNIQUE (pr_key, sha, base_sha, profile, posting_identity, attempt));
CREATE TABLE planned_actions (
  action_id TEXT PRIMARY KEY, run_id TEXT NOT NULL REFERENCES runs(run_id), kind TEXT NOT NULL,
  finding_id TEXT, thread_id TEXT, planned_at TEXT NOT NULL, payload_json TEXT NOT NULL,
  status TEXT NOT NULL, required INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0, attempted_at TEXT, posted_at TEXT, upstream_id TEXT,
  error TEXT{extra});
CREATE TABLE sessions (session_row_id TEXT PRIMARY KEY, run_id TEXT, tokens INTEGER);
CREATE TABLE findings (finding_id TEXT PRIMARY KEY, severity TEXT, file_path TEXT, line INTEGER,
  body TEXT);
CREATE TABLE named_sessions (name TEXT PRIMARY KEY);
"""


def make_cr(
    path: Path,
    runs: list[dict],
    actions: list[dict],
    *,
    version: int | None = 2,
    meta_value: object = None,
) -> Path:
    """A cr ledger. ``runs``: dicts with run_id and any runs column; ``actions``: dicts with
    action_id, run_id and any planned_actions column."""
    conn = sqlite3.connect(path)
    extra = ",\n  failure_class TEXT" if (version or 1) >= 2 else ""
    conn.executescript(CR_V1_DDL.format(extra=extra))
    if version is not None or meta_value is not None:
        conn.execute(
            "INSERT INTO meta VALUES (?, ?)",
            (meta_value if meta_value is not None else version, "2026-05-01T00:00:00Z"),
        )
    conn.execute(
        "INSERT INTO prs VALUES ('o/r#7', 'https://github.com/o/r/pull/7', '2026-05-01T00:00:00Z')"
    )
    for i, run in enumerate(runs):
        row = {
            "pr_key": "o/r#7",
            "sha": "0123456789abcdef",
            "base_sha": "fedcba9876543210",
            "attempt": i + 1,
            "profile": "default",
            "posting_identity": "bot",
            "started_at": "2026-05-17T09:00:00.123456789Z",
            "artifact_path": "/tmp/a",
        } | run
        cols = ", ".join(row)
        conn.execute(
            f"INSERT INTO runs ({cols}) VALUES ({', '.join('?' * len(row))})", list(row.values())
        )
    for i, action in enumerate(actions):
        row = {
            "kind": "inline_comment",
            "planned_at": f"2026-05-17T09:00:{i:02d}Z",
            "payload_json": "{}",
            "status": "pending",
        } | action
        cols = ", ".join(row)
        conn.execute(
            f"INSERT INTO planned_actions ({cols}) VALUES ({', '.join('?' * len(row))})",
            list(row.values()),
        )
    conn.commit()
    conn.close()
    return path


AO_OUTBOX_DDL = """
PRAGMA journal_mode=WAL;
CREATE TABLE goose_db_version (id INTEGER PRIMARY KEY AUTOINCREMENT, version_id INTEGER NOT NULL,
  is_applied INTEGER NOT NULL, tstamp TIMESTAMP DEFAULT (datetime('now')));
CREATE TABLE sessions (id TEXT PRIMARY KEY, project_id TEXT, kind TEXT,
  revision INTEGER NOT NULL, session_state TEXT, session_reason TEXT, pr_state TEXT,
  pr_reason TEXT, runtime_state TEXT, runtime_reason TEXT, activity_state TEXT,
  activity_last_at TEXT);
CREATE TABLE change_log (seq INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT,
  event_type TEXT, revision INTEGER, payload TEXT, created_at TEXT);
CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT,
  change_log_seq INTEGER REFERENCES change_log(seq), sent INTEGER DEFAULT 0, sent_at TEXT,
  attempts INTEGER DEFAULT 0, last_error TEXT DEFAULT '', created_at TEXT);
CREATE TABLE consumer_offsets (consumer TEXT PRIMARY KEY, last_seq INTEGER DEFAULT 0,
  updated_at TEXT);
"""

AO_LATER_DDL = """
PRAGMA journal_mode=WAL;
CREATE TABLE goose_db_version (id INTEGER PRIMARY KEY AUTOINCREMENT, version_id INTEGER NOT NULL,
  is_applied INTEGER NOT NULL, tstamp TIMESTAMP DEFAULT (datetime('now')));
CREATE TABLE projects (id TEXT PRIMARY KEY, path TEXT);
CREATE TABLE sessions (id TEXT PRIMARY KEY, project_id TEXT, kind TEXT, session_state TEXT,
  is_alive INTEGER, activity_state TEXT, activity_last_at TEXT);
CREATE TABLE change_log (seq INTEGER PRIMARY KEY AUTOINCREMENT, project_id TEXT NOT NULL,
  session_id TEXT, event_type TEXT NOT NULL, payload TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE orchestration_events (id INTEGER PRIMARY KEY, session_id TEXT, state TEXT,
  attempt_count INTEGER, submitted_at TEXT, acknowledged_at TEXT, lease_expires_at TEXT,
  last_error TEXT);
"""


def make_ao(
    path: Path,
    sessions: list[dict],
    changes: list[dict],
    *,
    outbox: list[dict] | None = None,
    offsets: list[tuple[str, int]] = (),
    later: bool = False,
    orchestration: list[dict] = (),
) -> Path:
    """An agent-orchestrator store: the outbox version, or ``later`` (no outbox)."""
    conn = sqlite3.connect(path)
    conn.executescript(AO_LATER_DDL if later else AO_OUTBOX_DDL)
    conn.execute("INSERT INTO goose_db_version (version_id, is_applied) VALUES (3, 1)")
    for s in sessions:
        row = ({} if later else {"revision": 1}) | {"kind": "worker", "project_id": "p1"} | s
        conn.execute(
            f"INSERT INTO sessions ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
            list(row.values()),
        )
    for c in changes:
        row = {"event_type": "session_updated", "payload": "{}",
               "created_at": "2026-05-17T09:00:00Z"} | c  # fmt: skip
        if later:
            row.setdefault("project_id", "p1")
            row.pop("revision", None)
        conn.execute(
            f"INSERT INTO change_log ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
            list(row.values()),
        )
    for o in outbox or ():
        conn.execute(
            f"INSERT INTO outbox ({', '.join(o)}) VALUES ({', '.join('?' * len(o))})",
            list(o.values()),
        )
    for consumer, seq in offsets:
        conn.execute(
            "INSERT INTO consumer_offsets VALUES (?, ?, '2026-05-17T09:00:00Z')", (consumer, seq)
        )
    for o in orchestration:
        conn.execute(
            f"INSERT INTO orchestration_events ({', '.join(o)}) VALUES ({', '.join('?' * len(o))})",
            list(o.values()),
        )
    conn.commit()
    conn.close()
    return path


EVENTS_DDL = """
PRAGMA journal_mode=WAL;
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
    session_id      TEXT{last_two}
);
CREATE INDEX IF NOT EXISTS idx_run_offset ON events(run_id, offset);
CREATE INDEX IF NOT EXISTS idx_kind ON events(kind);
"""


def make_events(
    path: Path, events: list[dict], *, last_two: bool = True, schema_version: bool = True
) -> Path:
    """An event-ledger file; each event dict needs run_id and kind (the rest defaults)."""
    conn = sqlite3.connect(path)
    ddl = EVENTS_DDL.format(
        last_two=",\n    model_profile TEXT,\n    model_id TEXT" if last_two else ""
    )
    if not schema_version:
        ddl = ddl.replace("    schema_version  INTEGER NOT NULL DEFAULT 1,\n", "")
    conn.executescript(ddl)
    for i, e in enumerate(events):
        row = {
            "id": f"ev-{i}",
            "turn": i,
            "actor": "agent",
            "payload": f'{{"n": {i}}}',
            "created_at": f"2026-05-17T09:00:{i % 60:02d}.{i:06d}+00:00",
        } | e
        conn.execute(
            f"INSERT INTO events ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
            list(row.values()),
        )
    conn.commit()
    conn.close()
    return path
