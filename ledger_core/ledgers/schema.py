"""The ledger's SQL: the runner's schema v1 tables, and the tables ledgerx adds beside them.

ledgerx only ever adds tables (never columns to ``run``/``step``) so a file stays readable by
the original runner. The derived step status is expressed once in SQL (``STEP_STATUS_SQL``) so
aggregate queries and Python (``derive.step_status``) agree; a test holds them together.
"""

from __future__ import annotations

SCHEMA_VERSION = 1

RUN_STATES = (
    "planned",
    "running",
    "partially_committed",
    "completed",
    "failed",
    "cancelled",
    "rolled_back",
)

RUNNER_DDL = """
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

# Who is writing: lets a reader tell a dead writer (pid gone on this host) from a slow one.
WRITER_DDL = """
CREATE TABLE IF NOT EXISTS writer (
  run_id TEXT NOT NULL, pid INTEGER NOT NULL, host TEXT NOT NULL,
  proc_start TEXT, started_at TEXT NOT NULL, heartbeat_at TEXT NOT NULL, closed_at TEXT,
  PRIMARY KEY (run_id, pid, host));
"""

# Every rollback DELETE: intent before the request, outcome after it.
ROLLBACK_DDL = """
CREATE TABLE IF NOT EXISTS rollback_attempt (
  attempt_id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT NOT NULL, step_id INTEGER NOT NULL, method TEXT NOT NULL, url TEXT NOT NULL,
  plan_fingerprint TEXT, pid INTEGER, host TEXT,
  intent_ts TEXT NOT NULL, outcome_ts TEXT, http_status INTEGER,
  result TEXT, error_message TEXT);
CREATE TABLE IF NOT EXISTS rollback_lock (
  run_id TEXT PRIMARY KEY, pid INTEGER NOT NULL, host TEXT NOT NULL,
  proc_start TEXT, acquired_at TEXT NOT NULL);
"""

# Derived step status, in SQL. Must match derive.step_status exactly.
STEP_STATUS_SQL = """
CASE
  WHEN status IS NULL AND outcome_ts IS NULL THEN 'in_doubt'
  WHEN status IN ('committed','failed','skipped','rolled_back','rollback_skipped',
                  'rollback_failed') THEN status
  ELSE 'unknown'
END
"""
