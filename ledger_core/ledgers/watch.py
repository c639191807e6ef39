"""Keep a scan of the sources up to date cheaply: re-read only files whose signature changed.

A ``SourceWatcher`` remembers, per ledger file, its ``access.file_signature`` (size and mtime of
the file and its ``-wal``) and what reading it gave (run summaries or a problem). ``refresh``
lists the sources again, stats every file, and reads only the new or changed ones — plus the
few files holding unfinished runs, because their liveness can change with no byte written (a
writer killed by SIGKILL leaves its file untouched; a quiet run turns stale as time passes).

``iter_refresh`` yields partial results while a long first scan is under way, newest-modified
files first, so a UI can paint the newest runs before the ten-thousandth file is read.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path

from ..derive import DEFAULT_STALE_AFTER
from ..errors import SourceError
from ..models import Problem, RunSummary
from ..timeutil import to_epoch
from .access import file_signature
from .reader import read_summaries
from .sources import Sources, ledger_files

try:
    # The fast path (summary cache, parallel reads); reading file by file works without it.
    from .scanner import scan_files as _scan_files
except ImportError:  # pragma: no cover - only while the scanner is absent
    _scan_files = None

Signature = tuple[int, int, int, int]

# Liveness values that cannot change unless the file does.
_SETTLED = frozenset({"finished", "dead"})
_HOST = socket.gethostname()
_BATCH = 1000  # files per scanner call after the first batch
_CHEAP = 0.05  # seconds: a file this quick to read is re-checked on every refresh


@dataclass(slots=True)
class _Entry:
    signature: Signature
    runs: tuple[RunSummary, ...] = ()
    problem: Problem | None = None
    read_at: float = 0.0  # monotonic time of the last read
    read_cost: float = 0.0  # seconds the last read took
    keys: tuple[tuple[float, str, str], ...] = ()  # newest-first sort key of each run

    @property
    def volatile(self) -> bool:
        return any(_may_change(r) for r in self.runs)


@dataclass(frozen=True, slots=True)
class Changes:
    """The state of the sources after (part of) a refresh, and what differs from before."""

    runs: tuple[RunSummary, ...]  # every known run, newest first
    problems: tuple[Problem, ...]  # unusable files and sources
    changed: tuple[str, ...] = ()  # files whose runs or problem differ from before
    removed: tuple[str, ...] = ()  # files that are gone
    files_read: int = 0  # files actually opened in this refresh so far
    files_total: int = 0  # ledger files in the sources
    done: bool = True  # False for a partial result of a refresh still under way

    @property
    def any(self) -> bool:
        """True when something a viewer shows may have changed."""
        return bool(self.changed or self.removed)


def _may_change(run: RunSummary) -> bool:
    """Whether the run's liveness can change while its file stays the same.

    ``alive`` (a holder or a running writer pid) can die, and ``unknown`` turns ``stale`` as
    time passes; ``stale`` means nothing could be checked (no ``-shm``, network filesystem,
    other host), which only a change to the file can alter. The writer-on-this-host case is
    kept for safety although such a run now reads ``alive`` or ``dead``, never ``stale``.
    """
    if run.liveness in _SETTLED:
        return False
    if run.liveness == "stale":
        return run.writer is not None and run.writer.host == _HOST
    return True


def _signature(name: str) -> Signature | None:
    try:
        return file_signature(Path(name))
    except OSError:
        return None  # vanished or unreadable: the read says why


def _newest_first_key(run: RunSummary) -> tuple[float, str, str]:
    epoch = to_epoch(run.started_at)
    return (-(epoch if epoch is not None else float("-inf")), run.run_id, run.source)


@dataclass
class SourceWatcher:
    """Incremental scanner of ``sources``; not thread-safe (use it from one worker at a time)."""

    sources: Sources
    stale_after: float = DEFAULT_STALE_AFTER
    now: Callable[[], float] = time.time
    timeout: float = 2.0
    cache: bool = True  # use the persistent summary cache (outside the ledger directories)
    parallel: bool = True  # let the scanner read big batches in worker processes
    _parallel_ok: bool = field(default=True, init=False, repr=False)
    _entries: dict[str, _Entry] = field(default_factory=dict, init=False, repr=False)
    _source_problems: tuple[Problem, ...] = field(default=(), init=False, repr=False)

    def refresh(self, *, cancelled: Callable[[], bool] | None = None) -> Changes:
        """Bring the state up to date; returns the final ``Changes``."""
        *_, last = self.iter_refresh(cancelled=cancelled)
        return last

    def snapshot(self) -> Changes:
        """The current state without touching the disk."""
        return self._changes((), (), 0, len(self._entries), done=True)

    def iter_refresh(
        self,
        *,
        first_batch: int = 40,
        partial_every: float = 0.5,
        cancelled: Callable[[], bool] | None = None,
    ) -> Iterator[Changes]:
        """Refresh, yielding a partial ``Changes`` after the first ``first_batch`` files read
        and then at most every ``partial_every`` seconds; the last one yielded has ``done`` set.

        Files never read before are read newest-modified first. With ``cancelled`` returning
        true the refresh stops early (state stays consistent, just not complete).
        """
        files, errors = ledger_files(self.sources)
        self._source_problems = tuple(Problem(str(d), "missing", why) for d, why in errors)
        names = [str(p) for p in files]
        present = set(names)
        removed = tuple(name for name in self._entries if name not in present)
        for name in removed:
            del self._entries[name]
        changed: list[str] = list(removed)

        todo: list[tuple[str, Signature | None]] = []
        mtimes: dict[str, int] = {}
        clock = time.monotonic()
        for name in names:
            entry = self._entries.get(name)
            if entry is None:
                # New file: its mtime orders the reads; the full signature is taken just
                # before it is read (half the system calls on a first scan of 10,000 files).
                try:
                    mtimes[name] = os.stat(name).st_mtime_ns
                except OSError:
                    mtimes[name] = 0
                todo.append((name, None))
                continue
            try:
                signature: Signature | None = file_signature(Path(name))
            except OSError:
                signature = None  # vanished or unreadable: the read says why
            if signature is None or entry.signature != signature:
                todo.append((name, signature))
            elif entry.volatile and (
                entry.read_cost < _CHEAP or clock - entry.read_at >= 10 * entry.read_cost
            ):
                # Liveness may have changed with no byte written; re-check, but never let one
                # expensive file (a huge multi-run ledger) take more than a tenth of the time.
                todo.append((name, signature))
            mtimes[name] = signature[1] if signature else 0
        todo.sort(key=lambda item: -mtimes[item[0]])

        read = 0
        # The newest-modified files alone first, so the newest runs can be shown at once;
        # the rest in big batches that the scanner may spread over processes.
        batches = [todo[:first_batch]] + [
            todo[i : i + _BATCH] for i in range(first_batch, len(todo), _BATCH)
        ]
        last_yield = time.monotonic()
        for n, batch in enumerate(batches):
            if not batch or (cancelled is not None and cancelled()):
                break
            batch = [(name, sig or _signature(name)) for name, sig in batch]
            changed += self._read_batch(batch, later=n > 0)
            read += len(batch)
            more = n + 1 < len(batches) and batches[n + 1]
            # The first batch always (the newest runs, at once); later ones only now and then:
            # each partial result re-sorts every run and redraws the viewer's list.
            if more and (n == 0 or time.monotonic() - last_yield >= partial_every):
                last_yield = time.monotonic()
                yield self._changes(tuple(changed), removed, read, len(names), done=False)
        yield self._changes(tuple(changed), removed, read, len(names), done=True)

    def _read_batch(self, batch: list[tuple[str, Signature | None]], later: bool) -> list[str]:
        """Read the files of ``batch``; return the names whose result differs from before.

        The first batch is small and wanted fast: it never waits for worker processes. It does
        use the summary cache: loading it costs ~30 ms, re-reading one huge ledger seconds.
        """
        if _scan_files is None:
            return [name for name, signature in batch if self._read(name, signature)]
        started = time.monotonic()
        paths = [Path(name) for name, _ in batch]
        options = {
            "now": self.now(),
            "stale_after": self.stale_after,
            "timeout": self.timeout,
            "cache": self.cache,
        }
        if later and self.parallel and self._parallel_ok:
            try:
                runs, problems, _ = _scan_files(paths, workers=None, **options)
            except (OSError, ValueError, RuntimeError):
                # Worker processes cannot start here (e.g. no usable stdio under a headless
                # UI): read in this thread from now on.
                self._parallel_ok = False
                runs, problems, _ = _scan_files(paths, workers=1, **options)
        else:
            runs, problems, _ = _scan_files(paths, workers=1, **options)
        finished = time.monotonic()
        cost = (finished - started) / len(batch)
        by_file: dict[str, list[RunSummary]] = {}
        for run in runs:
            by_file.setdefault(run.source, []).append(run)
        problem_of = {problem.path: problem for problem in problems}
        changed = []
        for name, signature in batch:
            file_runs = tuple(by_file.get(name, ()))
            if self._store(name, signature, file_runs, problem_of.get(name), finished, cost):
                changed.append(name)
        return changed

    def _read(self, name: str, signature: Signature | None) -> bool:
        """Read one file into its entry; True when what it shows differs from before."""
        started = time.monotonic()
        try:
            runs = tuple(
                read_summaries(
                    Path(name), now=self.now(), stale_after=self.stale_after, timeout=self.timeout
                )
            )
            problem = None
        except SourceError as exc:
            runs, problem = (), Problem(exc.path, exc.kind, exc.reason)
        finished = time.monotonic()
        return self._store(name, signature, runs, problem, finished, finished - started)

    def _store(
        self,
        name: str,
        signature: Signature | None,
        runs: tuple[RunSummary, ...],
        problem: Problem | None,
        read_at: float,
        cost: float,
    ) -> bool:
        old = self._entries.get(name)
        self._entries[name] = _Entry(
            signature or (-1, -1, -1, -1),
            runs,
            problem,
            read_at,
            cost,
            tuple(_newest_first_key(r) for r in runs),
        )
        return old is None or old.runs != runs or old.problem != problem

    def _changes(
        self,
        changed: tuple[str, ...],
        removed: tuple[str, ...],
        read: int,
        total: int,
        *,
        done: bool,
    ) -> Changes:
        keyed: list[tuple[tuple[float, str, str], RunSummary]] = []
        problems: list[Problem] = []
        for entry in self._entries.values():
            keyed.extend(zip(entry.keys, entry.runs, strict=True))
            if entry.problem is not None:
                problems.append(entry.problem)
        keyed.sort(key=itemgetter(0))
        runs = tuple(run for _, run in keyed)
        # Files are read newest-modified first; problems are listed by path, for a stable view.
        problems.sort(key=lambda p: p.path)
        every_problem = self._source_problems + tuple(problems)
        return Changes(runs, every_problem, changed, removed, read, total, done)
