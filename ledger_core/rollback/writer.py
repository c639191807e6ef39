"""Write ledgers the way the seed's batch runner does, plus a record of who is writing.

WAL, ``synchronous=NORMAL``, autocommit: ``write_intent`` returns only once the intent row is
committed, so the caller may then send its request; ``write_outcome`` records the answer. The
``writer`` table (ledgerx's own) holds pid, host and process start time with a heartbeat, so a
reader can tell a dead writer from a slow one. Files stay readable by the original runner.
"""

from __future__ import annotations

import sqlite3
import stat
import time
from pathlib import Path

from ..derive import process_identity
from ..errors import LedgerxError, SourceError
from ..ledgers.access import hold, release
from ..ledgers.reader import check_ledger
from ..ledgers.schema import RUN_STATES, RUNNER_DDL, SCHEMA_VERSION, WRITER_DDL
from ..timeutil import now_iso


class _HeldConnection(sqlite3.Connection):
    """A connection that tells ``access`` while it is open (see ``access.hold``)."""

    held: tuple[int, int] | None = None

    def close(self) -> None:
        try:
            super().close()
        finally:
            key, self.held = self.held, None
            release(key)

    def __del__(self) -> None:  # dropped without close(): SQLite closes it, forget the file
        key, self.held = self.held, None
        release(key)


def open_readwrite(path: Path, *, create: bool = False, timeout: float = 5.0) -> sqlite3.Connection:
    """A read-write autocommit connection to a ledger, with the runner's pragmas.

    With ``create`` a missing file becomes a new schema-v1 ledger; an existing file must already
    be a ledger (ledgerx never adds tables to unrelated databases).
    """
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise SourceError(str(path), "unreadable", f"cannot be read ({exc.strerror})") from None
    if st is not None and not stat.S_ISREG(st.st_mode):
        # SQLite would raise its own error for a directory, and block on a FIFO.
        raise SourceError(str(path), "not_a_file", "not a regular file")
    existed = st is not None and st.st_size > 0
    if not existed and not create:
        if st is None:
            raise SourceError(str(path), "missing", "no such ledger file")
        raise SourceError(str(path), "empty", "zero-byte file: not a ledger")
    try:
        conn = sqlite3.connect(
            str(path), timeout=timeout, isolation_level=None, factory=_HeldConnection
        )
        conn.held = hold(path)
    except sqlite3.Error as exc:
        raise SourceError(str(path), "unreadable", f"cannot be opened for writing: {exc}") from None
    try:
        conn.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
        if existed:
            # Before any pragma: switching journal mode rewrites the header, and a file that
            # is not a ledger must be left exactly as it was.
            check_ledger(conn, path)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        if not existed:
            conn.executescript(RUNNER_DDL)
            conn.execute(
                "INSERT OR IGNORE INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,)
            )
    except sqlite3.Error as exc:
        conn.close()
        raise SourceError(str(path), "unreadable", f"cannot be opened for writing: {exc}") from None
    except LedgerxError:
        conn.close()
        raise
    return conn


class LedgerWriter:
    """Appends one run's intents and outcomes to a ledger file.

    Typical use, mirroring the runner::

        with LedgerWriter(path) as ledger:
            ledger.start_run(run_id, profile="sandbox", ...)
            step_id = ledger.write_intent(seq=1, method="POST", url=url, body_hash=h)
            ...send the request...
            ledger.write_outcome(step_id, "committed", correlation_id=cid, rollback_url=u)
            ledger.finish_run("completed")
    """

    def __init__(self, path: Path | str, *, heartbeat_every: float = 1.0) -> None:
        self.path = Path(path)
        self.conn = open_readwrite(self.path, create=True)
        self.conn.executescript(WRITER_DDL)
        self.run_id: str | None = None
        self._heartbeat_every = heartbeat_every
        self._last_beat = 0.0
        self._pid, self._host, self._proc_start = process_identity()

    def __enter__(self) -> LedgerWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the file, recording that this writer is done with the run."""
        if self.run_id is not None:
            self.conn.execute(
                "UPDATE writer SET closed_at = ? WHERE run_id = ? AND pid = ? AND host = ?",
                (now_iso(), self.run_id, self._pid, self._host),
            )
        self.conn.close()

    def _run(self) -> str:
        if self.run_id is None:
            raise LedgerxError("start_run must be called first")
        return self.run_id

    def _beat(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last_beat >= self._heartbeat_every:
            self._last_beat = now
            self.conn.execute(
                "UPDATE writer SET heartbeat_at = ? WHERE run_id = ? AND pid = ? AND host = ?",
                (now_iso(), self.run_id, self._pid, self._host),
            )

    def start_run(
        self,
        run_id: str,
        *,
        manifest_path: str | None = None,
        manifest_hash: str | None = None,
        profile: str | None = None,
        environment: str | None = None,
        company: str | None = None,
        started_at: str | None = None,
    ) -> str:
        """Insert the run row (stamped ``running``) and this process's writer row."""
        started = started_at or now_iso()
        try:
            self.conn.execute(
                "INSERT INTO run (run_id, manifest_path, manifest_hash, profile, environment, "
                "company, state, started_at, finished_at) VALUES (?,?,?,?,?,?,'running',?,NULL)",
                (run_id, manifest_path, manifest_hash, profile, environment, company, started),
            )
        except sqlite3.IntegrityError:
            raise LedgerxError(f"run {run_id!r} already exists in {self.path}") from None
        self.conn.execute(
            "INSERT OR REPLACE INTO writer (run_id, pid, host, proc_start, started_at, "
            "heartbeat_at) VALUES (?,?,?,?,?,?)",
            (run_id, self._pid, self._host, self._proc_start, started, started),
        )
        self.run_id = run_id
        return run_id

    def write_intent(
        self,
        *,
        seq: int,
        method: str,
        url: str,
        body_hash: str | None = None,
        intent_ts: str | None = None,
    ) -> int:
        """Record that a request is about to be sent; committed when this returns.

        Committed survives a crash of this process, not a power loss: WAL with
        ``synchronous=NORMAL`` may lose the last transactions if the machine goes down (SPEC §7).
        """
        cursor = self.conn.execute(
            "INSERT INTO step (run_id, seq, intent_ts, method, url, body_hash) "
            "VALUES (?,?,?,?,?,?)",
            (self._run(), seq, intent_ts or now_iso(), method, url, body_hash),
        )
        self._beat()
        return int(cursor.lastrowid)

    def write_outcome(
        self,
        step_id: int,
        status: str,
        *,
        correlation_id: str | None = None,
        error_message: str | None = None,
        rollback_url: str | None = None,
        outcome_ts: str | None = None,
    ) -> None:
        """Record the answer to a step's request."""
        self.conn.execute(
            "UPDATE step SET outcome_ts = ?, status = ?, bc_correlation_id = ?, "
            "error_message = ?, rollback_url = ? WHERE step_id = ?",
            (outcome_ts or now_iso(), status, correlation_id, error_message, rollback_url, step_id),
        )
        self._beat()

    def finish_run(self, state: str, *, finished_at: str | None = None) -> None:
        """Stamp the run's final state and finish time."""
        if state not in RUN_STATES:
            raise LedgerxError(f"unknown run state {state!r}")
        self.conn.execute(
            "UPDATE run SET state = ?, finished_at = ? WHERE run_id = ?",
            (state, finished_at or now_iso(), self._run()),
        )
        self._beat(force=True)
