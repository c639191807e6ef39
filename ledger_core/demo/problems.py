"""Files a demo's problems view should list: the unreadable ledgers operators really meet.

A half-copied (zero-byte) file, a text file named ``.db``, a ledger cut short in the middle of a
page, a ledger written by a newer runner (schema version 2) and an unrelated SQLite database.
Each is made the way it happens in life (a copy that stopped, a newer tool, a wrong directory),
so ``p`` in the demo shows every reason ledgerx gives, and none of them stops the other runs
from listing.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ..ledgers.schema import RUNNER_DDL

# name -> the problem kind ledgerx reports for it (checked by tests/core/test_demo_world.py)
PROBLEM_FILES = {
    "half-copied.db": "empty",
    "notes.db": "not_sqlite",
    "cut-short.db": "corrupt",
    "from-newer-runner.db": "newer_schema",
    "crm-export.sqlite": "not_a_ledger",
}


def _sqlite_file(path: Path, script: str) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.executescript(script)
    finally:
        conn.close()


def write_problem_files(ledger_dir: Path) -> list[Path]:
    """Write the files of ``PROBLEM_FILES`` into ``ledger_dir`` (never over an existing file)."""
    ledger_dir = Path(ledger_dir)
    made: list[Path] = []

    def new(name: str) -> Path:
        path = ledger_dir / name
        if path.exists():
            raise FileExistsError(f"{path} exists; demo problem files are only written anew")
        made.append(path)
        return path

    new("half-copied.db").write_bytes(b"")
    new("notes.db").write_text("batch notes: rerun the nordics import on Monday\n", "utf-8")

    # A real ledger whose copy stopped half-way through its second page.
    cut = new("cut-short.db")
    _sqlite_file(
        cut,
        RUNNER_DDL
        + "INSERT INTO schema_version VALUES (1);"
        + "INSERT INTO run (run_id, state, started_at) VALUES "
        + "('0c0ffee0cut5h0rt', 'running', '2026-05-17T09:14:03.120391Z');",
    )
    data = cut.read_bytes()
    cut.write_bytes(data[: len(data) - len(data) // 3 - 100])

    _sqlite_file(
        new("from-newer-runner.db"),
        RUNNER_DDL
        + "INSERT INTO schema_version VALUES (1); INSERT INTO schema_version VALUES (2);"
        + "ALTER TABLE run ADD COLUMN retry_of TEXT;",
    )
    _sqlite_file(
        new("crm-export.sqlite"),
        "CREATE TABLE contacts (id INTEGER PRIMARY KEY, name TEXT, email TEXT);"
        "CREATE TABLE deals (id INTEGER PRIMARY KEY, contact_id INTEGER, amount REAL);"
        "INSERT INTO contacts (name, email) VALUES ('Alex Smith', 'alex@example.com');",
    )
    return made
