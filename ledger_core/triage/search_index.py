"""A search index of run and step fields, kept OUTSIDE the ledger directories (SPEC §6).

Where: ``search-v{LAYOUT}.sqlite`` beside the summary cache (``summary_cache.default_cache_dir``;
``LEDGERX_CACHE_DIR=off`` keeps the index in memory, for this process only). One SQLite file
for every ledger directory: ``files`` maps a ledger path to its ``access.file_signature``;
``doc`` holds one row per run and one per step: field names and values, ``\x1f``-separated.

Updated incrementally: a file is read again (through ``access.snapshot`` only) when its
signature changed; rows of files that vanished are dropped. A file modified in the last
``RACY_WINDOW_NS`` is read again at every update (two writes in one mtime tick would otherwise
leave its signature unchanged). An index of another layout, or one SQLite calls corrupt, is
deleted and built again. Two ledgerx processes may share it (WAL, a busy timeout); when the
other holds the write lock too long, the search answers from what is there and says it may be
stale.

Matching is substring and case-insensitive (``str.casefold``). Which documents to look at is
found in ``search_grams``: each file's documents, case folded, in one row (``folded``), and an
FTS5 trigram index of those rows (``grams``, ``detail=none``: ~2 s to build for 10,000 files,
where a trigram index of every document with positions took 13 s and broke "first search ≤ 2×
a cold list"); a needle under three characters scans ``folded``. Every candidate document is
read back from ``doc`` and checked in Python field by field, so a match never spans two fields
and the field that matched is named.
"""

from __future__ import annotations

import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import SourceError
from ..ledgers.access import snapshot
from ..ledgers.summary_cache import RACY_WINDOW_NS, default_cache_dir
from ..sanitize import redact_urls
from . import search_grams
from .search_corpus import Corpus, build_corpus
from .search_grams import (
    FOLDED_SCHEMA,
    GRAMS_META,
    candidate_queries,
    create_grams,
    doc_ids_in,
    folded_needle,
    folded_text,
)
from .search_signatures import FileStats, names_key

LAYOUT = 6  # bump when the tables or what a doc holds change: older indexes are rebuilt
SEP = "\x1f"
BUSY_TIMEOUT_MS = 1500
STEP_FIELDS = (
    "url",
    "error",
    "correlation_id",
    "body_hash",
    "rollback_url",
    "status",
    "method",
    "intent_ts",
)
# Which files hold a run id (``files_of_runs``, after every CLI search) without scanning every
# step: only run docs are in it, so it costs nothing to keep.
_RUN_DOCS_INDEX = (
    "CREATE INDEX IF NOT EXISTS doc_run ON doc (run_id) WHERE step_id IS NULL AND seq IS NULL"
)
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)",
    # AUTOINCREMENT: a file id is never used twice (``search_grams``' watermark relies on it).
    "CREATE TABLE IF NOT EXISTS files (file_id INTEGER PRIMARY KEY AUTOINCREMENT, "
    "path TEXT UNIQUE NOT NULL, sig TEXT NOT NULL, problem TEXT)",
    "CREATE TABLE IF NOT EXISTS doc (doc_id INTEGER PRIMARY KEY, file_id INTEGER NOT NULL, "
    "run_id TEXT, step_id INTEGER, seq INTEGER, method TEXT, names TEXT, body TEXT)",
    "CREATE INDEX IF NOT EXISTS doc_file ON doc (file_id)",
    _RUN_DOCS_INDEX,
    *FOLDED_SCHEMA,
)
# Doc: (run_id, step_id, seq, method, names, body); step_id/seq None on a run's own doc.
Doc = tuple[str, int | None, int | None, str | None, str | None, str]


@dataclass(frozen=True, slots=True)
class Hit:
    """One match: the run (file and id), the step (None for a run field), the field and value."""

    source: str
    run_id: str
    step_id: int | None
    seq: int | None
    method: str | None
    field: str
    value: str

    def to_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "run_id": self.run_id,
            "step_id": self.step_id,
            "seq": self.seq,
            "method": self.method,
            "field": self.field,
            "value": self.value,
        }


@dataclass(slots=True)
class SearchResult:
    """The hits of one search, and what the caller should say about them."""

    hits: list[Hit] = field(default_factory=list)
    truncated: bool = False  # more hits than the limit
    stale: bool = False  # the index could not be brought up to date (locked by another process)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (file, reason) not indexed
    notes: list[str] = field(default_factory=list)
    cancelled: bool = False  # ``should_stop`` said so: the hits are not all there
    # From ``update`` only, when another ledgerx held the index's write lock: the documents of
    # every changed file, read but not written (``search_files`` searches them in memory).
    pending: dict[str, list[Doc]] | None = None


class RunHits(Mapping[tuple[str, str], Hit]):
    """(file, run id) → the run's best hit, each found when first asked for.

    Which document is a run's best is known from the rows alone (a step's rather than the
    run's own fields); which field of it holds the text costs a fold of the document. The
    search box asks for the highlighted run's only, where building every hit cost ~15 ms of a
    keystroke's 100 ms when thousands of runs match."""

    __slots__ = ("needle", "rows", "_hits")

    def __init__(self, needle: str = "", rows: dict[tuple[str, str], tuple] | None = None):
        self.needle = needle
        self.rows: dict[tuple[str, str], tuple] = {} if rows is None else rows
        self._hits: dict[tuple[str, str], Hit] = {}

    def __getitem__(self, key: tuple[str, str]) -> Hit:
        hit = self._hits.get(key)
        if hit is None:
            row = self.rows[key]
            found = _first_field(self.needle, *row)
            # A row that matched always has the field (``_first_field`` fails only on a
            # document whose names and values disagree): say which step, not which field.
            hit = found or Hit(row[0], row[1] or "", row[2], row[3], row[4], "", "")
            self._hits[key] = hit
        return hit

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def __contains__(self, key: object) -> bool:
        return key in self.rows

    def same_rows(self, other: RunHits) -> bool:
        """The same runs from the same documents (cheaper than comparing every hit)."""
        return self.rows == other.rows


@dataclass(slots=True)
class RunMatches:
    """What the search box shows: each matching run's best hit (a step's rather than the run's
    own fields, so ``enter`` can open the run on it), from at most ``SearchSession.max_rows``
    matching documents."""

    text: str
    hits: RunHits = field(default_factory=RunHits)  # (file, run id) -> hit
    rows: int = 0  # matching documents (runs and steps) seen
    truncated: bool = False  # stopped after ``rows`` matches: more runs may match
    stale: bool = False
    cancelled: bool = False


def default_index_path() -> Path | None:
    """Where the index lives, or ``None`` when the cache is off (then it is kept in memory)."""
    directory = default_cache_dir()
    return None if directory is None else directory / f"search-v{LAYOUT}.sqlite"


def _plain(value: object) -> str | None:
    """A stored value as text: text as is, bytes decoded, numbers as digits."""
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value if isinstance(value, str) else str(value)


def _escape(text: str) -> str:
    """A value as a doc's body holds it: backslashes doubled, the field separator and NUL
    written ``\\x1f`` and ``\\x00`` (a body's fields are ``SEP``-separated, and SQLite's
    ``LIKE`` stops at a NUL). ``_unescape`` gives the value back exactly; a text searched for
    is escaped the same way to find candidates, and checked against the values themselves."""
    if "\\" in text or SEP in text or "\x00" in text:
        return text.replace("\\", "\\\\").replace(SEP, "\\x1f").replace("\x00", "\\x00")
    return text


_ESCAPED = re.compile(r"\\(\\|x1f|x00)")
_UNESCAPED = {"\\": "\\", "x1f": SEP, "x00": "\x00"}


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    return _ESCAPED.sub(lambda m: _UNESCAPED[m.group(1)], text)


def _clean_value(value: object) -> str | None:
    """A value as a doc's body holds it: URL passwords masked, then ``_escape``d."""
    text = _plain(value)
    if text is None:
        return None
    if "@" in text:
        text = redact_urls(text)
    return _escape(text)


def _doc(run_id: str, step_id, seq, method, pairs: Iterable[tuple[str, object]]) -> Doc | None:
    names, values = [], []
    for name, value in pairs:
        text = _clean_value(value)
        if text:
            names.append(name)
            values.append(text)
    if not values:
        return None
    return (run_id, step_id, seq, _plain(method), SEP.join(names), SEP.join(values))


# The step fields joined in SQL (one string per step, no Python work per field): the body
# of a runner step's doc, in STEP_FIELDS order; a missing value is an empty field.
_STEPS_SQL = (
    "SELECT run_id, step_id, seq, method, "
    + " || char(31) || ".join(
        f"replace(replace(coalesce(CAST({c} AS TEXT), ''), '\\', '\\\\'), char(31), '\\x1f')"
        for c in (
            "url",
            "error_message",
            "bc_correlation_id",
            "body_hash",
            "rollback_url",
            "status",
            "method",
            "intent_ts",
        )
    )
    + " FROM step ORDER BY run_id, seq, step_id"
)
_STEP_NAMES = SEP.join(STEP_FIELDS)
# A runner step's names are always these: stored as NULL (a quarter of the index's bytes,
# which every search scans).
_DEFAULT_NAMES = _STEP_NAMES


def _no_holder(_path: str):
    return None


_RUNS_SQL = (
    "SELECT run_id, manifest_path, profile, environment, company, state, started_at FROM run"
)
_RUN_NAMES = ("run_id", "manifest", "profile", "environment", "company", "state", "started_at")


def read_docs(path: Path | str, *, stale_after: float | None = None) -> list[Doc]:
    """Every run's and step's searchable fields in one ledger file, in one read-only snapshot.

    Runner ledgers: the run rows and the step rows as stored (two plain queries). Derived words
    (verdict, liveness) are not indexed: they change with the clock while the file does not.
    Other formats: through the format layer (its run fields and step text, ``extras``).
    Raises ``SourceError`` (as every reader does) when the file cannot be read.
    """
    path = Path(path)

    def read(conn: sqlite3.Connection) -> list[Doc]:
        try:
            runs = conn.execute(_RUNS_SQL).fetchall()
            steps = conn.execute(_STEPS_SQL).fetchall()
        except sqlite3.OperationalError as exc:
            if not str(exc).startswith("no such "):
                raise
            return _other_format_docs(conn, path, stale_after)
        docs: list[Doc] = []
        for row in runs:
            run_id = _plain(row[0]) or ""  # the id itself: hits open the run by it
            doc = _doc(run_id, None, None, None, zip(_RUN_NAMES, row, strict=True))
            if doc is not None:
                docs.append(doc)
        for run_id, step_id, seq, method, body in steps:
            if "@" in body:
                body = redact_urls(body)
            if "\x00" in body:
                body = body.replace("\x00", "\\x00")  # (backslashes were doubled in SQL)
            docs.append(
                (
                    _plain(run_id) or "",
                    step_id if isinstance(step_id, int) else None,
                    seq if isinstance(seq, int) else None,
                    method if method is None or isinstance(method, str) else str(method),
                    None,
                    body,
                )
            )
        return docs

    return snapshot(path, read)


def _other_format_docs(
    conn: sqlite3.Connection, path: Path, stale_after: float | None
) -> list[Doc]:
    """Docs of a file in another format than the runner's (raises ``SourceError`` when it is
    no ledger at all, exactly as the scanner does)."""
    from .. import derive
    from ..ledgers.scanner import raw_runs, summarize

    after = derive.DEFAULT_STALE_AFTER if stale_after is None else stale_after
    import socket  # only other formats need the host name: runner-only searches skip it

    now, host, source = time.time(), socket.gethostname(), str(path)
    docs: list[Doc] = []
    for raw in raw_runs(conn, path):
        run = summarize(raw, source, now=now, stale_after=after, host=host, probe=_no_holder)
        doc = _doc(
            run.run_id,
            None,
            None,
            None,
            (
                ("run_id", run.run_id),
                ("manifest", run.manifest_path),
                ("profile", run.profile),
                ("environment", run.environment),
                ("company", run.company),
                ("state", run.stamped_state),
                ("started_at", run.started_at),
                ("format", run.format),
                *run.extras,
            ),
        )
        if doc is not None:
            docs.append(doc)
        if len(raw) == 2:
            docs.extend(_foreign_docs(conn, path, run.run_id))
    return docs


def _foreign_docs(conn: sqlite3.Connection, path: Path, run_id: str) -> list[Doc]:
    from ..formats.registry import read_foreign_steps

    original = SourceError(str(path), "not_a_ledger", "not a runner ledger")
    docs = []
    for step in read_foreign_steps(conn, path, run_id, original):
        pairs = [
            ("url", step.url),
            ("error", step.error_message),
            ("correlation_id", step.bc_correlation_id),
            ("body_hash", step.body_hash),
            ("rollback_url", step.rollback_url),
            ("status", step.status),
            ("method", step.method),
            ("intent_ts", step.intent_ts),
            *step.extras,
        ]
        doc = _doc(run_id, step.step_id, step.seq, step.method, pairs)
        if doc is not None:
            docs.append(doc)
    return docs


# One file's outcome in a worker: (path, "ok", docs) or (path, "error", reason).
def _read_chunk(paths: list[tuple[str, float | None]]) -> list[tuple[str, str, object]]:
    out: list[tuple[str, str, object]] = []
    for path, after in paths:
        try:
            out.append((path, "ok", read_docs(path, stale_after=after)))
        except SourceError as exc:
            out.append((path, "error", exc.reason))
    return out


# SQLite calls the progress handler every this many VM instructions: about every 6 ms of a scan
# (8 calls in a full one). Each call needs the GIL, which a busy event loop may hold for a few
# ms: rarer calls keep the scan fast, and a stopped search still ends within a frame.
_PROGRESS_STEPS = 100_000
PARALLEL_MIN_FILES = 200
_CHUNK = 100


def _read_many(paths: list[str], stale_after: float | None) -> Iterator[tuple[str, str, object]]:
    """Docs of ``paths``, read in worker processes when there are many (as the scanner does)."""
    if len(paths) < PARALLEL_MIN_FILES:
        yield from _read_chunk([(p, stale_after) for p in paths])
        return
    from concurrent.futures.process import BrokenProcessPool

    from ..ledgers.scanner import _drop_pool, _shared_pool, _workers

    pool = _shared_pool(_workers())
    chunks = [
        [(p, stale_after) for p in paths[i : i + _CHUNK]] for i in range(0, len(paths), _CHUNK)
    ]
    if pool is None:
        for chunk in chunks:
            yield from _read_chunk(chunk)
        return
    futures = []
    for chunk in chunks:
        try:
            futures.append((chunk, pool.submit(_read_chunk, chunk)))
        except (OSError, RuntimeError, BrokenProcessPool):
            futures.append((chunk, None))
    try:
        for chunk, future in futures:
            try:
                part = future.result() if future is not None else None
            except (OSError, RuntimeError, BrokenProcessPool):
                part = None
                _drop_pool(pool)
            yield from part if part is not None else _read_chunk(chunk)
    finally:
        for _, future in futures:
            if future is not None:
                future.cancel()


def _fold(text: str) -> str:
    return text.casefold()


def _keep(batch: list[tuple[str, str, object]], report: SearchResult) -> None:
    """Outcomes that could not be written: their docs to ``report.pending``, their reasons
    to ``report.problems``."""
    assert report.pending is not None
    for path, kind, payload in batch:
        if kind == "ok":
            report.pending[path] = payload  # type: ignore[assignment]
        elif kind == "error":
            report.problems.append((path, str(payload)))


class SearchIndex:
    """The index: ``update(files)`` then ``search(text)``. Thread-safe (one lock)."""

    def __init__(self, path: Path | str | None = None, *, memory: bool = False) -> None:
        self.path = None if memory else (Path(path) if path is not None else default_index_path())
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._grams = False  # the trigram table exists (read from ``meta`` when connecting)
        self.notes: list[str] = []

    # -- opening -------------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        if self._conn is not None:
            return self._conn
        if self.path is None:
            conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
            self._init(conn)
        else:
            conn = self._open_file()
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (GRAMS_META,)).fetchone()
        self._grams = row is not None and row[0] == "1"
        self._conn = conn
        return conn

    def _open_file(self) -> sqlite3.Connection:
        assert self.path is not None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            try:
                return self._open_checked()
            except sqlite3.DatabaseError as exc:
                if _busy(exc):
                    raise
                # Corrupt, foreign or of an older layout: start again from the ledgers.
                self.notes.append(f"search index at {self.path} was unusable ({exc}); rebuilt it")
                self._remove_files()
                return self._open_checked()
        except (OSError, sqlite3.DatabaseError) as exc:
            if isinstance(exc, sqlite3.DatabaseError) and _busy(exc):
                raise
            why = getattr(exc, "strerror", None) or str(exc)
            self.notes.append(
                f"search index cannot be kept at {self.path} ({why}); kept in memory instead"
            )
            self.path = None
            conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
            self._init(conn)
            return conn

    def _open_checked(self) -> sqlite3.Connection:
        assert self.path is not None
        conn = sqlite3.connect(
            self.path,
            check_same_thread=False,
            isolation_level=None,
            timeout=BUSY_TIMEOUT_MS / 1000,
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            if tables and "meta" in tables:
                row = conn.execute("SELECT value FROM meta WHERE key = 'layout'").fetchone()
                if row is None or row[0] != str(LAYOUT):
                    raise sqlite3.DatabaseError(f"layout {row[0] if row else '?'}, not {LAYOUT}")
                conn.execute("SELECT count(*) FROM files").fetchone()
            elif tables:
                raise sqlite3.DatabaseError("not a ledgerx search index")
            if tables and "doc_run" not in tables:
                try:  # an index of this layout made before the run-docs index existed
                    conn.execute(_RUN_DOCS_INDEX)
                except sqlite3.OperationalError as exc:
                    if not _busy(exc):
                        raise  # another ledgerx is writing: the next start adds it
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            # Searches scan the whole table: mapped, its pages are not copied into SQLite's cache.
            conn.execute("PRAGMA mmap_size = 268435456")
            if not tables:
                self._init(conn)
                self._remove_older_layouts()
            return conn
        except BaseException:
            conn.close()
            raise

    def _init(self, conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _SCHEMA:
                conn.execute(statement)
            conn.execute("INSERT OR REPLACE INTO meta VALUES ('layout', ?)", (str(LAYOUT),))
            grams = "1" if create_grams(conn) else "0"
            conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (GRAMS_META, grams))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _remove_files(self) -> None:
        assert self.path is not None
        for suffix in ("", "-wal", "-shm", "-journal"):
            try:
                os.unlink(f"{self.path}{suffix}")
            except FileNotFoundError:
                pass

    def _remove_older_layouts(self) -> None:
        """Indexes of older layouts beside this one are never read again: their space is freed."""
        assert self.path is not None
        for layout in range(1, LAYOUT):
            older = self.path.with_name(f"search-v{layout}.sqlite")
            if older == self.path:
                continue
            for suffix in ("", "-wal", "-shm", "-journal"):
                try:
                    os.unlink(f"{older}{suffix}")
                except OSError:
                    pass

    def reset(self, why: str) -> bool:
        """Start again after SQLite found the index corrupt; False when it is in memory."""
        with self._lock:
            self.close()
            if self.path is None:
                return False
            self._remove_files()
            self.notes.append(f"search index at {self.path} was corrupt ({why}); rebuilt it")
            return True

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # -- updating ------------------------------------------------------------------------------

    def update(
        self,
        files: Sequence[Path | str],
        *,
        stale_after: float | None = None,
        should_stop: Callable[[], bool] | None = None,
    ) -> SearchResult:
        """Bring the index up to date for ``files`` (read only those whose signature changed).

        Returns a ``SearchResult`` with no hits carrying ``stale`` (the index is locked by
        another process) and ``problems`` (files that could not be read).
        """
        report = SearchResult()
        with self._lock:
            try:
                conn = self._connect()
            except sqlite3.DatabaseError as exc:
                report.stale = True
                report.notes.append(f"search index busy ({exc})")
                return report
            report.notes.extend(self.notes)
            self.notes.clear()
            names = [os.fspath(file) for file in files]
            stats = FileStats(names, time.time_ns(), RACY_WINDOW_NS)
            # One digest of every name and stat: when it is the one stored after the last
            # complete update of these files, nothing changed and nothing needs comparing.
            digest = stats.digest()
            key = names_key(names)
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            if digest is not None and row is not None and row[0] == digest:
                report.problems = stats.errors + self._problems(conn, set(stats.names))
                self._catch_up(conn)
                return report
            wanted = stats.signatures()
            known = {
                path: (file_id, sig)
                for file_id, path, sig in conn.execute("SELECT file_id, path, sig FROM files")
            }
            changed = [
                name
                for name, sig in wanted.items()
                if sig.startswith("racy") or (known.get(name) or (0, ""))[1] != sig
            ]
            gone = [
                (file_id, path)
                for path, (file_id, _) in known.items()
                if path not in wanted and not os.path.exists(path)
            ]
            if changed or gone:
                try:
                    self._apply(
                        conn, changed, wanted, known, gone, stale_after, report, should_stop
                    )
                except sqlite3.OperationalError as exc:
                    if not _busy(exc):
                        raise
                    report.stale = True
                    report.notes.append(
                        "search index locked by another ledgerx; results may be stale"
                    )
            if not report.stale and digest is not None:
                try:
                    conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, digest))
                except sqlite3.OperationalError as exc:
                    if not _busy(exc):
                        raise
            if not report.stale:
                self._catch_up(conn)
            report.problems = stats.errors + report.problems + self._problems(conn, wanted)
        return report

    def _catch_up(self, conn: sqlite3.Connection) -> None:
        """Index the trigrams of the files written since the last time (``search_grams``), in
        one bulk insert. Another ledgerx holding the write lock leaves it for the next update:
        meanwhile those files are scanned."""
        if not self._grams or not search_grams.needs_catch_up(conn):
            return
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if _busy(exc):
                return
            raise
        try:
            search_grams.catch_up(conn)
            conn.execute("COMMIT")
        except BaseException as exc:
            conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.OperationalError) and _busy(exc):
                return
            raise

    @staticmethod
    def _problems(conn: sqlite3.Connection, wanted: Container[str]) -> list[tuple[str, str]]:
        return [
            (path, problem)
            for path, problem in conn.execute(
                "SELECT path, problem FROM files WHERE problem IS NOT NULL"
            )
            if path in wanted
        ]

    def _apply(
        self,
        conn: sqlite3.Connection,
        changed: list[str],
        wanted: dict[str, str],
        known: dict[str, tuple[int, str]],
        gone: list[tuple[int, str]],
        stale_after: float | None,
        report: SearchResult,
        should_stop: Callable[[], bool] | None,
    ) -> None:
        outcomes = _read_many(changed, stale_after)
        batch: list[tuple[str, str, object]] = []
        for file_id, _ in gone:
            batch.append(("", "gone", file_id))
        for outcome in outcomes:
            batch.append(outcome)
            if report.pending is not None:
                _keep(batch, report)
                batch = []
            elif len(batch) >= 500:
                self._write_or_keep(conn, batch, wanted, known, report)
                batch = []
                if should_stop is not None and should_stop():
                    report.stale = True
                    return
        if report.pending is None:
            self._write_or_keep(conn, batch, wanted, known, report)
        else:
            _keep(batch, report)

    def _write_or_keep(
        self,
        conn: sqlite3.Connection,
        batch: list[tuple[str, str, object]],
        wanted: dict[str, str],
        known: dict[str, tuple[int, str]],
        report: SearchResult,
    ) -> None:
        """``_write``; when another ledgerx holds the write lock past the busy timeout, the
        batch and every file read after it are kept in ``report.pending`` instead, so this
        search still answers from what the files hold now."""
        try:
            self._write(conn, batch, wanted, known, report)
        except sqlite3.OperationalError as exc:
            if not _busy(exc):
                raise
            report.stale = True
            report.pending = {}
            _keep(batch, report)

    def _write(
        self,
        conn: sqlite3.Connection,
        batch: list[tuple[str, str, object]],
        wanted: dict[str, str],
        known: dict[str, tuple[int, str]],
        report: SearchResult,
    ) -> None:
        if not batch:
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            # A file's documents get consecutive ids: ``folded`` finds the k-th as first + k.
            next_doc = conn.execute("SELECT coalesce(max(doc_id), 0) + 1 FROM doc").fetchone()[0]
            for path, kind, payload in batch:
                if kind == "gone":
                    self._drop(conn, payload)  # type: ignore[arg-type]
                    continue
                if not _encodable(path):
                    # SQLite stores text as UTF-8: a name that is not cannot be a key.
                    report.problems.append((path, "its name is not valid UTF-8"))
                    continue
                # Looked up again inside the transaction: another ledgerx may have indexed the
                # file since this one read the table.
                row = conn.execute("SELECT file_id FROM files WHERE path = ?", (path,)).fetchone()
                if row is not None:
                    self._drop(conn, row[0])
                problem = str(payload) if kind == "error" else None
                cur = conn.execute(
                    "INSERT INTO files (path, sig, problem) VALUES (?, ?, ?)",
                    (path, wanted[path], problem),
                )
                file_id = cur.lastrowid
                known[path] = (file_id, wanted[path])
                if problem is not None:
                    continue  # remembered, so an unreadable file is not read at every search
                docs: list[Doc] = payload  # type: ignore[assignment]
                conn.executemany(
                    "INSERT INTO doc (doc_id, file_id, run_id, step_id, seq, method, names, body) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    ((next_doc + k, file_id, *doc) for k, doc in enumerate(docs)),
                )
                text = folded_text(doc[5] for doc in docs)
                search_grams.add(conn, file_id, next_doc, text)
                next_doc += len(docs)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _drop(self, conn: sqlite3.Connection, file_id: int) -> None:
        search_grams.remove(conn, file_id, grams=self._grams)
        conn.execute("DELETE FROM doc WHERE file_id = ?", (file_id,))
        conn.execute("DELETE FROM files WHERE file_id = ?", (file_id,))

    # -- searching -----------------------------------------------------------------------------

    def search(
        self,
        text: str,
        *,
        files: Iterable[Path | str] | None = None,
        limit: int | None = 100,
        keep: list[tuple] | None = None,
        keep_max: int = 0,
        should_stop: Callable[[], bool] | None = None,
    ) -> SearchResult:
        """Hits for ``text`` (substring, any case) in the files given (default: every file).

        ``keep``: a list that receives the matching rows (up to ``keep_max``; ``SearchSession``
        narrows them as the user types on). ``should_stop``: asked while SQLite scans (a new
        keystroke makes the old query pointless); when it says so the scan is abandoned within
        a millisecond or so and the result is ``cancelled``.
        """
        result = SearchResult()
        needle = _fold(text)
        if not needle or not _encodable(needle):
            # Every value is valid UTF-8: a text with a lone surrogate (bytes the shell could
            # not decode) is in none.
            return result
        wanted = None if files is None else {os.fspath(f) for f in files}
        want = max(limit or 0, keep_max) if limit is not None else None
        with self._lock:
            try:
                conn = self._connect()
                rows = self._matching(conn, needle, wanted, should_stop)
                if rows is None:
                    result.cancelled = True
                    return result
                found = 0
                for row in rows:
                    hit = _first_field(needle, *row)
                    if hit is None:
                        continue
                    found += 1
                    if want is not None and found > want:
                        result.truncated = True
                        break
                    if limit is None or len(result.hits) < limit:
                        result.hits.append(hit)
                    else:
                        result.truncated = True
                    if keep is not None:
                        keep.append(row)
                rows.close()
            except sqlite3.OperationalError as exc:
                if _interrupted(exc) and should_stop is not None and should_stop():
                    result.cancelled = True
                    result.hits.clear()
                    if keep is not None:
                        keep.clear()
                    return result
                if not _busy(exc):
                    raise
                result.stale = True
                result.notes.append("search index locked by another ledgerx; try again")
            finally:
                if should_stop is not None and self._conn is not None:
                    self._conn.set_progress_handler(None, 0)
        return result

    def _matching(
        self,
        conn: sqlite3.Connection,
        needle: str,
        wanted: set[str] | None,
        should_stop: Callable[[], bool] | None,
    ) -> Iterator[tuple] | None:
        """The raw rows (path, run_id, step_id, seq, method, names, body) of the documents of
        ``wanted`` files (default: all) holding ``needle`` (folded, no ``SEP``), in index
        order. Candidates come from ``search_grams``; each document is read back from ``doc``
        and checked.

        ``should_stop``: ``None`` when it already says so; otherwise SQLite asks it every
        ``_PROGRESS_STEPS`` instructions and, once it is true, the rows raise "interrupted"
        (the caller removes the handler)."""
        if should_stop is not None:
            if should_stop():
                return None
            conn.set_progress_handler(lambda: 1 if should_stop() else 0, _PROGRESS_STEPS)
        key = folded_needle(_escape(needle))
        queries = candidate_queries(conn, key, grams=self._grams)
        return self._read_back(conn, queries, needle, key, wanted)

    @staticmethod
    def _read_back(
        conn: sqlite3.Connection,
        queries: list[tuple[str, tuple[object, ...]]],
        needle: str,
        key: str,
        wanted: set[str] | None,
    ) -> Iterator[tuple]:
        for sql, args in queries:
            cursor = conn.execute(sql, args)
            try:
                for file_id, path, first_doc, text in cursor:
                    if wanted is not None and path not in wanted:
                        continue
                    ids = list(doc_ids_in(text, first_doc, key))
                    for start in range(0, len(ids), 500):
                        part = ids[start : start + 500]
                        marks = ",".join("?" * len(part))
                        for row in conn.execute(
                            "SELECT run_id, step_id, seq, method, names, body FROM doc "
                            f"WHERE file_id = ? AND doc_id IN ({marks}) ORDER BY doc_id",
                            (file_id, *part),
                        ):
                            if _holds(needle, row[4], row[5]):
                                yield (path, *row)
            finally:
                cursor.close()

    def matching_rows(
        self,
        text: str,
        *,
        files: Iterable[Path | str] | None = None,
        max_rows: int,
        should_stop: Callable[[], bool] | None = None,
    ) -> RowScan:
        """Every document matching ``text`` (substring, any case), as raw rows, up to
        ``max_rows``: what ``SearchSession`` narrows as the user types on."""
        scan = RowScan()
        needle = _fold(text)
        if not needle or not _encodable(needle):
            return scan  # no value holds a lone surrogate
        wanted = None if files is None else {os.fspath(f) for f in files}
        rows = scan.rows
        with self._lock:
            try:
                conn = self._connect()
                found = self._matching(conn, needle, wanted, should_stop)
                if found is None:
                    scan.cancelled = True
                    return scan
                append = rows.append
                for row in found:
                    append(row)
                    if len(rows) > max_rows:
                        rows.pop()
                        scan.complete = False
                        break
                found.close()
            except sqlite3.OperationalError as exc:
                if _interrupted(exc) and should_stop is not None and should_stop():
                    rows.clear()
                    scan.cancelled = True
                    return scan
                if not _busy(exc):
                    raise
                scan.stale = True
                scan.complete = False
            finally:
                if should_stop is not None and self._conn is not None:
                    self._conn.set_progress_handler(None, 0)
        return scan

    def rows_by_id(self, doc_ids: Sequence[int]) -> list[tuple]:
        """The raw rows (as ``matching_rows`` gives them) of these documents, in index order."""
        rows: list[tuple] = []
        with self._lock:
            conn = self._connect()
            for start in range(0, len(doc_ids), 500):
                part = doc_ids[start : start + 500]
                marks = ",".join("?" * len(part))
                rows.extend(
                    conn.execute(
                        "SELECT f.path, d.run_id, d.step_id, d.seq, d.method, d.names, d.body "
                        "FROM doc AS d JOIN files AS f ON f.file_id = d.file_id "
                        f"WHERE d.doc_id IN ({marks}) ORDER BY d.doc_id",
                        part,
                    )
                )
        return rows

    def read_corpus(
        self,
        files: Iterable[Path | str] | None,
        *,
        max_chars: int,
        should_stop: Callable[[], bool] | None = None,
    ) -> Corpus | None:
        """The folded text of ``files`` in one string (see ``search_corpus``); ``None`` when
        there is more than ``max_chars`` of it or ``should_stop()`` said so.

        Read through a connection of its own, so a search meanwhile does not wait for it."""
        wanted = None if files is None else {os.fspath(f) for f in files}
        sql = (
            "SELECT f.file_id, p.path, f.first_doc, f.text FROM folded AS f "
            "JOIN files AS p ON p.file_id = f.file_id ORDER BY f.file_id"
        )
        # The whole index's size first, counted in C: an index far over the budget (other
        # sources' documents too, or a file of a million steps) is not read into Python at all.
        size_sql = "SELECT coalesce(sum(length(text)), 0) FROM folded"
        if self.path is None:
            with self._lock:
                conn = self._connect()
                if conn.execute(size_sql).fetchone()[0] > 2 * max_chars:
                    return None
                return build_corpus(conn.execute(sql), wanted, max_chars, should_stop)
        conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
        try:
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            if conn.execute(size_sql).fetchone()[0] > 2 * max_chars:
                return None
            return build_corpus(conn.execute(sql), wanted, max_chars, should_stop)
        finally:
            conn.close()

    def candidate_files(self, needle: str) -> tuple[list[int], int] | None:
        """``search_grams.candidate_files`` for a folded needle: the files the trigrams say
        may hold it, and the watermark above which files are not in them; ``None``: any."""
        with self._lock:
            conn = self._connect()
            if not self._grams:
                return None
            return search_grams.candidate_files(conn, folded_needle(needle))

    def files_of_runs(self, run_ids: Iterable[str]) -> dict[str, set[str]]:
        """The indexed files holding a run of each id (a run id in two files is ambiguous)."""
        ids = sorted(set(run_ids))
        found: dict[str, set[str]] = {}
        if not ids:
            return found
        with self._lock:
            conn = self._connect()
            for start in range(0, len(ids), 500):
                part = ids[start : start + 500]
                marks = ",".join("?" * len(part))
                for run_id, path in conn.execute(
                    "SELECT DISTINCT d.run_id, f.path FROM doc AS d JOIN files AS f "
                    f"ON f.file_id = d.file_id WHERE d.run_id IN ({marks}) AND d.seq IS NULL "
                    "AND d.step_id IS NULL",
                    part,
                ):
                    found.setdefault(run_id, set()).add(path)
        return found

    def run_fields(self, hits: Iterable[Hit]) -> dict[tuple[str, str], RunFields]:
        """The indexed run fields (start, manifest, company, …) of each hit's run, keyed by
        (file, run id): what ``--since``/``--until`` and the facet flags narrow hits by."""
        wanted = {(hit.source, hit.run_id) for hit in hits}
        ids = sorted({run_id for _, run_id in wanted})
        found: dict[tuple[str, str], RunFields] = {}
        with self._lock:
            conn = self._connect()
            for start in range(0, len(ids), 500):
                part = ids[start : start + 500]
                marks = ",".join("?" * len(part))
                for run_id, path, names, body in conn.execute(
                    "SELECT d.run_id, f.path, d.names, d.body FROM doc AS d JOIN files AS f "
                    f"ON f.file_id = d.file_id WHERE d.run_id IN ({marks}) AND d.seq IS NULL "
                    "AND d.step_id IS NULL",
                    part,
                ):
                    if (path, run_id) in wanted:
                        pairs = zip((names or "").split(SEP), body.split(SEP), strict=False)
                        found[(path, run_id)] = RunFields.of(
                            {name: _unescape(value) for name, value in pairs}
                        )
        return found


@dataclass(frozen=True, slots=True)
class RunFields:
    """A run's own fields as the index holds them: enough for the time and facet filters
    (``timefilter.filter_runs`` and ``facets.filter_runs`` read these attribute names)."""

    started_at: str | None = None
    manifest_path: str | None = None
    profile: str | None = None
    environment: str | None = None
    company: str | None = None
    format: str | None = None

    @classmethod
    def of(cls, fields: dict[str, str]) -> RunFields:
        return cls(
            started_at=fields.get("started_at"),
            manifest_path=fields.get("manifest"),
            profile=fields.get("profile"),
            environment=fields.get("environment"),
            company=fields.get("company"),
            format=fields.get("format"),
        )


def narrow_hits(
    index: SearchIndex,
    hits: list[Hit],
    keep: Callable[[list[RunFields]], list[RunFields]],
    pending: dict[str, list[Doc]] | None = None,
) -> list[Hit]:
    """The hits whose run ``keep`` keeps (``keep`` filters a list of ``RunFields``, like the
    CLI's time and facet filters do with runs); a run the index has no fields for is dropped.
    ``pending``: files read but not yet in the index (``SearchResult.pending``): their runs'
    fields are taken from those documents."""
    fields = index.run_fields(hit for hit in hits if not pending or hit.source not in pending)
    for path, docs in (pending or {}).items():
        for run_id, step_id, seq, _, names, body in docs:
            if step_id is None and seq is None:  # a run's own document
                pairs = zip((names or "").split(SEP), body.split(SEP), strict=False)
                fields[(path, run_id)] = RunFields.of(
                    {name: _unescape(value) for name, value in pairs}
                )
    kept = {id(f) for f in keep(list(fields.values()))}
    return [hit for hit in hits if id(fields.get((hit.source, hit.run_id))) in kept]


@dataclass(slots=True)
class RowScan:
    """The raw rows of ``SearchIndex.matching_rows``: (path, run_id, step_id, seq, method,
    names, body), in index order."""

    rows: list[tuple] = field(default_factory=list)
    complete: bool = True  # every match is in ``rows`` (the scan ended by itself)
    stale: bool = False  # the index was locked by another ledgerx
    cancelled: bool = False


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class SearchSession:
    """Search as the user types: when the new text contains the last one and the last search
    saw every match (at most ``keep_max`` rows), the new matches are among those rows, so
    they are filtered in memory instead of scanning the index again."""

    def __init__(
        self, index: SearchIndex, files: Iterable[Path | str] | None, *, keep_max: int = 10_000
    ) -> None:
        self.index = index
        self.files = None if files is None else [os.fspath(f) for f in files]
        self.keep_max = keep_max
        self._last: tuple[str, list[tuple]] | None = None  # (needle, every matching row)
        self._corpus: Corpus | None = None
        self.corpus_tried = False  # load_corpus ran to its end (kept or too big)

    # A corpus is kept only this big (characters): 10,000 runner files are ~36 M; a file of
    # 1,000,000 steps is ~190 M and stays on the index alone (the TUI's memory budget).
    CORPUS_MAX_CHARS = 64_000_000

    def load_corpus(self, should_stop: Callable[[], bool] | None = None) -> bool:
        """Read the documents into memory once (``Corpus``): from then on a text that cannot
        be narrowed from the last answer is found there, not by a scan of the index. Call it
        from a worker: 10,000 files take a few hundred milliseconds. False when too big."""
        corpus = self.index.read_corpus(
            self.files, max_chars=self.CORPUS_MAX_CHARS, should_stop=should_stop
        )
        self._corpus = corpus
        self.corpus_tried = True
        return corpus is not None

    @property
    def has_corpus(self) -> bool:
        return self._corpus is not None

    def search(self, text: str, *, limit: int = 500) -> SearchResult:
        needle = _fold(text)
        last = self._last
        if needle and last is not None and last[0] in needle:
            rows: list[tuple] = []
            result = SearchResult()
            for row in last[1]:
                hit = _first_field(needle, *row)
                if hit is not None:
                    rows.append(row)
                    if len(result.hits) < limit:
                        result.hits.append(hit)
                    else:
                        result.truncated = True
            self._last = (needle, rows)
            return result
        rows = []
        result = self.index.search(
            text, files=self.files, limit=limit, keep=rows, keep_max=self.keep_max
        )
        # Every match was seen when the scan ended by itself, below its row budget.
        complete = not result.stale and len(rows) < max(limit, self.keep_max)
        self._last = (needle, rows) if complete and needle else None
        return result

    def _candidate_rows(self, corpus: Corpus, needle: str) -> list[int] | None:
        """The corpus rows worth searching for ``needle``: the files the trigrams name (and
        those written since they were caught up); ``None`` for all of them. Only for three
        characters or more, and only when they leave out half the files: a needle that is
        everywhere is found at once by one pass, which stops at ``keep_max`` documents."""
        key = _escape(needle)
        if len(key) < 3:
            return None
        candidates = self.index.candidate_files(key)
        if candidates is None:
            return None
        rows = corpus.rows_of(*candidates)
        return rows if len(rows) * 2 <= len(corpus.file_ids) else None

    def find_runs(self, text: str, *, should_stop: Callable[[], bool] | None = None) -> RunMatches:
        """The runs with a document matching ``text``, each with its best hit, from at most
        ``keep_max`` matching documents (``truncated`` beyond: the search box says so).

        Narrowed in memory when the text grows from a search that saw every match; otherwise
        one scan of the index, abandoned as soon as ``should_stop()`` (a newer keystroke).
        """
        answer = RunMatches(text)
        needle = _fold(text)
        if not needle or not _encodable(needle):
            return answer  # no value holds a lone surrogate: nothing can match
        last = self._last
        if last is not None and last[0] in needle:
            rows = [row for row in last[1] if _holds(needle, row[5], row[6])]
            complete = True
        elif self._corpus is not None:
            self._last = None
            corpus = self._corpus
            rows = self._candidate_rows(corpus, needle)
            ids, complete, stopped = corpus.find(
                folded_needle(_escape(needle)), self.keep_max, should_stop, rows
            )
            if stopped:
                answer.cancelled = True
                return answer
            # Read back from the index, and checked: a document rewritten since the corpus
            # was read (another ledgerx updating the index) is not reported from old text.
            rows = [row for row in self.index.rows_by_id(ids) if _holds(needle, row[5], row[6])]
        else:
            self._last = None
            scan = self.index.matching_rows(
                text, files=self.files, max_rows=self.keep_max, should_stop=should_stop
            )
            if scan.cancelled:
                answer.cancelled = True
                return answer
            rows, complete, answer.stale = scan.rows, scan.complete, scan.stale
        self._last = (needle, rows) if complete else None
        answer.rows, answer.truncated = len(rows), not complete
        best: dict[tuple[str, str], tuple] = {}
        for row in rows:
            key = (row[0], row[1] or "")
            kept = best.get(key)
            # A step's hit beats the run's own fields: enter opens the run on that step.
            if kept is not None and (kept[3] is not None or row[3] is None):
                continue
            best[key] = row
        answer.hits = RunHits(needle, best)
        return answer


def _first_field(
    needle: str, path, run_id, step_id, seq, method, names: str | None, body: str
) -> Hit | None:
    """The first field of a doc whose value holds ``needle`` (folded), as a ``Hit`` with the
    value itself (unescaped); ``None`` when none does."""
    # One fold of the whole body, not one per field: the escaped needle holds no separator,
    # so the separators before a match number the field it is in, and case folding (which
    # may lengthen a letter) never adds or removes a separator. A match of the escaped
    # needle in a value with escapes may be a false one (``x1f`` in ``\\x1f``): that value
    # is unescaped and looked at again.
    key = _escape(needle)
    folded = _fold(body)
    at = folded.find(key)
    if at < 0:
        return None
    values = body.split(SEP)
    fields = (names if names is not None else _DEFAULT_NAMES).split(SEP)
    while at >= 0:
        index = folded.count(SEP, 0, at)
        if index >= len(values) or index >= len(fields):
            return None
        value = values[index]
        if "\\" not in value:
            return Hit(path, run_id or "", step_id, seq, method, fields[index], value)
        value = _unescape(value)
        if needle in _fold(value):
            return Hit(path, run_id or "", step_id, seq, method, fields[index], value)
        end = folded.find(SEP, at)
        if end < 0:
            return None
        at = folded.find(key, end + 1)
    return None


def _holds(needle: str, names: str | None, body: str) -> bool:
    """Whether a field of the doc holds ``needle`` (folded): ``_first_field``'s answer,
    cheaply in the common case of a body without escapes."""
    if _escape(needle) not in _fold(body):
        return False
    if "\\" not in body:
        return True  # then the needle has no escape either, nor a separator: one field holds it
    return _first_field(needle, "", "", None, None, None, names, body) is not None


def _interrupted(exc: BaseException) -> bool:
    return "interrupt" in str(exc)


def _busy(exc: BaseException) -> bool:
    text = str(exc)
    return "locked" in text or "busy" in text


_shared: dict[str, SearchIndex] = {}
_shared_lock = threading.Lock()


def open_default_index() -> SearchIndex:
    """The process-wide index at the default place (in memory when the cache is off)."""
    path = default_index_path()
    key = "" if path is None else str(path)
    with _shared_lock:
        index = _shared.get(key)
        if index is None:
            index = _shared[key] = SearchIndex(path, memory=path is None)
        return index


def search_files(
    files: Sequence[Path | str],
    text: str,
    *,
    limit: int | None = 100,
    index: SearchIndex | None = None,
    stale_after: float | None = None,
) -> SearchResult:
    """Update the index for ``files`` then search them: what ``ledgerx search`` does."""
    index = index or open_default_index()
    try:
        update = index.update(files, stale_after=stale_after)
        result = _search_with_pending(index, update, files, text, limit)
    except sqlite3.DatabaseError as exc:
        if _busy(exc) or not index.reset(str(exc)):
            raise
        update = index.update(files, stale_after=stale_after)
        result = _search_with_pending(index, update, files, text, limit)
    result.problems = update.problems
    result.notes = update.notes + result.notes
    return result


def _search_with_pending(
    index: SearchIndex,
    update: SearchResult,
    files: Sequence[Path | str],
    text: str,
    limit: int | None,
) -> SearchResult:
    """``index.search``, and when the update could not write (another ledgerx held the
    index), the changed files' documents it read searched in memory instead of their old
    rows: the answer is what the files hold now, not stale."""
    pending = update.pending
    if pending is None:
        result = index.search(text, files=files, limit=limit)
        result.stale = result.stale or update.stale
        return result
    others = [f for f in files if os.fspath(f) not in pending]
    result = index.search(text, files=others, limit=limit)
    needle = _fold(text)
    if needle and _encodable(needle):
        for path, docs in pending.items():
            for doc in docs:
                hit = _first_field(needle, path, *doc)
                if hit is None:
                    continue
                if limit is not None and len(result.hits) >= limit:
                    result.truncated = True
                    break
                result.hits.append(hit)
    result.pending = pending
    if pending:
        result.notes.append(
            f"search index held by another ledgerx: {len(pending):,} changed "
            f"file{'s' if len(pending) != 1 else ''} searched directly"
        )
    return result


__all__ = [
    "LAYOUT",
    "Corpus",
    "Hit",
    "RunFields",
    "narrow_hits",
    "RunHits",
    "RunMatches",
    "SearchIndex",
    "SearchSession",
    "SearchResult",
    "default_index_path",
    "open_default_index",
    "read_docs",
    "search_files",
]


def file_names(dirs: Iterable[Path | str], files: Iterable[Path | str]) -> list[str]:
    """``sources.ledger_files`` as plain strings (no ``Path`` per file: 10,000 of them cost
    a tenth of a warm search); missing sources are left out (the caller reports them)."""
    from ..ledgers.sources import ledger_names

    found: list[str] = []
    seen: set[str] = set()
    for directory in dirs:
        base = os.fspath(directory)
        try:
            names = ledger_names(os.listdir(base))
        except OSError:
            continue
        # The strings ``str(Path(directory) / name)`` gives (the scanner's run sources), built
        # without a Path per file: "." adds no prefix, "/" no second slash.
        prefix = "" if base == "." else base if base.endswith("/") else base + "/"
        for name in names:
            path = prefix + name
            if path not in seen:
                seen.add(path)
                found.append(path)
    for file in files:
        path = os.fspath(file)
        if path not in seen:
            seen.add(path)
            found.append(path)
    return found
