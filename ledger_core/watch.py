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

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path

from .access import file_signature
from .derive import DEFAULT_STALE_AFTER
from .errors import SourceError
from .models import Problem, RunSummary
from .reader import read_summaries
from .sources import Sources, ledger_files
from .timeutil import to_epoch

Signature = tuple[int, int, int, int]

# Liveness values that cannot change unless the file does.
_SETTLED = frozenset({"finished", "dead"})
_CHEAP = 0.05  # seconds: a file this quick to read is re-checked on every refresh


@dataclass(slots=True)
class _Entry:
    signature: Signature
    runs: tuple[RunSummary, ...] = ()
    problem: Problem | None = None
    read_at: float = 0.0  # monotonic time of the last read
    read_cost: float = 0.0  # seconds the last read took
    keys: tuple[tuple[float, str], ...] = ()  # newest-first sort key of each run

    @property
    def volatile(self) -> bool:
        return any(r.liveness not in _SETTLED for r in self.runs)


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


def _newest_first_key(run: RunSummary) -> tuple[float, str]:
    epoch = to_epoch(run.started_at)
    return (-(epoch if epoch is not None else float("-inf")), run.run_id)


@dataclass
class SourceWatcher:
    """Incremental scanner of ``sources``; not thread-safe (use it from one worker at a time)."""

    sources: Sources
    stale_after: float = DEFAULT_STALE_AFTER
    now: Callable[[], float] = time.time
    timeout: float = 2.0
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
        batch_seconds: float = 0.25,
        cancelled: Callable[[], bool] | None = None,
    ) -> Iterator[Changes]:
        """Refresh, yielding a partial ``Changes`` after the first ``first_batch`` files read
        and then every ``batch_seconds``; the last one yielded has ``done`` set.

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
            try:
                signature: Signature | None = file_signature(Path(name))
            except OSError:
                signature = None  # vanished or unreadable: read_summaries says why
            entry = self._entries.get(name)
            if entry is None or signature is None or entry.signature != signature:
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
        last_yield = time.monotonic()
        yielded_first = False
        for name, signature in todo:
            if cancelled is not None and cancelled():
                break
            if self._read(name, signature):
                changed.append(name)
            read += 1
            moment = time.monotonic()
            if (not yielded_first and read >= first_batch) or (
                yielded_first and moment - last_yield >= batch_seconds
            ):
                yielded_first = True
                last_yield = moment
                yield self._changes(tuple(changed), removed, read, len(names), done=False)
        yield self._changes(tuple(changed), removed, read, len(names), done=True)

    def _read(self, name: str, signature: Signature | None) -> bool:
        """Read one file into its entry; True when what it shows differs from before."""
        started = time.monotonic()
        old = self._entries.get(name)
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
        self._entries[name] = _Entry(
            signature or (-1, -1, -1, -1),
            runs,
            problem,
            finished,
            finished - started,
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
        keyed: list[tuple[tuple[float, str], RunSummary]] = []
        problems: list[Problem] = list(self._source_problems)
        for entry in self._entries.values():
            keyed.extend(zip(entry.keys, entry.runs, strict=True))
            if entry.problem is not None:
                problems.append(entry.problem)
        keyed.sort(key=itemgetter(0))
        runs = tuple(run for _, run in keyed)
        return Changes(runs, tuple(problems), changed, removed, read, total, done)
