"""A persistent cache of raw run summaries, kept OUTSIDE the ledger directories.

Where: ``$LEDGERX_CACHE_DIR``, else ``$XDG_CACHE_HOME/ledgerx``, else ``~/.cache/ledgerx``
(``LEDGERX_CACHE_DIR=off`` turns it off). One shard file per ledger directory (named by a hash
of the directory's resolved path) maps a file name to ``(signature, raw summaries)``, where the
signature is ``access.file_signature``: size and mtime of the file and of its ``-wal``. An entry
is served only while the signature is unchanged, so the cache can never serve stale state.

Only raw aggregates are stored (counts, last activity, writer row, notable steps); state,
liveness and diagnosis are derived again on every read because they depend on the clock and
on whether a writer's pid still runs. Entries for files modified in the last
``RACY_WINDOW_NS`` are not stored: two writes within one mtime tick could otherwise leave a
signature unchanged (git's "racy clean" problem).

A missing, corrupt or unwritable cache never breaks a read: it is ignored (and rebuilt when
possible), and the first failure in a process is reported once on stderr.
"""

from __future__ import annotations

import atexit
import marshal
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

CACHE_FORMAT = 5  # bump when the raw summary layout (scanner.RawRun) changes
RACY_WINDOW_NS = 2_000_000_000
_warned = False
_lock = threading.Lock()
_shared: dict[Path, SummaryCache] = {}


def default_cache_dir() -> Path | None:
    """The cache directory from the environment; ``None`` when the cache is turned off."""
    env = os.environ.get("LEDGERX_CACHE_DIR")
    if env is not None:
        return None if env.strip().lower() in ("", "off", "0", "none") else Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path("~/.cache").expanduser()
    return base / "ledgerx"


def _stderr_warning(message: str) -> None:
    from ..sanitize import clean  # late import: only needed on the rare failure path

    sys.stderr.write(f"ledgerx: warning: {clean(message, 500)}\n")


def warn_once(message: str, sink: Callable[[str], None] = _stderr_warning) -> None:
    """Report a cache failure the first time one happens in this process; later ones are quiet."""
    global _warned
    if not _warned:
        _warned = True
        try:
            sink(message)
        except (OSError, ValueError):
            pass


def _valid(raws: object) -> bool:
    """The shape of ``scanner.RawRun`` entries (values are checked when derived)."""
    if type(raws) is not list:
        return False
    for raw in raws:
        if type(raw) is tuple and len(raw) == 2:
            # Another format's run: (format name, payload); the format checks the payload.
            if type(raw[0]) is not str or type(raw[1]) is not tuple:
                return False
            continue
        # 11: entries written before the resolutions' per-step briefs (raw[10]) are re-read.
        if type(raw) is not tuple or len(raw) != 11 or type(raw[10]) is not tuple:
            return False
        if type(raw[9]) is not tuple or len(raw[9]) != 3:
            return False
        run, counts = raw[0], raw[1]
        if type(run) is not tuple or len(run) != 9 or type(counts) is not tuple:
            return False
        if len(counts) != 8:
            return False
    return True


def _cacheable(raw: Any) -> bool:
    from ..formats.registry import cacheable

    return cacheable(raw)


# A shard is marshalled in pieces: one marshal call on 10,000 entries holds the GIL for ~30 ms,
# long enough to stall a UI thread; pieces of this many entries take ~1.5 ms each.
_PIECE = 500


def _encode(directory: str, entries: dict[str, tuple]) -> bytes:
    items = list(entries.items())
    pieces = [marshal.dumps(dict(items[i : i + _PIECE])) for i in range(0, len(items), _PIECE)]
    return marshal.dumps((CACHE_FORMAT, directory, pieces))


def _decode(data: bytes, directory: str) -> dict[str, tuple] | None:
    """The entries of a shard file, or ``None`` when it is corrupt or not this directory's."""
    try:
        content = marshal.loads(data)
        if not (
            isinstance(content, tuple)
            and len(content) == 3
            and content[0] == CACHE_FORMAT
            and content[1] == directory
            and isinstance(content[2], list)
        ):
            return None
        entries: dict[str, tuple] = {}
        for piece in content[2]:
            part = marshal.loads(piece)
            if not isinstance(part, dict):
                return None
            entries.update(part)
        return entries
    except (ValueError, EOFError, TypeError):
        return None


class _Shard:
    """The entries of one ledger directory, loaded from and saved to one file."""

    def __init__(self, file: Path, directory: str) -> None:
        self.file = file
        self.directory = directory
        self.entries: dict[str, tuple] = {}
        self.seen: set[str] = set()
        self.dirty = False


class SummaryCache:
    """Raw summaries keyed by resolved path and file signature. Thread-safe; never raises."""

    def __init__(self, directory: Path, *, warn: Callable[[str], None] | None = None) -> None:
        self.directory = Path(directory)
        self.root = self.directory / f"summaries-v{CACHE_FORMAT}"
        self._warn = warn or (lambda m: warn_once(m))
        self._shards: dict[str, _Shard] = {}
        self._parents: dict[str, str] = {}
        self._lock = threading.Lock()
        self.broken = False
        self._saved_at = float("-inf")
        self._save_cost = 0.0

    def _fail(self, what: str, exc: BaseException) -> None:
        self.broken = True
        detail = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        self._warn(f"summary cache {what} ({detail}); reading every ledger file directly")

    def _shard_for(self, path: Path | str) -> tuple[_Shard, str]:
        path = os.fspath(path)
        parent = os.path.dirname(path) or "."
        key = self._parents.get(parent)
        if key is None:
            key = os.path.realpath(parent)
            self._parents[parent] = key
        shard = self._shards.get(key)
        if shard is None:
            import hashlib  # here: only needed once per directory, and costs 3 ms to import

            name = hashlib.sha256(key.encode("utf-8", "surrogateescape")).hexdigest()[:32]
            shard = _Shard(self.root / f"{name}.marshal", key)
            self._load(shard)
            self._shards[key] = shard
        return shard, os.path.basename(path)

    def _load(self, shard: _Shard) -> None:
        if self.broken:
            return
        try:
            data = shard.file.read_bytes()
        except FileNotFoundError:
            return
        except OSError as exc:
            self._fail(f"cannot be read at {shard.file}", exc)
            return
        entries = _decode(data, shard.directory)
        if entries is None:
            shard.dirty = True  # corrupt or foreign: rewrite it from what this scan reads
        else:
            shard.entries = entries

    def lookup(self, path: Path | str, signature: tuple) -> list[Any] | None:
        """The raw summaries stored for ``path`` if its signature is unchanged, else ``None``."""
        with self._lock:
            shard, name = self._shard_for(path)
            shard.seen.add(name)
            entry = shard.entries.get(name)
        if (
            not isinstance(entry, tuple)
            or len(entry) != 2
            or entry[0] != tuple(signature)
            or not _valid(entry[1])
        ):
            return None
        return entry[1]

    def store(self, path: Path | str, signature: tuple, raws: list[Any]) -> None:
        """Remember ``raws`` for ``path`` at ``signature`` (unless it changed moments ago)."""
        if time.time_ns() - max(signature[1], signature[3]) < RACY_WINDOW_NS:
            return
        if any(len(raw) == 2 for raw in raws) and not all(_cacheable(raw) for raw in raws):
            return  # a mapped format's runs: its mapping file may change under the same key
        with self._lock:
            shard, name = self._shard_for(path)
            shard.entries[name] = (tuple(signature), list(raws))
            shard.seen.add(name)
            shard.dirty = True

    def save(self, *, force: bool = False) -> None:
        """Write the shards that changed, atomically. Failures disable the cache quietly.

        A caller scanning in batches (the TUI's watcher) calls this after every batch: saves
        closer together than ten times the last save's cost are put off (and made at exit
        for the process-wide cache), so a 10,000-entry shard is not rewritten ten times.
        """
        with self._lock:
            now = time.monotonic()
            if not force and now - self._saved_at < max(1.0, 10 * self._save_cost):
                return
            wrote = False
            for shard in self._shards.values():
                if shard.dirty and not self.broken:
                    self._save(shard)
                    wrote = True
            if wrote:
                self._saved_at = time.monotonic()
                self._save_cost = self._saved_at - now

    def _save(self, shard: _Shard) -> None:
        # Forget files that were deleted; keep entries of files this scan did not ask about.
        for name in [n for n in shard.entries if n not in shard.seen]:
            if not os.path.exists(os.path.join(shard.directory, name)):
                del shard.entries[name]
        try:
            blob = _encode(shard.directory, shard.entries)
        except ValueError as exc:
            self._fail("cannot store an entry", exc)
            return
        tmp = None
        try:
            self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=self.root)
            with os.fdopen(fd, "wb") as handle:
                handle.write(blob)
            os.replace(tmp, shard.file)
            tmp = None
            shard.dirty = False
        except OSError as exc:
            self._fail(f"cannot be written in {self.root}", exc)
        finally:
            if tmp is not None:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass


def open_default_cache() -> SummaryCache | None:
    """The process-wide cache for the configured directory, or ``None`` when turned off.

    Shared so a TUI polling every few seconds keeps its shards in memory between scans.
    """
    directory = default_cache_dir()
    if directory is None:
        return None
    with _lock:
        cache = _shared.get(directory)
        if cache is None:
            cache = _shared[directory] = SummaryCache(directory)
            atexit.register(lambda: cache.save(force=True))  # what a put-off save left
        return cache
