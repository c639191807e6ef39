"""The baselines ledgerx is measured against, each run as its own process by ``bench``.

``python -m bench.baselines KIND ARGS``:

* ``runner DIR`` — what the seed's batch runner does to list: per file a read-write open with
  its pragmas, the ``CREATE TABLE IF NOT EXISTS`` schema check, the run row, every step row,
  state derived in Python, then JSON. It WRITES to the files (that is the trap ledgerx avoids),
  so ``bench`` runs it on a copy of the data.
* ``floor DIR`` — the least any lister can do: per file one read-only open and one aggregate
  query, sequentially, printing nothing but a count.
* ``groupby FILE`` — one ``GROUP BY run_id`` aggregate query over a many-run file.
* ``select FILE RUN_ID`` — a plain ``SELECT * FROM step WHERE run_id = ?``.
"""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

# The seed runner's schema check, verbatim in spirit: CREATE TABLE IF NOT EXISTS on every open.
_RUNNER_DDL = """
CREATE TABLE IF NOT EXISTS run (
  run_id TEXT PRIMARY KEY, manifest_path TEXT, manifest_hash TEXT,
  profile TEXT, environment TEXT, company TEXT,
  state TEXT CHECK (state IN ('planned','running','partially_committed','completed',
                              'failed','cancelled','rolled_back')),
  started_at TEXT, finished_at TEXT);
CREATE TABLE IF NOT EXISTS step (
  step_id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT NOT NULL REFERENCES run(run_id),
  seq INTEGER NOT NULL, intent_ts TEXT NOT NULL, method TEXT NOT NULL, url TEXT NOT NULL,
  body_hash TEXT, outcome_ts TEXT, status TEXT, bc_correlation_id TEXT,
  error_message TEXT, rollback_url TEXT);
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY);
"""

_AGGREGATE = (
    "SELECT run_id, count(*), sum(status = 'committed'), sum(status = 'failed'), "
    "sum(outcome_ts IS NULL), max(intent_ts), max(outcome_ts) FROM step GROUP BY run_id"
)


def compute_run_state(run: sqlite3.Row, steps: list[sqlite3.Row]) -> str:
    """The runner's derivation (SPEC §2), in Python over every step row."""
    if run["finished_at"] is not None and run["state"] is not None:
        return run["state"]
    if not steps:
        return "running"
    statuses = [s["status"] for s in steps]
    if all(s in ("rolled_back", "rollback_skipped") for s in statuses):
        return "rolled_back"
    committed = any(s == "committed" for s in statuses)
    unknown = any(s is None or s == "unknown" for s in statuses)
    failed = any(s == "failed" for s in statuses)
    if committed and (failed or unknown):
        return "partially_committed"
    if all(s == "committed" for s in statuses):
        return "completed"
    if all(s == "failed" for s in statuses):
        return "failed"
    return "running"


def runner(directory: str) -> None:
    runs = []
    for path in sorted(Path(directory).glob("*.db")):
        try:
            conn = sqlite3.connect(path, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(_RUNNER_DDL)
            for run in conn.execute("SELECT * FROM run").fetchall():
                steps = conn.execute(
                    "SELECT * FROM step WHERE run_id = ? ORDER BY seq", (run["run_id"],)
                ).fetchall()
                entry = dict(run)
                entry["state"] = compute_run_state(run, steps)
                entry["step_count"] = len(steps)
                runs.append(entry)
            conn.close()
        except sqlite3.DatabaseError:
            continue  # the runner skips malformed files
    runs.sort(key=lambda r: r["started_at"] or "", reverse=True)
    sys.stdout.write(json.dumps(runs, indent=2) + "\n")


def floor(directory: str) -> None:
    total = 0
    for path in sorted(Path(directory).glob("*.db")):
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
        total += len(conn.execute(_AGGREGATE).fetchall())
        conn.close()
    print(total)


def groupby(file: str) -> None:
    conn = sqlite3.connect(f"{Path(file).resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    print(len(conn.execute(_AGGREGATE).fetchall()))
    conn.close()


def select(file: str, run_id: str) -> None:
    conn = sqlite3.connect(f"{Path(file).resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    print(len(conn.execute("SELECT * FROM step WHERE run_id = ?", (run_id,)).fetchall()))
    conn.close()


if __name__ == "__main__":
    kind, *args = sys.argv[1:]
    {"runner": runner, "floor": floor, "groupby": groupby, "select": select}[kind](*args)
