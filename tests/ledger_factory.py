"""Build ledger files for tests the way the seed's batch runner writes them: plain sqlite3.

Nothing here goes through ``ledger_core``'s writer, so tests that read these files prove that
ledgerx reads runner-written ledgers, not only its own. The DDL below is copied from SPEC §1.

Public API (other test modules import these; keep it small and stable):

* ``RunSpec`` / ``StepSpec`` — plain descriptions of a run and its steps; ``StepSpec`` helpers
  ``committed(seq)``, ``failed(seq)``, ``in_doubt(seq)`` cover the usual shapes.
* ``make_ledger(path, runs, *, journal="wal", writers=())`` — one file holding ``runs``.
* ``make_ledger_dir(directory, runs)`` — one ``<run_id>.db`` per run, like the runner.
* ``add_writer(path, run_id, pid=..., host=...)`` — ledgerx's ``writer`` row (dead pid default).
* ``make_unrelated_db``, ``make_zero_byte``, ``make_garbage``, ``make_truncated``,
  ``make_schema_version(path, version)`` — bad files.
* ``make_crashed_wal(path, runs)`` — a WAL ledger whose writer was SIGKILLed (``-wal`` and
  ``-shm`` left behind, the last rows only in the ``-wal``).
* ``dir_state(directory)`` — name -> bytes of every file, to prove reads change nothing.
* ``hostile_strings()`` — name -> untrusted text that must be shown literally.
* ``DEAD_PID`` — a pid that cannot exist (above the kernel's pid_max).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

# Above Linux's PID_MAX_LIMIT (2**22), so never a live process.
DEAD_PID = 2**22 + 12345

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

# ledgerx's own table, as SPEC §1 allows; written by hand here to fake a dead writer.
WRITER_DDL = """
CREATE TABLE IF NOT EXISTS writer (
  run_id TEXT NOT NULL, pid INTEGER NOT NULL, host TEXT NOT NULL,
  proc_start TEXT, started_at TEXT NOT NULL, heartbeat_at TEXT NOT NULL, closed_at TEXT,
  PRIMARY KEY (run_id, pid, host));
"""

BASE_URL = "https://api.example.test/v2.0/companies(1)"


@dataclass
class StepSpec:
    """One step row; ``outcome_ts=None`` and ``status=None`` is an intent without outcome."""

    seq: int
    method: str = "POST"
    url: str = f"{BASE_URL}/salesOrders"
    status: str | None = "committed"
    intent_ts: str = "2026-05-17T09:00:00.000000Z"
    outcome_ts: str | None = "2026-05-17T09:00:00.250000Z"
    body_hash: str | None = "sha256:00"
    bc_correlation_id: str | None = None
    error_message: str | None = None
    rollback_url: str | None = None

    @classmethod
    def committed(cls, seq: int, **kw: object) -> StepSpec:
        kw.setdefault("bc_correlation_id", f"corr-{seq}")
        kw.setdefault("rollback_url", f"{BASE_URL}/salesOrders(id-{seq})")
        return cls(seq, **kw)  # type: ignore[arg-type]

    @classmethod
    def failed(cls, seq: int, **kw: object) -> StepSpec:
        kw.setdefault("error_message", "HTTP 400: bad request")
        return cls(seq, status="failed", **kw)  # type: ignore[arg-type]

    @classmethod
    def in_doubt(cls, seq: int, **kw: object) -> StepSpec:
        return cls(seq, status=None, outcome_ts=None, **kw)  # type: ignore[arg-type]


@dataclass
class RunSpec:
    """One run row and its steps. ``finished_at=None`` is an unfinished (or crashed) run."""

    run_id: str
    state: str | None = "running"
    started_at: str | None = "2026-05-17T09:00:00.000000Z"
    finished_at: str | None = None
    profile: str | None = "sandbox"
    environment: str | None = "sandbox"
    company: str | None = "CRONUS"
    manifest_path: str | None = "/manifests/orders.yaml"
    manifest_hash: str | None = "sha256:abc"
    steps: Sequence[StepSpec] = field(default_factory=list)


def _insert(conn: sqlite3.Connection, runs: Iterable[RunSpec]) -> None:
    for run in runs:
        conn.execute(
            "INSERT INTO run (run_id, manifest_path, manifest_hash, profile, environment, "
            "company, state, started_at, finished_at) VALUES (?,?,?,?,?,?,?,?,?)",
            (
                run.run_id,
                run.manifest_path,
                run.manifest_hash,
                run.profile,
                run.environment,
                run.company,
                run.state,
                run.started_at,
                run.finished_at,
            ),
        )
        conn.executemany(
            "INSERT INTO step (run_id, seq, intent_ts, method, url, body_hash, outcome_ts, "
            "status, bc_correlation_id, error_message, rollback_url) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            [
                (
                    run.run_id,
                    s.seq,
                    s.intent_ts,
                    s.method,
                    s.url,
                    s.body_hash,
                    s.outcome_ts,
                    s.status,
                    s.bc_correlation_id,
                    s.error_message,
                    s.rollback_url,
                )
                for s in run.steps
            ],
        )


def make_ledger(
    path: Path | str,
    runs: Iterable[RunSpec] = (),
    *,
    journal: str = "wal",
    schema_version: int | None = 1,
    writers: Iterable[tuple[str, int, str]] = (),
) -> Path:
    """Write ``runs`` into one ledger file as the runner would, and close it cleanly.

    ``journal`` is ``"wal"`` (the runner's mode) or ``"delete"`` (a rollback-journal file).
    ``writers`` are ``(run_id, pid, host)`` rows for ledgerx's ``writer`` table.
    """
    path = Path(path)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute(f"PRAGMA journal_mode={journal}")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.executescript(RUNNER_DDL)
        if schema_version is not None:
            conn.execute("INSERT OR IGNORE INTO schema_version VALUES (?)", (schema_version,))
        # One transaction: a run of 12,000 steps is written in a blink, and nothing a
        # reader sees differs from autocommitted rows once the file is closed.
        conn.execute("BEGIN")
        _insert(conn, runs)
        conn.execute("COMMIT")
        for run_id, pid, host in writers:
            _writer_row(conn, run_id, pid, host)
    finally:
        conn.close()
    return path


def make_ledger_dir(directory: Path | str, runs: Iterable[RunSpec]) -> list[Path]:
    """One ``<run_id>.db`` per run in ``directory`` (created if needed)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    return [make_ledger(directory / f"{run.run_id}.db", [run]) for run in runs]


def _writer_row(
    conn: sqlite3.Connection,
    run_id: str,
    pid: int,
    host: str,
    heartbeat: str = "2026-05-17T09:00:01.000000Z",
) -> None:
    conn.executescript(WRITER_DDL)
    conn.execute(
        "INSERT OR REPLACE INTO writer (run_id, pid, host, proc_start, started_at, heartbeat_at) "
        "VALUES (?,?,?,NULL,?,?)",
        (run_id, pid, host, heartbeat, heartbeat),
    )


def add_writer(
    path: Path | str, run_id: str, *, pid: int = DEAD_PID, host: str | None = None
) -> None:
    """Record a writer for ``run_id`` (default: a dead pid on this host)."""
    import socket

    conn = sqlite3.connect(path, isolation_level=None)
    try:
        _writer_row(conn, run_id, pid, host or socket.gethostname())
    finally:
        conn.close()


def make_schema_version(path: Path | str, version: int | None) -> Path:
    """A runner-shaped file whose ``schema_version`` holds ``version`` (None: table empty)."""
    return make_ledger(path, [RunSpec("r-schema")], schema_version=version)


def make_unrelated_db(path: Path | str) -> Path:
    """A valid SQLite database that has nothing to do with ledgers."""
    path = Path(path)
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE recipes (name TEXT, minutes INTEGER)")
    conn.execute("INSERT INTO recipes VALUES ('soup', 30)")
    conn.commit()
    conn.close()
    return path


def make_zero_byte(path: Path | str) -> Path:
    path = Path(path)
    path.write_bytes(b"")
    return path


def make_garbage(path: Path | str, size: int = 8192) -> Path:
    """Bytes that are not SQLite at all (a text file renamed to .db)."""
    path = Path(path)
    path.write_bytes((b"not a database, just some text\n" * (size // 31 + 1))[:size])
    return path


def make_truncated(path: Path | str, keep: int = 1500) -> Path:
    """A real ledger cut after ``keep`` bytes, as a failed copy leaves it."""
    path = Path(path)
    make_ledger(path, [RunSpec("r-trunc", steps=[StepSpec.committed(i) for i in range(1, 40)])])
    data = path.read_bytes()
    path.write_bytes(data[:keep])
    return path


def make_crashed_wal(path: Path | str, runs: Sequence[RunSpec]) -> Path:
    """Write ``runs`` in a subprocess that SIGKILLs itself before closing: ``-wal`` is left.

    The rows are committed (WAL, autocommit) but never checkpointed into the main file.
    """
    path = Path(path)
    make_ledger(path, [])
    code = textwrap.dedent(
        f"""
        import os, signal, sqlite3, sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from ledger_factory import RunSpec, StepSpec, _insert
        runs = eval(sys.stdin.read())
        conn = sqlite3.connect({str(path)!r}, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        _insert(conn, runs)
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], input=repr(list(runs)), text=True, capture_output=True
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert Path(str(path) + "-wal").exists()
    return path


def dir_state(directory: Path | str) -> dict[str, bytes]:
    """Every file under ``directory`` (relative name -> bytes)."""
    directory = Path(directory)
    out = {}
    for root, _dirs, files in os.walk(directory):
        for name in files:
            full = Path(root) / name
            out[str(full.relative_to(directory))] = full.read_bytes()
    return out


def hostile_strings() -> dict[str, str]:
    """Untrusted text that must reach a screen literally and inert (SPEC §6, §7)."""
    return {
        "markup_close": "[/]",
        "markup_close_tag": "[/bold] oops [/",
        "click_action": "[@click=app.quit]click me[/]",
        "link": "[link=https://evil.test]harmless[/link]",
        "clear_screen": "\x1b[2J\x1b[H cleared",
        "osc_title": "\x1b]0;pwned title\x07",
        "osc52_clipboard": "\x1b]52;c;cm0gLXJmIH4=\x07",
        "osc8_link": "\x1b]8;;https://evil.test\x1b\\text\x1b]8;;\x1b\\",
        "nul": "before\x00after",
        "bidi_override": "invoice\u202efdp.exe",
        "bidi_isolate": "\u2066isolated\u2069",
        "c1_csi": "\x9b31mred",
        "del": "x\x7fy",
        "newline": "line one\nline two\r\n",
    }


def make_corrupt(path: Path | str) -> Path:
    """A ledger whose header is intact but whose schema page is overwritten with junk."""
    path = Path(path)
    make_ledger(path, [RunSpec("r-corrupt", steps=[StepSpec.committed(1)])], journal="delete")
    data = bytearray(path.read_bytes())
    data[100:4096] = (b"\xab\xcd" * 2048)[: 4096 - 100]
    path.write_bytes(bytes(data))
    return path


def make_hot_journal(path: Path | str) -> Path:
    """A rollback-journal ledger whose writer was SIGKILLed mid-transaction (hot journal)."""
    path = Path(path)
    make_ledger(path, [RunSpec("r-hot", steps=[StepSpec.committed(1)])], journal="delete")
    code = textwrap.dedent(
        f"""
        import os, signal, sqlite3
        conn = sqlite3.connect({str(path)!r}, isolation_level=None)
        conn.execute("PRAGMA cache_size=1")  # spill dirty pages to the file before commit
        conn.execute("BEGIN")
        for i in range(400):
            conn.execute(
                "INSERT INTO step (run_id, seq, intent_ts, method, url) VALUES (?,?,?,?,?)",
                ("r-hot", i + 2, "2026-05-17T09:00:00Z", "POST", "x" * 500),
            )
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    journal = Path(str(path) + "-journal")
    assert journal.exists() and journal.stat().st_size > 0
    return path


class ExclusiveLock:
    """Another process holding ``BEGIN EXCLUSIVE`` on a rollback-journal ledger.

    Use as a context manager; the lock is held once ``__enter__`` returns.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> ExclusiveLock:
        code = textwrap.dedent(
            f"""
            import sqlite3, sys
            conn = sqlite3.connect({str(self.path)!r}, isolation_level=None)
            conn.execute("BEGIN EXCLUSIVE")
            print("locked", flush=True)
            sys.stdin.read()
            conn.execute("ROLLBACK")
            """
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        assert self.proc.stdout.readline().strip() == "locked"
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
