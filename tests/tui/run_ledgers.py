"""Fixed-time ledgers for the run screen's tests: crashed, partial, hostile, rolled back, huge.

Written with plain SQL (the runner's schema plus ledgerx's tables) so every timestamp is fixed
and snapshots do not depend on the clock. A dead writer is a pid that cannot exist, recorded
with this machine's host name, so liveness derives ``dead`` here and on any other machine.
"""

from __future__ import annotations

import socket
import sqlite3
from pathlib import Path

from ledger_core.ledgers.schema import ROLLBACK_DDL, RUNNER_DDL, WRITER_DDL
from ledger_core.timeutil import to_epoch

NOW_ISO = "2026-05-17T03:40:00.000000Z"
NOW = to_epoch(NOW_ISO)
DEAD_PID = 2**22 + 12345
API = "https://api.example.test/v2.0/companies(ACME)"
STEP_INSERT = (
    "INSERT INTO step (run_id, seq, intent_ts, method, url, body_hash, outcome_ts, status, "
    "bc_correlation_id, error_message, rollback_url) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
)


def _new(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(RUNNER_DDL + WRITER_DDL + ROLLBACK_DDL)
    conn.execute("INSERT INTO schema_version (version) VALUES (1)")
    return conn


def _close(conn: sqlite3.Connection) -> None:
    # Checkpoint and drop the -wal so the file reads like a cleanly closed ledger.
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("PRAGMA journal_mode=DELETE")
    conn.close()


def _run(conn, run_id, *, state, started, finished=None, profile="sandbox", company="ACME"):
    conn.execute(
        "INSERT INTO run VALUES (?,?,?,?,?,?,?,?,?)",
        (
            run_id,
            "manifests/orders-0517.json",
            "sha256:9f2c41",
            profile,
            "test",
            company,
            state,
            started,
            finished,
        ),
    )


def _ts(minute: int, second: int, micro: int = 0) -> str:
    return f"2026-05-17T03:{minute:02d}:{second:02d}.{micro:06d}Z"


def crashed_run(directory: Path) -> Path:
    """A run whose writer died after the intent of step 7: 5 committed, 1 failed, 1 in doubt."""
    path = directory / "crashed-0517.db"
    conn = _new(path)
    run_id = "20260517-031000-crash7"
    _run(conn, run_id, state="running", started=_ts(10, 0))
    conn.execute(
        "INSERT INTO writer VALUES (?,?,?,?,?,?,NULL)",
        (run_id, DEAD_PID, socket.gethostname(), "123456", _ts(10, 0), _ts(12, 5)),
    )
    rows = []
    for seq in range(1, 8):
        minute, second = divmod(seq * 20, 60)
        intent = _ts(10 + minute, second, 120391)
        url = f"{API}/salesOrders"
        if seq == 7:
            rows.append(
                (
                    run_id,
                    seq,
                    _ts(12, 5, 4000),
                    "POST",
                    url,
                    f"b{seq:03d}",
                    None,
                    None,
                    f"corr-{seq:04d}",
                    None,
                    None,
                )
            )
            continue
        outcome = _ts(10 + minute, second + 1 + seq % 3, 900000)
        if seq == 4:
            rows.append(
                (
                    run_id,
                    seq,
                    intent,
                    "PATCH",
                    f"{url}(1004)",
                    f"b{seq:03d}",
                    outcome,
                    "failed",
                    f"corr-{seq:04d}",
                    "HTTP 409 Conflict: the order is locked by another session",
                    None,
                )
            )
            continue
        rows.append(
            (
                run_id,
                seq,
                intent,
                "POST",
                url,
                f"b{seq:03d}",
                outcome,
                "committed",
                f"corr-{seq:04d}",
                None,
                f"{url}(10{seq:02d})",
            )
        )
    conn.executemany(STEP_INSERT, rows)
    _close(conn)
    return path


def partial_run(directory: Path) -> Path:
    """Stamped ``running``, never finished, no writer recorded, quiet for 25 minutes."""
    path = directory / "partial-0517.db"
    conn = _new(path)
    run_id = "20260517-030500-partial"
    _run(conn, run_id, state="running", started=_ts(5, 0), profile="production")
    rows = [
        (
            run_id,
            1,
            _ts(5, 1),
            "POST",
            f"{API}/customers",
            "h1",
            _ts(5, 2),
            "committed",
            "corr-a1",
            None,
            f"{API}/customers(1)",
        ),
        (
            run_id,
            2,
            _ts(5, 3),
            "POST",
            f"{API}/customers",
            "h2",
            _ts(5, 9),
            "failed",
            "corr-a2",
            "HTTP 400 Bad Request: field 'email' is not valid",
            None,
        ),
        (
            run_id,
            3,
            _ts(10, 0),
            "GET",
            f"{API}/items",
            None,
            _ts(15, 0),
            "committed",
            "corr-a3",
            None,
            None,
        ),
    ]
    conn.executemany(STEP_INSERT, rows)
    _close(conn)
    return path


HOSTILE_URL = (
    "https://evil.example/[/]x[@click=app.quit]y[bold red]z\x1b]8;;http://x\x07link\x1b]8;;\x07"
    "\u202etxt.exe"
)
HOSTILE_ERROR = "[/b] \x1b[31mred\x1b[0m " + "very long error " * 300


def hostile_run(directory: Path) -> Path:
    """Markup, terminal escapes, bidi overrides and a huge error in every text field."""
    path = directory / "hostile-0517.db"
    conn = _new(path)
    run_id = "hostile[/]-\x1b[2J-run"
    _run(
        conn,
        run_id,
        state="completed",
        started=_ts(1, 0),
        finished=_ts(2, 0),
        profile="[@click=app.quit]prof",
        company="[b]ACME\u202e",
    )
    rows = [
        (
            run_id,
            1,
            _ts(1, 1),
            "POST[/]",
            HOSTILE_URL,
            "[i]hash",
            _ts(1, 2),
            "committed",
            "[@click=app.bell]corr\x1b[5m",
            HOSTILE_ERROR,
            "[link=http://x]rb[/link]",
        ),
        (run_id, 2, _ts(1, 3), "POST", f"{API}/ok", "h2", None, None, "corr-2", None, None),
    ]
    conn.executemany(STEP_INSERT, rows)
    _close(conn)
    return path


def rolled_back_run(directory: Path) -> Path:
    """A finished partial run with rollback attempts: one undone, one failed, one unanswered."""
    path = directory / "rollback-0517.db"
    conn = _new(path)
    run_id = "20260517-020000-rbk"
    _run(
        conn,
        run_id,
        state="partially_committed",
        started="2026-05-17T02:00:00.000000Z",
        finished="2026-05-17T02:01:00.000000Z",
    )
    base = "2026-05-17T02:00:{:02d}.000000Z"
    rows = [
        (
            run_id,
            1,
            base.format(1),
            "POST",
            f"{API}/orders",
            "h1",
            base.format(2),
            "rolled_back",
            "corr-r1",
            None,
            f"{API}/orders(1)",
        ),
        (
            run_id,
            2,
            base.format(3),
            "POST",
            f"{API}/orders",
            "h2",
            base.format(4),
            "rollback_failed",
            "corr-r2",
            None,
            f"{API}/orders(2)",
        ),
        (
            run_id,
            3,
            base.format(5),
            "POST",
            f"{API}/orders",
            "h3",
            base.format(6),
            "committed",
            "corr-r3",
            None,
            f"{API}/orders(3)",
        ),
        (
            run_id,
            4,
            base.format(7),
            "POST",
            f"{API}/orders",
            "h4",
            base.format(9),
            "failed",
            "corr-r4",
            "HTTP 500 Internal Server Error",
            None,
        ),
    ]
    conn.executemany(STEP_INSERT, rows)
    attempts = [
        (
            run_id,
            3,
            "DELETE",
            f"{API}/orders(3)",
            "fp1",
            1,
            "host",
            "2026-05-17T03:30:00.000000Z",
            None,
            None,
            None,
            None,
        ),
        (
            run_id,
            2,
            "DELETE",
            f"{API}/orders(2)",
            "fp1",
            1,
            "host",
            "2026-05-17T03:30:01.000000Z",
            "2026-05-17T03:30:01.500000Z",
            500,
            "rollback_failed",
            "HTTP 500: upstream timeout",
        ),
        (
            run_id,
            1,
            "DELETE",
            f"{API}/orders(1)",
            "fp1",
            1,
            "host",
            "2026-05-17T03:30:02.000000Z",
            "2026-05-17T03:30:02.100000Z",
            204,
            "rolled_back",
            None,
        ),
    ]
    conn.executemany(
        "INSERT INTO rollback_attempt (run_id, step_id, method, url, plan_fingerprint, pid, host, "
        "intent_ts, outcome_ts, http_status, result, error_message) VALUES "
        "(?,?,?,?,?,?,?,?,?,?,?,?)",
        attempts,
    )
    _close(conn)
    return path


def big_run(directory: Path, steps: int = 100_000) -> Path:
    """One run with ``steps`` steps (the last in doubt), written in one executemany."""
    path = directory / "big-run.db"
    conn = _new(path)
    run_id = "20260517-000000-bulk"
    _run(conn, run_id, state="running", started="2026-05-17T00:00:00.000000Z")

    def rows():
        for i in range(steps):
            second, milli = divmod(i, 100)
            stamp = f"2026-05-17T{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}"
            done = i < steps - 1
            yield (
                run_id,
                i + 1,
                f"{stamp}.{milli * 10:03d}000Z",
                "POST",
                f"{API}/items/{i + 1}",
                None,
                f"{stamp}.{milli * 10 + 5:03d}000Z" if done else None,
                "committed" if done else None,
                f"c{i + 1}",
                None,
                None,
            )

    conn.execute("BEGIN")
    conn.executemany(STEP_INSERT, rows())
    conn.execute("COMMIT")
    _close(conn)
    return path


def empty_run(directory: Path) -> Path:
    """A run whose writer died before recording any step."""
    path = directory / "empty-run-0517.db"
    conn = _new(path)
    run_id = "20260517-033000-nosteps"
    _run(conn, run_id, state="running", started=_ts(30, 0))
    conn.execute(
        "INSERT INTO writer VALUES (?,?,?,?,?,?,NULL)",
        (run_id, DEAD_PID, socket.gethostname(), "123456", _ts(30, 0), _ts(30, 1)),
    )
    _close(conn)
    return path
