"""Which files the search index must read again: one ``stat`` per file, and one digest of all.

A warm ``ledgerx search`` stats every ledger (a write changes no directory entry, so nothing
cheaper can tell a changed ledger). When the digest of every name and stat equals the one
stored after the last complete update of the same files, nothing is compared file by file.
That case is the common one, so it builds no string per file: sizes and times go into one
integer array and are hashed as bytes (10,000 files: the per-file strings cost ~20 ms, a
tenth of the 0.2 s a warm search may take). The per-file signatures (``access.file_signature``
as text, ``racy:`` when written too recently to be trusted) are built only when the digest
differs.
"""

from __future__ import annotations

import errno
import os
from array import array

try:  # the hash alone, without hashlib's OpenSSL bindings (3–4 ms to import)
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - other Pythons
    from hashlib import blake2b

_NO_WAL = -1
_LISTING_MIN = 64  # a directory of this many files: one listing tells which have a -wal


class FileStats:
    """``stat`` of each file (and its ``-wal``), in the order given; files that cannot be
    stat'ed are left out, and named in ``errors`` with the reason."""

    __slots__ = ("names", "values", "racy_after", "racy", "errors")

    def __init__(self, names: list[str], now_ns: int, racy_window_ns: int) -> None:
        self.names: list[str] = []
        # Four integers per file: size, mtime, -wal size, -wal mtime (-1 when no -wal).
        self.values = array("q")
        # Newer than this, a signature cannot be trusted (two writes in one mtime tick).
        self.racy_after = now_ns - racy_window_ns
        self.racy = False
        self.errors: list[tuple[str, str]] = []  # (name, why it cannot be read)
        self._stat(names)

    def _stat(self, names: list[str]) -> None:
        groups: dict[str, int] = {}
        for name in names:
            parent = name.rpartition("/")[0]
            groups[parent] = groups.get(parent, 0) + 1
        # A directory of many files is opened once: its listing tells which files have a
        # -wal (instead of a failing stat per file), and each file is stat'ed relative to it
        # (no walk of the whole path per file: a fifth less time). ``None``: stat by name.
        dirs: dict[str, tuple[int, frozenset[str]] | None] = {}
        try:
            for parent, count in groups.items():
                dirs[parent] = None
                if count >= _LISTING_MIN:
                    dirs[parent] = self._open_dir(parent)
            self._stat_each(names, dirs)
        finally:
            for opened in dirs.values():
                if opened is not None:
                    os.close(opened[0])

    @staticmethod
    def _open_dir(parent: str) -> tuple[int, frozenset[str]] | None:
        try:
            fd = os.open(parent or ".", os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            return None
        try:
            return fd, frozenset(n for n in os.listdir(fd) if n[-4:] == "-wal")
        except OSError:
            os.close(fd)
            return None

    def _stat_each(
        self, names: list[str], dirs: dict[str, tuple[int, frozenset[str]] | None]
    ) -> None:
        stat, ok, extend = os.stat, self.names.append, self.values.extend
        newest = 0
        for name in names:
            parent, _, base = name.rpartition("/")
            opened = dirs[parent]
            try:
                st = stat(name) if opened is None else stat(base, dir_fd=opened[0])
            except OSError as exc:
                self.errors.append((name, _why(exc)))
                continue
            mtime = st.st_mtime_ns
            if opened is None or (opened[1] and base + "-wal" in opened[1]):
                try:
                    wal = stat(name + "-wal")
                    wal_size, wal_mtime = wal.st_size, wal.st_mtime_ns
                except OSError:
                    wal_size = wal_mtime = _NO_WAL
                extend((st.st_size, mtime, wal_size, wal_mtime))
                newest = max(newest, mtime, wal_mtime)
            else:
                extend((st.st_size, mtime, _NO_WAL, _NO_WAL))
                if mtime > newest:
                    newest = mtime
            ok(name)
        self.racy = newest > self.racy_after

    def digest(self) -> str | None:
        """One hash of names and stats; ``None`` while any file is too fresh to trust, or when
        a name is not valid UTF-8 (it cannot be stored: that file is read at every search)."""
        if self.racy:
            return None
        try:
            joined = "\n".join(self.names).encode("utf-8")
        except UnicodeEncodeError:
            return None
        return blake2b(joined + b"\0" + self.values.tobytes(), digest_size=16).hexdigest()

    def signatures(self) -> dict[str, str]:
        """Each file's signature as text, ``racy:`` first when it was written too recently."""
        out: dict[str, str] = {}
        values, racy_after = self.values, self.racy_after
        for k, name in enumerate(self.names):
            size, mtime, wal_size, wal_mtime = values[4 * k : 4 * k + 4]
            text = f"{size}:{mtime}:{wal_size}:{wal_mtime}"
            out[name] = "racy:" + text if max(mtime, wal_mtime) > racy_after else text
        return out


def _why(exc: OSError) -> str:
    if exc.errno == errno.ELOOP:
        return "a symbolic link that never ends"
    if exc.errno == errno.ENOENT:
        return "gone, or a symbolic link to nothing"
    return f"cannot be read ({exc.strerror})"


def names_key(names: list[str]) -> str:
    """The meta key under which the digest of this exact list of files is kept."""
    joined = "\n".join(names).encode("utf-8", "surrogateescape")
    return "unchanged:" + blake2b(joined, digest_size=16).hexdigest()


__all__ = ["FileStats", "names_key"]
