"""Ledger-shaped SQLite files holding any value of any SQLite type in any column (fuzzing).

``build_fuzzed(path, random.Random(seed))`` writes every table ledgerx reads (``run``,
``step``, ``schema_version``, ``writer``, ``rollback_attempt``, ``rollback_lock``) with random
rows: NULL, integers (huge, negative), REALs (inf, -inf, NaN), text (control characters, bidi
overrides, Rich markup, 20,000 characters, numbers as text), BLOBs — mixed with plausible values
so that deeper paths run too. Same seed, same file.
"""

from __future__ import annotations

import math
import os
import random
import socket
import sqlite3
from pathlib import Path

TABLES = {
    "run": [
        "run_id",
        "manifest_path",
        "manifest_hash",
        "profile",
        "environment",
        "company",
        "state",
        "started_at",
        "finished_at",
    ],
    "step": [
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
    ],
    "schema_version": ["version"],
    "writer": ["run_id", "pid", "host", "proc_start", "started_at", "heartbeat_at", "closed_at"],
    "rollback_attempt": [
        "attempt_id",
        "run_id",
        "step_id",
        "method",
        "url",
        "plan_fingerprint",
        "pid",
        "host",
        "intent_ts",
        "outcome_ts",
        "http_status",
        "result",
        "error_message",
    ],
    "rollback_lock": ["run_id", "pid", "host", "proc_start", "acquired_at"],
}
# Declared types as the runner and ledgerx write them, for seeds that keep type affinity.
TYPES = {
    "step_id": "INTEGER",
    "seq": "INTEGER",
    "version": "INTEGER",
    "pid": "INTEGER",
    "attempt_id": "INTEGER",
    "http_status": "INTEGER",
}

ODD: list[object] = [
    None,
    0,
    -1,
    2**31,
    2**63 - 1,
    -(2**63),
    0.5,
    -0.0,
    1e308,
    math.inf,
    -math.inf,
    math.nan,  # SQLite stores NaN as NULL
    "",
    " ",
    "7",
    "1.5",
    "-1e999",
    "NaN",
    "[/",
    "[@click=app.quit]click[/]",
    "[bold red]x",
    "\x1b]8;;http://evil.example\x1b\\link\x1b]8;;\x1b\\",
    "\x00\x07\r\n\t\x9b\u202e\u2066",
    "e" * 20_000,
    "2026-13-45T99:99:99Z",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59.999999Z",
    b"",
    b"\x00\xff\xfe",
    b"committed",
    b"r-1",
]
PLAUSIBLE: dict[str, list[object]] = {
    "run_id": ["r-1", "r-1", "r-2", b"r-1", 1],
    "step_id": [1, 2, 3, 1],
    "attempt_id": [1, 2, 1],
    "seq": [1, 2, 3, 3],
    "version": [1],
    "state": ["running", "completed", "rolled_back", "failed", "partially_committed", None],
    "status": [
        "committed",
        "failed",
        None,
        "rolled_back",
        "rollback_failed",
        "rollback_skipped",
        "skipped",
        "?",
    ],
    "method": ["POST", "POST", "GET", "PATCH", "DELETE", "post"],
    "url": ["http://127.0.0.1:9/api/x", "https://api.example.test/x"],
    "rollback_url": ["http://127.0.0.1:9/api/x(1)", "https://api.example.test/x(2)", None],
    "profile": ["sandbox", "prod", "nowhere", None],
    "pid": [1, os.getpid(), 2**22 + 12345, 2**31, 2**63 - 1],
    "host": [socket.gethostname(), "elsewhere"],
    "result": ["rolled_back", "rollback_failed", None],
    "http_status": [204, 404, 500, None],
}
TIMES: list[object] = [
    "2026-05-17T09:00:00.000000Z",
    "2026-05-17T09:59:59Z",
    "2026-05-17 09:00:00",
    None,
]


def odd_value(rng: random.Random) -> object:
    value = rng.choice(ODD)
    if rng.random() < 0.2:  # and some values no list above foresaw
        value = rng.choice(
            [
                rng.randint(-(2**63), 2**63 - 1),
                rng.uniform(-1e6, 1e6),
                "".join(chr(rng.randint(0, 0x2FFF)) for _ in range(rng.randint(0, 12))),
                rng.randbytes(rng.randint(0, 12)),
            ]
        )
    return value


def value_for(rng: random.Random, column: str, oddness: float) -> object:
    if rng.random() < oddness:
        return odd_value(rng)
    if column in PLAUSIBLE:
        return rng.choice(PLAUSIBLE[column])
    if column.endswith(("_ts", "_at")) or column == "proc_start":
        return rng.choice(TIMES)
    return rng.choice(["x", None, 5])


def build_fuzzed(path: Path, rng: random.Random) -> None:
    """A ledger-shaped file: every table the reader reads, random rows, maybe typed columns."""
    typed = rng.random() < 0.5
    oddness = rng.choice([0.05, 0.2, 0.5])
    conn = sqlite3.connect(path)
    for table, columns in TABLES.items():
        if table not in ("run", "step", "schema_version") and rng.random() < 0.3:
            continue
        declared = [f"{c} {TYPES.get(c, 'TEXT') if typed else ''}".strip() for c in columns]
        conn.execute(f"CREATE TABLE {table} ({', '.join(declared)})")
        rows = 1 if table == "schema_version" else rng.randint(0, 6)
        for _ in range(rows):
            values = [value_for(rng, c, oddness) for c in columns]
            if table == "schema_version" and rng.random() < 0.85:
                values = [1]  # mostly a ledger, so that the deeper paths run
            conn.execute(f"INSERT INTO {table} VALUES ({', '.join('?' * len(values))})", values)
    conn.commit()
    conn.close()
