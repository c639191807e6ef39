"""Fixed-time ledgers for the rollback UI tests, with URLs under a given base URL.

The rollback tests send real DELETEs to a loopback server, so the ledger's rollback targets
must live under that server's base URL; everything else (timestamps, ids, writer) is fixed so
that snapshots do not depend on the clock. The writer is a pid that cannot exist, recorded
with this machine's host name, so the run derives ``dead`` and a rollback is allowed.
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
FIXED_BASE = "http://127.0.0.1:8765"
CRASHED_ID = "7c41e9a2-crashed-orders"
PROD_ID = "b20f5d17-prod-invoices"
STEP_INSERT = (
    "INSERT INTO step (run_id, seq, intent_ts, method, url, body_hash, outcome_ts, status, "
    "bc_correlation_id, error_message, rollback_url) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
)


def _ts(minute: int, second: int, micro: int = 0) -> str:
    return f"2026-05-17T03:{minute:02d}:{second:02d}.{micro:06d}Z"


def _ledger(path: Path, run_id: str, profile: str, rows: list[tuple]) -> Path:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(RUNNER_DDL + WRITER_DDL + ROLLBACK_DDL)
    conn.execute("INSERT INTO schema_version (version) VALUES (1)")
    conn.execute(
        "INSERT INTO run VALUES (?,?,?,?,?,?,?,?,?)",
        (
            run_id,
            "manifests/orders-0517.json",
            "sha256:9f2c41",
            profile,
            "test",
            "ACME",
            "running",
            _ts(10, 0),
            None,
        ),
    )
    conn.execute(
        "INSERT INTO writer VALUES (?,?,?,?,?,?,NULL)",
        (run_id, DEAD_PID, socket.gethostname(), "123456", _ts(10, 0), _ts(12, 5)),
    )
    conn.executemany(STEP_INSERT, [(run_id, *row) for row in rows])
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("PRAGMA journal_mode=DELETE")
    conn.close()
    return path


def crashed_rows(base_url: str) -> list[tuple]:
    """Writer died after the intent of step 8: 4 POSTs to undo, one PATCH, one failed, one
    POST without a rollback URL, a GET, and the last POST in doubt."""
    api = f"{base_url}/api/v2.0/companies(ACME)"
    return [
        (
            1,
            _ts(10, 1),
            "GET",
            f"{api}/customers?$top=5",
            None,
            _ts(10, 1, 400000),
            "committed",
            "corr-0001",
            None,
            None,
        ),
        (
            2,
            _ts(10, 20),
            "POST",
            f"{api}/salesOrders",
            "b002",
            _ts(10, 21),
            "committed",
            "corr-0002",
            None,
            f"{api}/salesOrders(1002)",
        ),
        (
            3,
            _ts(10, 40),
            "POST",
            f"{api}/salesOrders",
            "b003",
            _ts(10, 41),
            "committed",
            "corr-0003",
            None,
            f"{api}/salesOrders(1003)",
        ),
        (
            4,
            _ts(11, 0),
            "PATCH",
            f"{api}/customers(42)",
            "b004",
            _ts(11, 1),
            "committed",
            "corr-0004",
            None,
            None,
        ),
        (
            5,
            _ts(11, 20),
            "POST",
            f"{api}/salesOrders",
            "b005",
            _ts(11, 22),
            "failed",
            "corr-0005",
            "HTTP 409 Conflict: the order is locked by another session",
            None,
        ),
        (
            6,
            _ts(11, 40),
            "POST",
            f"{api}/salesOrders",
            "b006",
            _ts(11, 41),
            "committed",
            "corr-0006",
            None,
            f"{api}/salesOrders(1006)",
        ),
        (
            7,
            _ts(12, 0),
            "POST",
            f"{api}/journalLines",
            "b007",
            _ts(12, 1),
            "committed",
            "corr-0007",
            None,
            None,
        ),
        (
            8,
            _ts(12, 2),
            "POST",
            f"{api}/salesOrders",
            "b008",
            _ts(12, 3),
            "committed",
            "corr-0008",
            None,
            f"{api}/salesOrders(1008)",
        ),
        (
            9,
            _ts(12, 5, 4000),
            "POST",
            f"{api}/salesOrders",
            "b009",
            None,
            None,
            "corr-0009",
            None,
            None,
        ),
    ]


def crashed_ledger(directory: Path, base_url: str = FIXED_BASE, profile: str = "sandbox") -> Path:
    """The crashed run on the write-enabled profile (4 DELETEs to send)."""
    return _ledger(directory / "crashed-orders.db", CRASHED_ID, profile, crashed_rows(base_url))


def production_ledger(directory: Path, base_url: str = FIXED_BASE) -> Path:
    """The same shape of crash on the ``production`` profile, which has writes disabled."""
    return _ledger(directory / "prod-invoices.db", PROD_ID, "production", crashed_rows(base_url))


def profiles_toml(directory: Path, base_url: str, *, readonly: bool = False) -> Path:
    """``sandbox`` may write to ``base_url``; ``production`` may not."""
    path = directory / "profiles.toml"
    path.write_text(
        ("[defaults]\nreadonly = true\n\n" if readonly else "")
        + f'[profiles.sandbox]\nbase_url = "{base_url}"\ntimeout = 5\n\n'
        + f'[profiles.production]\nbase_url = "{base_url}"\ndisable_writes = true\n',
        encoding="utf-8",
    )
    return path
