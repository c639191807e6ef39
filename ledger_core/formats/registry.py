"""Which format a file is, and reading it through that format.

The runner's ledgers never come here: the scanner's one-statement read serves them, and only
when that read fails as "not a ledger" does ``read_foreign`` recognise the schema. A file that
matches no format is "not a ledger" naming its tables; one matching two formats is
"ambiguous"; a known format with a version newer than ledgerx knows is "newer schema".

Runs of these formats travel as *tagged* raw runs, ``(format name, payload)``, beside the
runner's untagged 8-tuples, so the summary cache stores both and the tag picks the format.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from ..errors import MappingError, SourceError
from ..models import RunSummary, Step
from . import agent_orchestrator, bcli, cr, event_ledger
from .base import Format, Recognition, SchemaInfo
from .mapping import MappedFormat, default_mapping_path, load_mappings

RUNNER = bcli.FORMAT
BUILTIN: tuple[Format, ...] = (cr.FORMAT, agent_orchestrator.FORMAT, event_ledger.FORMAT)
BUILTIN_NAMES = frozenset(f.name for f in (RUNNER, *BUILTIN))
_TABLE_LIMIT = 12

_lock = threading.Lock()
_mapped: dict[str, list[MappedFormat]] = {}


def mapped_formats() -> list[MappedFormat]:
    """The formats of the active mapping file (see ``mapping.default_mapping_path``), loaded
    once per process. Raises ``MappingError``."""
    path = default_mapping_path()
    if path is None:
        return []
    key = str(path)
    with _lock:
        if key not in _mapped:
            _mapped[key] = load_mappings(path, set(BUILTIN_NAMES))
        return _mapped[key]


def forget_mappings() -> None:
    """Drop loaded mapping files (tests, or after the file was edited)."""
    with _lock:
        _mapped.clear()


def all_formats() -> list[Format]:
    return [RUNNER, *BUILTIN, *mapped_formats()]


def by_name(name: str) -> Format | None:
    for fmt in (RUNNER, *BUILTIN):
        if fmt.name == name:
            return fmt
    try:
        mapped = mapped_formats()
    except MappingError:
        return None
    return next((f for f in mapped if f.name == name), None)


def not_a_ledger_reason(tables: object) -> str:
    """Why a database is no ledger, naming the tables it has."""
    names = sorted(t for t in tables if isinstance(t, str))  # type: ignore[attr-defined]
    if not names:
        listed = "it has no tables"
    else:
        shown = ", ".join(names[:_TABLE_LIMIT]) + (" …" if len(names) > _TABLE_LIMIT else "")
        listed = f"its tables: {shown}"
    return f"an SQLite database, but not a ledger: it matches no known format ({listed})"


def detect(
    conn: sqlite3.Connection, path: Path | str, schema: SchemaInfo | None = None
) -> tuple[Format, Recognition, SchemaInfo]:
    """The one format ``conn``'s schema matches. Raises ``SourceError`` otherwise."""
    name = str(path)
    schema = schema or SchemaInfo.read(conn)
    try:
        candidates = [RUNNER, *BUILTIN, *mapped_formats()]
    except MappingError as exc:
        raise SourceError(name, "mapping_error", str(exc)) from None
    matches = []
    for fmt in candidates:
        recognition = fmt.recognise(schema, conn)
        if recognition is not None:
            matches.append((fmt, recognition))
    if not matches:
        raise SourceError(name, "not_a_ledger", not_a_ledger_reason(schema.tables))
    if len(matches) > 1 and matches[0][0] is RUNNER and matches[0][1].problem is None:
        # The runner's read takes such a file first (the fast path): say what it does.
        matches = matches[:1]
    if len(matches) > 1:
        names = ", ".join(f.name for f, _ in matches)
        raise SourceError(
            name, "ambiguous", f"ambiguous: its schema matches several formats ({names})"
        )
    fmt, recognition = matches[0]
    if recognition.problem is not None:
        raise SourceError(name, *recognition.problem)
    return fmt, recognition, schema


def _foreign(conn: sqlite3.Connection, path: Path | str, original: SourceError):
    """The non-runner format of ``conn``; the runner's own error when it looks like a runner
    ledger (a ``run``/``step`` schema with a mistake keeps its precise reason)."""
    schema = SchemaInfo.read(conn)
    if "run" in schema.tables and "step" in schema.tables:
        raise original
    fmt, _recognition, schema = detect(conn, path, schema)
    if fmt is RUNNER:
        raise original
    return fmt, schema


def read_foreign(conn: sqlite3.Connection, path: Path | str, original: SourceError) -> list:
    """Tagged raw runs of a file the runner's read refused with ``original``."""
    fmt, schema = _foreign(conn, path, original)
    try:
        return [(fmt.name, payload) for payload in fmt.read_raw(conn, schema)]
    except MappingError as exc:
        raise SourceError(str(path), "mapping_error", str(exc)) from None


def read_foreign_run(
    conn: sqlite3.Connection, path: Path | str, run_id: str, original: SourceError
) -> tuple[list, Format, SchemaInfo]:
    """The tagged raw run ``run_id`` (or none) of a non-runner file, with its format."""
    fmt, schema = _foreign(conn, path, original)
    try:
        raws = [(fmt.name, p) for p in fmt.read_raw(conn, schema, run_id)]
    except MappingError as exc:
        raise SourceError(str(path), "mapping_error", str(exc)) from None
    return raws, fmt, schema


def read_foreign_steps(
    conn: sqlite3.Connection,
    path: Path | str,
    run_id: str,
    original: SourceError,
    offset: int = 0,
    limit: int | None = None,
) -> list[Step]:
    fmt, schema = _foreign(conn, path, original)
    try:
        return fmt.read_steps(conn, schema, run_id, offset, limit)
    except MappingError as exc:
        raise SourceError(str(path), "mapping_error", str(exc)) from None


def is_tagged(raw: tuple) -> bool:
    return len(raw) == 2 and isinstance(raw[0], str)


def cacheable(raw: tuple) -> bool:
    """Runner and built-in runs may be cached; a mapped run may not (its mapping can change)."""
    return not is_tagged(raw) or raw[0] in BUILTIN_NAMES


def summarize_tagged(raw: tuple, source: str, *, now: float, stale_after: float) -> RunSummary:
    """A tagged raw run's summary. Raises ``ValueError`` for an unknown tag (a stale cache)."""
    fmt = by_name(raw[0])
    if fmt is None or fmt is RUNNER:
        raise ValueError(f"unknown ledger format {raw[0]!r}")
    return fmt.summarize(raw[1], source, now=now, stale_after=stale_after)


def no_rollback(format_name: str) -> tuple[str, str] | None:
    """``(code, reason)`` refusing every rollback of a format other than the runner's."""
    if format_name == RUNNER.name:
        return None
    fmt = by_name(format_name)
    why = (
        fmt.capabilities.no_rollback_reason
        if fmt is not None and fmt.capabilities.no_rollback_reason
        else "ledgerx can only undo what the batch runner recorded"
    )
    return (
        "no_rollback_for_format",
        f"no rollback for this format ({format_name}): rollback is the batch runner's alone; "
        f"{why}.",
    )


def describe(conn: sqlite3.Connection, path: Path | str) -> dict:
    """Which format a file is, its version and facts, for ``ledgerx doctor``. Raises
    ``SourceError`` when none matches (naming the tables it has)."""
    fmt, recognition, schema = detect(conn, path)
    return {
        "format": fmt.name,
        "version": recognition.version,
        "notes": list(fmt.file_notes(conn, schema)),
    }
