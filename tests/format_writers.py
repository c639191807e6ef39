"""Live writers of the other tools' formats, run as real processes beside a reader.

``python tests/format_writers.py FORMAT PATH N`` creates PATH (with ``format_factories``),
then appends N rows the way the tool does — WAL, one short transaction per write — printing
``ready`` once the file exists and ``done`` at the end.
"""

from __future__ import annotations

import sqlite3
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from format_factories import make_ao, make_cr, make_events  # noqa: E402


def _stamp() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{time.time_ns() % 10**9:09d}Z"


def main(fmt: str, path: Path, count: int) -> None:
    if fmt == "cr":
        make_cr(path, [{"run_id": "live", "heartbeat_at": _stamp()}], [])
    elif fmt == "agent-orchestrator":
        make_ao(path, [{"id": "live", "activity_last_at": _stamp()}], [])
    else:
        make_events(path, [{"run_id": "live", "kind": "run.started"}])
    print("ready", flush=True)
    conn = sqlite3.connect(path, isolation_level=None, timeout=10)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    for i in range(count):
        now = _stamp()
        if fmt == "cr":
            conn.execute(
                "INSERT INTO planned_actions (action_id, run_id, kind, planned_at, payload_json,"
                " status) VALUES (?, 'live', 'inline_comment', ?, '{}', 'pending')",
                (f"a{i}", now),
            )
            conn.execute(
                "UPDATE planned_actions SET attempts = attempts + 1, attempted_at = ? "
                "WHERE action_id = ?",
                (now, f"a{i}"),
            )
            conn.execute(
                "UPDATE planned_actions SET status = 'posted', posted_at = ?, upstream_id = ? "
                "WHERE action_id = ?",
                (_stamp(), f"IC_{i}", f"a{i}"),
            )
            conn.execute("UPDATE runs SET heartbeat_at = ? WHERE run_id = 'live'", (now,))
        elif fmt == "agent-orchestrator":
            conn.execute("BEGIN IMMEDIATE")
            cur = conn.execute(
                "INSERT INTO change_log (session_id, event_type, revision, payload, created_at)"
                " VALUES ('live', 'session_updated', ?, '{}', ?)",
                (i, now),
            )
            conn.execute(
                "INSERT INTO outbox (change_log_seq, created_at) VALUES (?, ?)",
                (cur.lastrowid, now),
            )
            conn.execute("UPDATE sessions SET activity_last_at = ? WHERE id = 'live'", (now,))
            conn.execute("COMMIT")
            conn.execute(
                "UPDATE outbox SET sent = 1, sent_at = ?, attempts = 1 WHERE change_log_seq = ?",
                (_stamp(), cur.lastrowid),
            )
        else:
            conn.execute(
                "INSERT INTO events (id, run_id, turn, kind, actor, payload, created_at) "
                "VALUES (?, 'live', ?, 'agent.thought', 'agent', '{}', ?)",
                (f"live-{i}", i, now),
            )
    conn.close()
    print("done", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]))
