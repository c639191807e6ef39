"""Mapping files: make any other SQLite ledger readable without code (FORMATS.md, last section).

A TOML file names formats; each says how to recognise its schema (tables, and columns per
table) and gives one SELECT for the runs and one for a run's steps (``:run_id`` is the run),
whose result columns use ledgerx's names::

    [formats.rust-events]
    title = "Rust event store (seed 004)"
    tables = ["events", "projection_threads"]
    columns = { events = ["sequence", "event_type"] }
    runs = "SELECT thread_id AS run_id, min(created_at) AS started_at FROM ... GROUP BY 1"
    steps = "SELECT sequence AS seq, created_at AS intent_ts, ... WHERE ... = :run_id"

Looked up like the profiles file: ``--formats FILE``, ``$LEDGERX_FORMATS``,
``~/.config/ledgerx/formats.toml``. Queries run under ``PRAGMA query_only`` and an authorizer
that allows nothing but reading, inside ledgerx's read-only snapshot; a query must be one
SELECT. Every mistake is a ``MappingError`` naming the file, the format and the key or column.
A mapped format never offers a rollback.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

from ..derive import run_state, step_status
from ..errors import MappingError, SourceError
from ..ledgers.access import read_regular_file
from ..models import RunSummary, Step
from .base import Capabilities, Format, RawPayload, Recognition, SchemaInfo
from .summary import build_summary, counts_from, liveness_by_age
from .values import integer, latest, pairs, text

RUN_COLUMNS = (
    "run_id",
    "started_at",
    "finished_at",
    "state",
    "profile",
    "environment",
    "company",
    "manifest_path",
    "last_activity",
)
STEP_COLUMNS = (
    "seq",
    "intent_ts",
    "outcome_ts",
    "status",
    "method",
    "url",
    "body_hash",
    "bc_correlation_id",
    "error_message",
)
EXTRA_PREFIX = "x_"
QUERY_SECONDS = 30.0  # longest a mapping's query may run
_KEYS = {"title", "tables", "columns", "runs", "steps"}
NO_ROLLBACK = (
    "a mapped format is read through its mapping file only: ledgerx knows nothing of how its "
    "writes could be undone"
)

# sqlite3 authorizer action codes that reading needs; everything else is denied.
_READ_ACTIONS = frozenset(
    {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE}
)


def _only_reads(action: int, *_args: object) -> int:
    return sqlite3.SQLITE_OK if action in _READ_ACTIONS else sqlite3.SQLITE_DENY


def default_mapping_path() -> Path | None:
    """``$LEDGERX_FORMATS``, else ``~/.config/ledgerx/formats.toml`` if it exists."""
    env = os.environ.get("LEDGERX_FORMATS")
    if env:
        return Path(env).expanduser()
    home = Path("~/.config/ledgerx/formats.toml").expanduser()
    return home if home.is_file() else None


class MappedFormat(Format):
    """A format defined by a mapping file."""

    builtin = False
    versions = "as the mapping file says"

    def __init__(self, file: str, name: str, spec: dict) -> None:
        self.file = file
        self.name = name
        self.title = spec.get("title") or f"mapped by {file}"
        self.tables: tuple[str, ...] = tuple(spec["tables"])
        self.columns: dict[str, tuple[str, ...]] = {
            t: tuple(c) for t, c in spec.get("columns", {}).items()
        }
        self.runs_sql: str = spec["runs"]
        self.steps_sql: str = spec["steps"]
        self.capabilities = Capabilities(
            rollback=False,
            no_rollback_reason=NO_ROLLBACK,
            liveness_source="age of the last timestamp the mapping returns",
            in_doubt_possible=True,
            unknowable=("whether an unfinished run is still being written cannot be known",),
        )

    def _where(self, what: str) -> str:
        return f"mapping file {self.file}, format {self.name!r}, {what}"

    def recognise(self, schema: SchemaInfo, conn: sqlite3.Connection) -> Recognition | None:
        if not all(t in schema.tables for t in self.tables):
            return None
        for table, cols in self.columns.items():
            if not schema.has(table, *cols):
                return None
        return Recognition("mapped")

    def _query(
        self, conn: sqlite3.Connection, sql: str, params: dict, what: str, allowed: tuple
    ) -> tuple[list[str], list[tuple]]:
        conn.execute("PRAGMA query_only = ON")
        conn.set_authorizer(_only_reads)
        # A mapping's query may never end (a recursive CTE): stop it rather than hang.
        deadline = time.monotonic() + QUERY_SECONDS
        conn.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
        try:
            cursor = conn.execute(sql, params)
            rows = cursor.fetchall()
        except sqlite3.OperationalError as exc:
            if "not authorized" in str(exc):
                raise MappingError(
                    self._where(f"{what} query: only reading is allowed (a single SELECT)")
                ) from None
            if "interrupted" not in str(exc):
                raise MappingError(self._where(f"{what} query fails: {exc}")) from None
            raise MappingError(
                self._where(f"{what} query: stopped after {QUERY_SECONDS:g}s (too slow or endless)")
            ) from None
        except (sqlite3.ProgrammingError, sqlite3.Warning) as exc:
            raise MappingError(
                self._where(f"{what} query: must be one single SELECT ({exc})")
            ) from None
        except sqlite3.DatabaseError as exc:
            if "not authorized" in str(exc):
                raise MappingError(
                    self._where(f"{what} query: only reading is allowed (a single SELECT)")
                ) from None
            raise MappingError(self._where(f"{what} query fails: {exc}")) from None
        finally:
            conn.set_authorizer(None)
            conn.set_progress_handler(None, 0)
        names = [d[0] for d in cursor.description or ()]
        required = allowed[0]
        if required not in names:
            raise MappingError(
                self._where(f"{what} query: no result column {required!r} (required)")
            )
        for column in names:
            if column not in allowed and not column.startswith(EXTRA_PREFIX):
                raise MappingError(
                    self._where(
                        f"{what} query: result column {column!r} is not one of ledgerx's names "
                        f"({', '.join(allowed)}; prefix others with {EXTRA_PREFIX!r})"
                    )
                )
        return names, rows

    def read_raw(
        self, conn: sqlite3.Connection, schema: SchemaInfo, run_id: str | None = None
    ) -> list[RawPayload]:
        names, rows = self._query(conn, self.runs_sql, {}, "runs", RUN_COLUMNS)
        out: list[RawPayload] = []
        for row in rows:
            values = dict(zip(names, row, strict=True))
            rid = text(values.get("run_id"))
            if rid is None or (run_id is not None and rid != run_id):
                continue
            steps = self.read_steps(conn, schema, rid)
            tally: dict[str, int] = {}
            last = None
            for step in steps:
                tally[step.derived_status] = tally.get(step.derived_status, 0) + 1
                last = latest(last, step.intent_ts, step.outcome_ts)
            extras = tuple(
                (k[len(EXTRA_PREFIX) :], text(v) or "")
                for k, v in values.items()
                if k.startswith(EXTRA_PREFIX) and v is not None
            )
            out.append(
                (
                    rid,
                    *(text(values.get(k)) for k in RUN_COLUMNS[1:]),
                    tuple(sorted(tally.items())),
                    last,
                    max((s.seq for s in steps if s.seq is not None), default=None),
                    extras,
                )
            )
        return out

    def summarize(
        self, payload: RawPayload, source: str, *, now: float, stale_after: float
    ) -> RunSummary:
        (rid, started, finished, stamped, profile, env, company, manifest, activity,
         tally_t, last, last_seq, extras) = payload  # fmt: skip
        counts = counts_from(dict(tally_t))
        done = finished is not None
        last_activity = latest(started, activity, last, finished)
        live = liveness_by_age(
            finished=done, stamp=last_activity, now=now, stale_after=stale_after, fresh="unknown"
        )
        diagnosis = []
        if counts.in_doubt:
            diagnosis.append(
                f"{counts.in_doubt} step(s) have an intent but no outcome: they may or may not "
                "have landed."
            )
        return build_summary(
            format_name=self.name,
            run_id=rid,
            source=source,
            state=run_state(stamped, finished, counts),
            liveness=live,
            counts=counts,
            started_at=started,
            finished_at=finished,
            last_activity=last_activity,
            last_seq=last_seq,
            diagnosis=tuple(diagnosis),
            stamped_state=stamped,
            profile=profile,
            environment=env,
            company=company,
            manifest_path=manifest,
            extras=extras,
        )

    def read_steps(
        self,
        conn: sqlite3.Connection,
        schema: SchemaInfo,
        run_id: str,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[Step]:
        names, rows = self._query(conn, self.steps_sql, {"run_id": run_id}, "steps", STEP_COLUMNS)
        end = None if limit is None else offset + limit
        steps = []
        for i, row in enumerate(rows[offset:end], start=offset + 1):
            v = dict(zip(names, row, strict=True))
            status, outcome = text(v.get("status")), text(v.get("outcome_ts"))
            intent = text(v.get("intent_ts"))
            seq = integer(v.get("seq"))
            from ..derive import latency_ms

            steps.append(
                Step(
                    step_id=i,
                    seq=seq,
                    method=text(v.get("method")),
                    url=text(v.get("url")),
                    body_hash=text(v.get("body_hash")),
                    intent_ts=intent,
                    outcome_ts=outcome,
                    status=status,
                    derived_status=step_status(status, outcome),
                    latency_ms=latency_ms(intent, outcome),
                    bc_correlation_id=text(v.get("bc_correlation_id")),
                    error_message=text(v.get("error_message")),
                    rollback_url=None,
                    format=self.name,
                    extras=pairs(
                        {
                            k[len(EXTRA_PREFIX) :]: x
                            for k, x in v.items()
                            if k.startswith(EXTRA_PREFIX)
                        }
                    ),
                )
            )
        return steps


def _check(file: str, name: str, spec: object, builtin_names: set[str]) -> dict:
    def bad(what: str) -> MappingError:
        return MappingError(f"mapping file {file}, format {name!r}: {what}")

    if name in builtin_names:
        raise bad("this name is a built-in format's; choose another")
    if not isinstance(spec, dict):
        raise bad("must be a table ([formats.NAME])")
    unknown = sorted(set(spec) - _KEYS)
    if unknown:
        raise bad(f"unknown key {unknown[0]!r} (known: {', '.join(sorted(_KEYS))})")
    for key in ("tables", "runs", "steps"):
        if key not in spec:
            raise bad(f"missing key {key!r}")
    tables = spec["tables"]
    if not isinstance(tables, list) or not tables or not all(isinstance(t, str) for t in tables):
        raise bad("'tables' must be a non-empty list of table names")
    columns = spec.get("columns", {})
    if not isinstance(columns, dict):
        raise bad("'columns' must be a table of table = [column, ...]")
    for table, cols in columns.items():
        if not isinstance(cols, list) or not all(isinstance(c, str) for c in cols):
            raise bad(f"columns.{table} must be a list of column names")
    if "title" in spec and not isinstance(spec["title"], str):
        raise bad("'title' must be text")
    for key in ("runs", "steps"):
        sql = spec[key]
        if not isinstance(sql, str) or not sql.strip():
            raise bad(f"{key!r} must be one SELECT statement, as text")
        stripped = sql.strip().rstrip(";").strip()
        if not sqlite3.complete_statement(stripped + ";"):
            raise bad(f"{key!r} is not a complete SQL statement")
        if stripped.split(None, 1)[0].upper() not in ("SELECT", "WITH"):
            raise bad(f"{key!r} must be a SELECT (it starts with {stripped.split(None, 1)[0]!r})")
        if ";" in stripped and sqlite3.complete_statement(stripped.split(";", 1)[0] + ";"):
            raise bad(f"{key!r} must be one single SELECT, not several statements")
    if ":run_id" not in spec["steps"]:
        raise bad("'steps' must select one run's steps with the parameter :run_id")
    return spec


def load_mappings(path: Path | str, builtin_names: set[str]) -> list[MappedFormat]:
    """The formats a mapping file defines. Raises ``MappingError`` naming what is wrong."""
    import tomllib  # here: only a session with a mapping file pays for it

    file = str(path)
    try:
        data = read_regular_file(path)
    except FileNotFoundError:
        raise MappingError(f"mapping file {file}: not found") from None
    except OSError as exc:
        raise MappingError(f"mapping file {file}: cannot be read ({exc.strerror})") from None
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise MappingError(f"mapping file {file}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise MappingError(f"mapping file {file}: not valid TOML ({exc})") from None
    formats = doc.get("formats")
    if not isinstance(formats, dict) or not formats:
        raise MappingError(f"mapping file {file}: no [formats.NAME] table")
    return [
        MappedFormat(file, name, _check(file, name, spec, builtin_names))
        for name, spec in formats.items()
    ]


def mapping_source_error(path: str, error: MappingError) -> SourceError:
    return SourceError(path, "mapping_error", str(error))
