"""Who holds a ledger open: SQLite's own POSIX locks, seen with ``F_GETLK`` (changes nothing).

On a local file every SQLite connection in WAL mode keeps, for as long as it is open:

* a read lock on the ``-shm`` file's "dead man switch" byte (unix VFS, ``os_unix.c``:
  ``UNIX_SHM_BASE = (22 + SQLITE_SHM_NLOCK) * 4 = 120``, ``UNIX_SHM_DMS = 128``), which SQLite
  uses to tell whether it is the first connection;
* a SHARED lock on the database file (``PENDING_BYTE`` 0x40000000 + 2, 510 bytes), so no other
  connection switches the journal mode or deletes the ``-wal`` under it. A writer in the middle
  of a rollback-journal transaction holds bytes of the same 512-byte window.

``F_GETLK`` asking "could I take a write lock on that byte?" from a read-only descriptor answers
with the conflicting lock of another process and its pid, and takes no lock itself. Locks of
this very process never conflict, so ledgerx never sees itself.

THE HAZARD this module is built around: POSIX record locks belong to the process, and closing
ANY descriptor of a file releases ALL of the process's locks on that file. A process that has
an SQLite connection on a ledger (the TUI reading in worker threads, the rollback executor, an
in-process ``LedgerWriter``) and did ``os.open(…-shm); fcntl; os.close`` would silently drop
SQLite's locks: another process could then believe it is the last connection, checkpoint and
delete the ``-wal`` under a live reader. So probe descriptors are opened once per file (keyed by
device and inode, re-checked with ``fstat``) and kept open for the life of the process; they are
never closed. Only the files of unfinished runs are probed, two descriptors each at most (the
``-shm`` when there is one, and the database file when a connection can hold it: see
``_may_be_held_without_shm``). The cache is bounded (``MAX_PROBES``, and
half the process's open-file limit); past the bound a file is reported as "cannot know" rather
than risk a close. ``tests/core/test_holders.py`` proves the hazard is
avoided with a real in-process connection and a child process's ``F_GETLK``.

What cannot be known is said so, with the reason: no ``-shm`` and no lock on the database file
(the ledger is not open in WAL mode, or was closed cleanly; an idle rollback-journal writer
holds no lock), a network filesystem (locks there are another host's business or
not propagated at all), not Linux (``struct flock`` layout and ``/proc`` are Linux's), a file
that cannot be opened for reading.
"""

from __future__ import annotations

import fcntl
import os
import stat
import struct
import sys
import threading
from dataclasses import dataclass

from ..sanitize import clean

SHM_DMS_BYTE = (22 + 8) * 4 + 8  # UNIX_SHM_DMS: UNIX_SHM_BASE (120) + SQLITE_SHM_NLOCK (8)
PENDING_BYTE = 0x40000000
LOCK_WINDOW = 512  # pending, reserved and the 510 shared bytes

MAX_PROBES = 1024  # descriptors kept open at most (never closed: see the module docstring)

NETWORK_FILESYSTEMS = frozenset(
    {
        "nfs",
        "nfs4",
        "cifs",
        "smb",
        "smb2",
        "smb3",
        "smbfs",
        "9p",
        "ceph",
        "glusterfs",
        "fuse.glusterfs",
        "fuse.sshfs",
        "sshfs",
        "fuse.s3fs",
        "fuse.rclone",
        "afs",
        "ocfs2",
        "gfs2",
        "lustre",
        "beegfs",
        "gpfs",
        "davfs",
        "fuse.davfs2",
        "virtiofs",
        "vboxsf",
        "fuse.vmhgfs-fuse",
    }
)

HELD, FREE, UNKNOWN = "held", "free", "unknown"


@dataclass(frozen=True, slots=True)
class Holder:
    """A process that holds a ledger open: its pid (``-1``: an open-file-description lock,
    whose owner the kernel does not report) and its command line, cleaned and short."""

    pid: int
    command: str | None

    def describe(self) -> str:
        if self.pid <= 0:
            return "another process (its pid is not reported)"
        return f"pid {self.pid}" + (f" ({self.command})" if self.command else "")

    def to_dict(self) -> dict[str, object]:
        return {"pid": self.pid, "command": self.command}


@dataclass(frozen=True, slots=True)
class HoldCheck:
    """The answer for one ledger: ``held`` (with the holder), ``free``, or ``unknown`` with a
    reason a person reads ("no -shm", "network filesystem (nfs4)", …)."""

    state: str
    holder: Holder | None = None
    reason: str = ""


# -- struct flock ------------------------------------------------------------------------------

# Linux: short l_type, short l_whence, off_t l_start, off_t l_len, pid_t l_pid, then padding to
# the struct's alignment. Native alignment ('@') of 'q' gives the C layout on x86_64, aarch64
# (32 bytes) and on 32-bit builds with a 64-bit off_t.
_FLOCK = struct.Struct("@hhqqi")
_ALIGN = struct.calcsize("@bq") - struct.calcsize("@q")
_FLOCK_SIZE = -(-_FLOCK.size // _ALIGN) * _ALIGN


def _getlk(fd: int, start: int, length: int) -> int | None:
    """The pid of a conflicting lock on ``start..start+length`` (``-1`` for an OFD lock), or
    ``None`` when the range is free. Asks for a write lock, so any reader conflicts."""
    request = _FLOCK.pack(fcntl.F_WRLCK, os.SEEK_SET, start, length, 0)
    request += b"\0" * (_FLOCK_SIZE - len(request))
    answer = fcntl.fcntl(fd, fcntl.F_GETLK, request)
    l_type, _whence, _start, _len, pid = _FLOCK.unpack(answer[: _FLOCK.size])
    if l_type == fcntl.F_UNLCK:
        return None
    return pid if pid > 0 else -1


# -- descriptors kept open for the life of the process ------------------------------------------

_lock = threading.Lock()
_probes: dict[tuple[int, int], int] = {}  # (st_dev, st_ino) -> descriptor, never closed
_kept = 0  # every descriptor opened here, including duplicates of a raced open


def _limit() -> int:
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    except (ImportError, OSError, ValueError):
        return MAX_PROBES
    if soft == resource.RLIM_INFINITY:
        return MAX_PROBES
    return max(0, min(MAX_PROBES, soft // 2))  # half the process's allowance, at most


def _probe_fd(path: str) -> int | None:
    """A read-only descriptor of ``path`` kept open forever, or ``None`` past the bound.

    Raises ``OSError`` when the file cannot be stat'ed or opened (missing, permission).
    """
    global _kept
    st = os.stat(path)
    if not stat.S_ISREG(st.st_mode):
        raise OSError(0, "not a regular file")
    key = (st.st_dev, st.st_ino)
    with _lock:
        fd = _probes.get(key)
        if fd is not None:
            return fd
        if _kept >= _limit():
            return None
        # Never O_CREAT; O_NONBLOCK so a FIFO swapped in cannot hang the open; read-only so it
        # works in read-only directories and on read-only files.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
        _kept += 1
        got = os.fstat(fd)
        real = (got.st_dev, got.st_ino)
        if real in _probes:
            # Replaced between stat and open, by a file already probed: this descriptor is a
            # duplicate, and must stay open like the others (closing it drops our locks).
            return _probes[real]
        _probes[real] = fd
        return fd


def kept_descriptors() -> int:
    """How many probe descriptors this process holds open (for tests and diagnostics)."""
    return _kept


# -- filesystems -------------------------------------------------------------------------------

_fs_by_dev: dict[int, str] = {}


def _unescape_mount(field: str) -> str:
    return field.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n")


def _load_mounts() -> None:
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return
    for line in lines:
        # id parent major:minor root mountpoint options [optional…] - fstype source super
        left, sep, right = line.partition(" - ")
        fields = left.split()
        if not sep or len(fields) < 5 or ":" not in fields[2]:
            continue
        major, _, minor = fields[2].partition(":")
        try:
            dev = os.makedev(int(major), int(minor))
        except ValueError:
            continue
        fstype = _unescape_mount(right.split()[0]) if right.split() else ""
        _fs_by_dev[dev] = fstype


def filesystem_type(path: str) -> str | None:
    """The type of the filesystem ``path`` lives on (``ext4``, ``nfs4``…), from mountinfo."""
    try:
        dev = os.stat(path).st_dev
    except OSError:
        return None
    with _lock:
        if dev not in _fs_by_dev:
            _load_mounts()
        return _fs_by_dev.get(dev)


def is_network_filesystem(fstype: str | None) -> bool:
    if not fstype:
        return False
    return fstype in NETWORK_FILESYSTEMS or fstype.startswith(("nfs", "smb", "cifs"))


# -- commands ----------------------------------------------------------------------------------


def command_of(pid: int, limit: int = 80) -> str | None:
    """``pid``'s command line from ``/proc``, short and cleaned (``python -m bcli batch …``)."""
    if pid <= 0:
        return None
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            raw = handle.read(4096)
    except OSError:
        return None
    args = [a.decode("utf-8", "replace") for a in raw.split(b"\0") if a]
    if not args:
        return None
    args[0] = os.path.basename(args[0]) or args[0]
    # One line, each argument cut short: an inline script (``python -c "…"``) stays readable.
    # Paths are shown by their last part (a runner's script, a ledger file).
    words = [" ".join(a.split()) for a in args]
    words = [os.path.basename(w) if "/" in w and " " not in w else w for w in words]
    words = [w if len(w) <= 32 else w[:31] + "…" for w in words]
    text = clean(" ".join(w for w in words if w), None)
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- the check ---------------------------------------------------------------------------------


def _unknown(reason: str) -> HoldCheck:
    return HoldCheck(UNKNOWN, None, f"cannot tell whether a process holds it: {reason}")


def _held(pid: int) -> HoldCheck:
    return HoldCheck(HELD, Holder(pid, command_of(pid)))


def _may_be_held_without_shm(name: str) -> bool:
    """Whether a connection can hold ``name`` open although no ``-shm`` lies beside it.

    A connection keeps its sidecars beside the path it opened: a WAL connection that has read
    the file keeps a ``-wal`` (in ``locking_mode=EXCLUSIVE`` without a ``-shm``), a
    rollback-journal writer in a transaction (or in exclusive mode) a ``-journal``. So only
    those files, and a file reached under another name (a hard link, a symbolic link: the
    holder's sidecars are named after the other path), are worth a kept descriptor; a cleanly
    closed ledger costs none, however many of them are browsed.
    """
    try:
        st = os.stat(name)
        linked = stat.S_ISLNK(os.lstat(name).st_mode)
    except OSError:
        return False
    if st.st_nlink > 1 or linked or _directory_is_elsewhere(name):
        return True
    return os.path.lexists(name + "-wal") or os.path.lexists(name + "-journal")


# A directory's real path, asked once per directory: ``os.path.realpath`` of every unfinished
# run's file (an lstat per path component) was a quarter of a warm 10,000-file list. A
# directory swapped for a symbolic link while ledgerx runs is not seen until it restarts.
_REAL_DIRECTORIES: dict[str, bool] = {}
_REAL_DIRECTORIES_LOCK = threading.Lock()


def _directory_is_elsewhere(name: str) -> bool:
    """Whether ``name``'s directory is reached through a symbolic link somewhere above it."""
    directory = os.path.dirname(os.path.abspath(name))
    known = _REAL_DIRECTORIES.get(directory)
    if known is None:
        known = os.path.realpath(directory) != directory
        with _REAL_DIRECTORIES_LOCK:
            _REAL_DIRECTORIES[directory] = known
    return known


def check(path: str | os.PathLike[str]) -> HoldCheck:
    """Whether another process holds the ledger at ``path`` open. Never raises, never writes,
    never creates a file; keeps read-only descriptors open (see the module docstring).

    Two signals, one descriptor each: the ``-shm`` file's first-connection byte (every WAL
    connection that shares memory through it), then the database file's lock window (every
    WAL connection, including one in ``locking_mode=EXCLUSIVE``, which has no ``-shm``; a hard
    link to a live ledger, whose ``-shm`` is named after the other path; a rollback-journal
    writer in the middle of a transaction). Without a ``-shm``, the database file is probed
    when a connection can hold it (``_may_be_held_without_shm``). Without a ``-shm`` and with
    nobody holding the database file's locks, nothing can be concluded (an idle
    rollback-journal writer holds no lock at all): the answer is "cannot know", with the reason.
    """
    if not sys.platform.startswith("linux"):
        return _unknown("lock probing is implemented for Linux only")
    name = os.fspath(path)
    fstype = filesystem_type(name)
    if is_network_filesystem(fstype):
        return _unknown(f"network filesystem ({fstype})")
    # Why the -shm says nothing (None: it was probed and nobody holds it).
    shm_silent: str | None = None
    try:
        shm_fd = _probe_fd(name + "-shm")
    except FileNotFoundError:
        shm_silent = "no -shm (not open in WAL mode, or closed cleanly)"
        if not _may_be_held_without_shm(name):
            return _unknown(shm_silent)
    except OSError as exc:
        shm_silent = f"the -shm cannot be opened ({exc.strerror or 'not a regular file'})"
    else:
        if shm_fd is None:
            return _unknown(f"this process already keeps {_limit()} lock probes open")
        try:
            pid = _getlk(shm_fd, SHM_DMS_BYTE, 1)
        except OSError as exc:
            shm_silent = f"the lock probe failed ({exc.strerror})"
        else:
            if pid is not None:
                return _held(pid)
    # The database file: every connection that has read it keeps a SHARED lock in this window
    # while open (a WAL connection always; a rollback-journal one while it reads or writes).
    try:
        db_fd = _probe_fd(name)
        if db_fd is None and shm_silent is not None:
            return _unknown(f"this process already keeps {_limit()} lock probes open")
        db_pid = _getlk(db_fd, PENDING_BYTE, LOCK_WINDOW) if db_fd is not None else None
    except OSError:
        db_pid = None
    if db_pid is not None:
        return _held(db_pid)
    if shm_silent is None:
        return HoldCheck(FREE)
    return _unknown(shm_silent)
