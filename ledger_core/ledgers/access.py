"""Open a ledger file for reading without ever changing, creating or leaving anything behind.

SQLite's own read-only mode is not enough (SPEC §7): opening a cleanly closed WAL database
with ``mode=ro`` creates ``-wal``/``-shm`` files and leaves them behind. So:

* a WAL file with no ``-wal`` beside it has no writer; it is read with ``immutable=1`` and the
  file's size, mtime and the absence of ``-wal`` are checked again afterwards — if a writer
  appeared meanwhile the read is done again the normal way;
* a WAL file with a ``-wal`` beside it that another process holds open (a live writer,
  ``holders``) is read with ``mode=ro``, which then creates nothing, under SQLite's normal
  locking so the writer stays correct; so is one this process holds open (``hold``);
* a WAL file with a ``-wal`` that no process holds open (a crashed writer's leftovers, with or
  without their ``-shm``, or a copy of them) is read from a private copy of the file and its
  ``-wal``: SQLite, as the first connection, would rewrite the ``-shm`` (or create it);
* a rollback-journal file is read with ``mode=ro`` (never creates a journal).

Before SQLite sees a file, its header is checked so that zero-byte, foreign and truncated files
get a precise reason instead of a generic "file is not a database". Every error is turned into
``SourceError`` with a ``kind`` and a sentence. Reads are short: callers run their queries in
one ``snapshot`` and the connection is closed at once, so a live writer's WAL can checkpoint.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import stat
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from ..errors import SourceError
from . import holders

T = TypeVar("T")

SQLITE_MAGIC = b"SQLite format 3\x00"
DEFAULT_LOCK_TIMEOUT = 2.0


def _uri(path: Path, params: str) -> str:
    # as_uri() percent-encodes '#', '?', spaces and brackets, so they cannot end the path early.
    return f"{path.resolve().as_uri()}?{params}"


def _sidecar(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def _fingerprint(path: Path) -> tuple[int, int, bool]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns, _sidecar(path, "-wal").exists()


# Files this process holds an SQLite connection open on (``writer.open_readwrite``), by device
# and inode, with a count. POSIX record locks belong to the process, and closing ANY descriptor
# of a file drops all of the process's locks on it: reading the header below with open/close
# would silently release the locks of such a connection (the rollback executor re-reads the
# ledger it holds open), letting another process checkpoint and delete the -wal under it.
# SQLite's own connections coordinate inside the process, so such files are read through SQLite
# only.
_held_here: dict[tuple[int, int], int] = {}
_held_lock = threading.Lock()


def hold(path: Path | str) -> tuple[int, int] | None:
    """Note that this process now holds an SQLite connection on ``path``; returns the key for
    ``release`` (``None`` when the file cannot be stat'ed)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    key = (st.st_dev, st.st_ino)
    with _held_lock:
        _held_here[key] = _held_here.get(key, 0) + 1
    return key


def release(key: tuple[int, int] | None) -> None:
    """The connection ``hold`` noted is closed."""
    if key is None:
        return
    with _held_lock:
        left = _held_here.get(key, 0) - 1
        if left > 0:
            _held_here[key] = left
        else:
            _held_here.pop(key, None)


def held_here(st: os.stat_result) -> bool:
    """Whether this process holds an SQLite connection on the file ``st`` describes."""
    return (st.st_dev, st.st_ino) in _held_here


def check_header(path: Path) -> bool:
    """Validate that ``path`` can be an SQLite database; return True if it is in WAL mode.

    Raises ``SourceError`` naming the problem (missing, empty, not SQLite, truncated).
    """
    name = str(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise SourceError(name, "missing", "no such file") from None
    except OSError as exc:
        raise SourceError(name, "unreadable", f"cannot be read ({exc.strerror})") from None
    if not stat.S_ISREG(st.st_mode):
        raise SourceError(name, "not_a_file", "not a regular file")
    if st.st_size == 0:
        raise SourceError(
            name, "empty", "zero-byte file: not a ledger (a writer may have died creating it)"
        )
    if held_here(st):
        # Our own read-write connection has it open: a ledger ledgerx writes, in WAL mode.
        # Opening and closing it here would drop that connection's locks (see ``hold``).
        return True
    try:
        with open(path, "rb") as handle:
            header = handle.read(100)
    except OSError as exc:
        raise SourceError(name, "unreadable", f"cannot be read ({exc.strerror})") from None
    if not header.startswith(SQLITE_MAGIC):
        raise SourceError(name, "not_sqlite", "not an SQLite database (wrong file header)")
    if len(header) < 100:
        raise SourceError(name, "corrupt", "truncated: shorter than an SQLite header")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    if page_size < 512 or page_size & (page_size - 1):
        raise SourceError(name, "corrupt", "corrupt: the header's page size is invalid")
    if _sidecar(path, "-wal").exists() or _sidecar(path, "-journal").exists():
        # A writer (live or crashed) may be mid-checkpoint or mid-commit: page 1 with the new
        # page count lands before the pages that extend the file, so the size checks below
        # would call a healthy ledger truncated. SQLite itself judges these files.
        return header[18] == 2 and header[19] == 2
    change_counter = int.from_bytes(header[24:28], "big")
    valid_for = int.from_bytes(header[92:96], "big")
    pages = int.from_bytes(header[28:32], "big")
    if valid_for == change_counter and pages and pages * page_size > st.st_size:
        raise SourceError(
            name,
            "corrupt",
            f"truncated: the header promises {pages * page_size:,} bytes, the file has "
            f"{st.st_size:,}",
        )
    if st.st_size % page_size:
        raise SourceError(
            name, "corrupt", f"truncated: size {st.st_size:,} is not a multiple of the page size"
        )
    return header[18] == 2 and header[19] == 2


def _classify(path: Path, exc: sqlite3.Error, timeout: float) -> SourceError:
    name = str(path)
    code = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc)
    if code.startswith("SQLITE_BUSY") or code.startswith("SQLITE_LOCKED") or "locked" in text:
        return SourceError(name, "locked", f"locked by another process; gave up after {timeout:g}s")
    journal = _sidecar(path, "-journal")
    if (
        journal.exists()
        and journal.stat().st_size > 0
        and (code.startswith("SQLITE_READONLY") or code.startswith("SQLITE_CANTOPEN"))
    ):
        return SourceError(
            name,
            "needs_recovery",
            "needs recovery: a crashed writer left a hot journal "
            f"({journal.name}); ledgerx reads only and will not replay it",
        )
    if code.startswith("SQLITE_NOTADB"):
        return SourceError(name, "corrupt", "corrupt: SQLite says it is not a database")
    if code.startswith("SQLITE_CORRUPT"):
        return SourceError(name, "corrupt", "corrupt: the database image is malformed")
    if code.startswith("SQLITE_CANTOPEN") or code.startswith("SQLITE_PERM"):
        return SourceError(name, "unreadable", "cannot be opened for reading")
    if code.startswith("SQLITE_READONLY"):
        return SourceError(
            name,
            "needs_recovery",
            "needs recovery: its write-ahead log must be replayed by a writer first",
        )
    return SourceError(name, "corrupt", f"cannot be read: {text}")


def _lenient_text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def _run(path: Path, uri: str, fn: Callable[[sqlite3.Connection], T], timeout: float) -> T:
    try:
        return _run_once(uri, fn, timeout, lenient=False)
    except sqlite3.OperationalError as exc:
        if "decode" not in str(exc):
            raise
        # A TEXT column holds bytes that are not UTF-8 (a hand-edited or damaged ledger):
        # read it again showing them as U+FFFD, rather than losing the whole file.
        return _run_once(uri, fn, timeout, lenient=True)


def _run_once(
    uri: str, fn: Callable[[sqlite3.Connection], T], timeout: float, *, lenient: bool
) -> T:
    conn = sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None)
    if lenient:
        conn.text_factory = _lenient_text
    try:
        conn.execute("BEGIN")
        try:
            return fn(conn)
        finally:
            conn.execute("COMMIT")
    finally:
        conn.close()


_CHANGED = object()


def _nobody_holds(path: Path) -> bool:
    """Whether a ledger with a ``-wal`` is held open by no process, this one included, so that
    reading it in place would make ledgerx SQLite's first connection (see ``snapshot``).

    A file this process holds open (``hold``) is read in place: SQLite coordinates its own
    connections, and copying it would open and close the file, dropping their locks.
    """
    try:
        if held_here(path.stat()):
            return False
    except OSError:
        return False
    if not _sidecar(path, "-shm").exists():
        return True
    return holders.check(path).state == holders.FREE


def _no_copy(path: Path, exc: OSError) -> SourceError:
    # Reading in place instead would rewrite (or create) the -shm: say why it was not read.
    return SourceError(
        str(path),
        "unreadable",
        "cannot be read without changing its -shm: a private copy of it and its -wal could not "
        f"be made in {tempfile.gettempdir()} ({exc.strerror or exc})",
    )


def _read_private_copy(path: Path, fn: Callable[[sqlite3.Connection], T], timeout: float):
    """Read a ``-wal`` that no process holds open from a private copy of the file and its
    ``-wal`` (never the ``-shm``).

    Such files are a crashed writer's leftovers (or their copy). SQLite, opening them as the
    first connection, rebuilds the wal-index: it rewrites the ``-shm`` beside the ledger, or
    creates one when it is missing (and fails in a read-only directory). A copy in a temporary
    directory gets the same rows and touches nothing. Returns ``_CHANGED`` when a writer
    appeared meanwhile (the files' signatures moved, a ``-shm`` came or went, or a process now
    holds the ledger): then the caller reads in place, as one more of that writer's readers.
    """
    wal, shm = _sidecar(path, "-wal"), _sidecar(path, "-shm")
    try:
        workspace = tempfile.TemporaryDirectory(prefix="ledgerx-read-")
    except OSError as exc:
        raise _no_copy(path, exc) from None
    with workspace as tmp:
        copy = Path(tmp) / "ledger.db"
        try:
            had_shm = shm.exists()
            before = _fingerprint(path), wal.stat().st_size, wal.stat().st_mtime_ns
            shutil.copyfile(path, copy)
            shutil.copyfile(wal, _sidecar(copy, "-wal"))
            after = _fingerprint(path), wal.stat().st_size, wal.stat().st_mtime_ns
        except FileNotFoundError:
            return _CHANGED  # a writer checkpointed and removed the -wal meanwhile
        except OSError as exc:
            raise _no_copy(path, exc) from None
        if after != before or shm.exists() != had_shm:
            return _CHANGED
        if had_shm and holders.check(path).state != holders.FREE:
            return _CHANGED
        return _run(copy, _uri(copy, "mode=ro"), fn, timeout)


def snapshot(
    path: Path, fn: Callable[[sqlite3.Connection], T], *, timeout: float = DEFAULT_LOCK_TIMEOUT
) -> T:
    """Run ``fn`` on a consistent read-only view of ``path``; return its result.

    ``fn`` runs inside one read transaction and must only read. Raises ``SourceError``.
    """
    path = Path(path)
    if path.is_symlink():
        # SQLite follows the link and keeps the -wal/-shm beside its target, so the checks
        # below must look there too: beside the link, a live ledger's -wal would go unseen.
        try:
            target = path.resolve()
        except (OSError, RuntimeError):  # a loop of links
            raise SourceError(str(path), "unreadable", "a symbolic link that never ends") from None
        try:
            return _snapshot(target, fn, timeout)
        except SourceError as exc:
            raise SourceError(str(path), exc.kind, exc.reason) from None
    return _snapshot(path, fn, timeout)


def _snapshot(path: Path, fn: Callable[[sqlite3.Connection], T], timeout: float) -> T:
    is_wal = check_header(path)
    try:
        if is_wal and not _sidecar(path, "-wal").exists():
            before = _fingerprint(path)
            result = _run(path, _uri(path, "mode=ro&immutable=1"), fn, timeout)
            if _fingerprint(path) == before:
                return result
            # A writer started while we read: read again, under locks, now that -wal exists.
        elif is_wal and _nobody_holds(path):
            copied = _read_private_copy(path, fn, timeout)
            if copied is not _CHANGED:
                return copied  # type: ignore[return-value]
        return _run(path, _uri(path, "mode=ro"), fn, timeout)
    except sqlite3.Error as exc:
        raise _classify(path, exc, timeout) from None
    except OSError as exc:
        raise SourceError(str(path), "unreadable", f"cannot be read ({exc.strerror})") from None


def file_signature(path: Path | str) -> tuple[int, int, int, int]:
    """Size and mtime of a file and of its ``-wal``: changes whenever its content can have."""
    path = Path(path)
    st = os.stat(path)
    try:
        wal = os.stat(_sidecar(path, "-wal"))
        wal_sig = (wal.st_size, wal.st_mtime_ns)
    except OSError:
        wal_sig = (-1, -1)
    return st.st_size, st.st_mtime_ns, *wal_sig


def read_regular_file(path: Path | str) -> bytes:
    """The bytes of a small file the user named (profiles, saved plan); never blocks.

    A FIFO, device or directory raises ``OSError`` ("not a regular file") instead of being
    read: opening a FIFO for a plain read waits forever for a writer. The descriptor is opened
    non-blocking and checked with ``fstat``, so nothing can be swapped in between.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file", str(path))
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read()
    finally:
        os.close(fd)
