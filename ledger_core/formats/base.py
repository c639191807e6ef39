"""The one small interface every ledger format implements, and the schema facts it sees.

A format is recognised from the schema alone (``SchemaInfo``: ``sqlite_master`` plus
``PRAGMA table_info``), never from a file name. Once recognised it reads, inside one read-only
snapshot, the *raw* facts of its runs (plain tuples: they are cached and cross process
boundaries), turns one raw run into a ``RunSummary`` at read time (liveness depends on the
clock), reads one run's steps, and says what it can and cannot do (``Capabilities``).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from ..models import RunSummary, Step

RawPayload = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class SchemaInfo:
    """The tables of a database and each table's column names, as SQLite reports them."""

    tables: dict[str, frozenset[str]]

    @classmethod
    def read(cls, conn: sqlite3.Connection) -> SchemaInfo:
        names = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name"
            )
            if isinstance(row[0], str)
        ]
        tables: dict[str, frozenset[str]] = {}
        for name in names:
            quoted = name.replace('"', '""')
            columns = conn.execute(f'PRAGMA table_info("{quoted}")').fetchall()
            tables[name] = frozenset(c[1] for c in columns if isinstance(c[1], str))
        return cls(tables)

    def has(self, table: str, *columns: str) -> bool:
        present = self.tables.get(table)
        return present is not None and all(c in present for c in columns)

    def columns(self, table: str) -> frozenset[str]:
        return self.tables.get(table, frozenset())


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a format allows and what it cannot know, in sentences a person reads."""

    rollback: bool
    no_rollback_reason: str | None
    liveness_source: str
    in_doubt_possible: bool
    unknowable: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "rollback": self.rollback,
            "no_rollback_reason": self.no_rollback_reason,
            "liveness_source": self.liveness_source,
            "in_doubt_possible": self.in_doubt_possible,
            "unknowable": list(self.unknowable),
        }


@dataclass(frozen=True, slots=True)
class Recognition:
    """A format's verdict on a schema: it matches, and with which version (or why not usable).

    ``problem`` is ``(kind, reason)`` when the schema is this format's but cannot be read
    (a newer version than known, a missing version row).
    """

    version: str | None
    problem: tuple[str, str] | None = None


class Format:
    """Base of every format. Subclasses set the class attributes and the four methods."""

    name: str = ""
    title: str = ""
    builtin: bool = True
    capabilities: Capabilities
    versions: str = ""  # the versions this ledgerx knows, in words

    def recognise(self, schema: SchemaInfo, conn: sqlite3.Connection) -> Recognition | None:
        """``None`` when the schema is not this format's."""
        raise NotImplementedError

    def read_raw(
        self, conn: sqlite3.Connection, schema: SchemaInfo, run_id: str | None = None
    ) -> list[RawPayload]:
        """Raw facts of every run (or of the run ``run_id``), inside the caller's snapshot."""
        raise NotImplementedError

    def summarize(
        self, payload: RawPayload, source: str, *, now: float, stale_after: float
    ) -> RunSummary:
        """Derive one run's summary from its raw facts at time ``now``."""
        raise NotImplementedError

    def read_steps(
        self,
        conn: sqlite3.Connection,
        schema: SchemaInfo,
        run_id: str,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[Step]:
        """One run's steps in the format's order, from ``offset`` (at most ``limit``)."""
        raise NotImplementedError

    def file_notes(self, conn: sqlite3.Connection, schema: SchemaInfo) -> tuple[str, ...]:
        """Facts about the whole file worth showing beside it (e.g. consumer lag)."""
        return ()
