"""Where a step sits in a run too big to read whole, so a paged view can load the right page.

A paged run (thousands of steps) is shown one page of ``reader.read_steps_page`` at a time, in
``seq, step_id`` order. Opening it on the step that matters (``focus.step_that_matters``), on
a step a search named, or jumping to the next problem step (``focus.next_problem``) needs the
*position* of a step among all of the run's steps, not the step itself: these functions
answer with one indexed query over a read snapshot for runner ledgers, and by reading the
steps page by page for other formats (whose steps come from their own readers).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from ..ledgers.access import snapshot
from ..ledgers.schema import STEP_STATUS_SQL
from ..models import Step
from .focus import PROBLEM_STATUSES

_RANKED = (
    "SELECT row_number() OVER (ORDER BY seq, step_id) - 1 AS position, step_id, seq, "
    f"{STEP_STATUS_SQL} AS ds FROM step WHERE run_id = :run"
)
_PROBLEMS = "(" + ", ".join(f"'{s}'" for s in PROBLEM_STATUSES) + ")"
_MATTERS = (
    f"SELECT position FROM ({_RANKED}) WHERE ds IN ('in_doubt', 'failed') "
    "ORDER BY ds = 'in_doubt' DESC, position LIMIT 1"
)
_COUNT = "SELECT count(*) FROM step WHERE run_id = :run"
_NEXT = f"SELECT position FROM ({_RANKED}) WHERE ds IN {_PROBLEMS} AND position > :at "
_NEXT += "ORDER BY position LIMIT 1"
_PREVIOUS = f"SELECT position FROM ({_RANKED}) WHERE ds IN {_PROBLEMS} AND position < :at "
_PREVIOUS += "ORDER BY position DESC LIMIT 1"
_BY_ID = f"SELECT position FROM ({_RANKED}) WHERE step_id = :id LIMIT 1"
_BY_SEQ = f"SELECT position FROM ({_RANKED}) WHERE seq = :seq ORDER BY position LIMIT 1"

_PAGE = 5000  # other formats: steps read per page while looking


def _is_runner(conn: sqlite3.Connection) -> bool:
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    return {"run", "step"} <= names


def _one(conn: sqlite3.Connection, sql: str, params: dict) -> int | None:
    row = conn.execute(sql, params).fetchone()
    return row[0] if row is not None and isinstance(row[0], int) else None


def _scan(
    conn: sqlite3.Connection, path: Path, run_id: str, pick: Callable[[int, Step], bool]
) -> int | None:
    """The first position whose step ``pick`` accepts, reading another format's steps."""
    from ..ledgers.reader import _foreign_steps

    offset = 0
    while True:
        steps = _foreign_steps(conn, path, run_id, offset, _PAGE)
        for index, step in enumerate(steps):
            if pick(offset + index, step):
                return offset + index
        if len(steps) < _PAGE:
            return None
        offset += _PAGE


def _foreign_all(conn: sqlite3.Connection, path: Path, run_id: str) -> list[Step]:
    from ..ledgers.reader import _foreign_steps

    return _foreign_steps(conn, path, run_id)


def position_that_matters(path: Path | str, run_id: str, *, timeout: float = 2.0) -> int | None:
    """Position of the first in-doubt step, else the first failed one, else the last (as
    ``focus.step_that_matters``); ``None`` for a run without steps. Raises ``SourceError``."""
    path = Path(path)

    def read(conn: sqlite3.Connection) -> int | None:
        if not _is_runner(conn):
            from .focus import step_that_matters

            return step_that_matters(_foreign_all(conn, path, run_id))
        found = _one(conn, _MATTERS, {"run": run_id})
        if found is not None:
            return found
        total = _one(conn, _COUNT, {"run": run_id}) or 0
        return total - 1 if total else None

    return snapshot(path, read, timeout=timeout)


def position_of_step(
    path: Path | str,
    run_id: str,
    *,
    step_id: int | None = None,
    seq: int | None = None,
    timeout: float = 2.0,
) -> int | None:
    """Position of the step with ``step_id`` (or, without one, the first with ``seq``);
    ``None`` when the run has no such step. Raises ``SourceError``."""
    path = Path(path)
    if step_id is None and seq is None:
        return None

    def read(conn: sqlite3.Connection) -> int | None:
        if not _is_runner(conn):

            def same(_: int, step: Step) -> bool:
                if step_id is not None:
                    return step.step_id == step_id
                return step.seq == seq

            return _scan(conn, path, run_id, same)
        if step_id is not None:
            return _one(conn, _BY_ID, {"run": run_id, "id": step_id})
        return _one(conn, _BY_SEQ, {"run": run_id, "seq": seq})

    return snapshot(path, read, timeout=timeout)


def next_problem_position(
    path: Path | str, run_id: str, at: int, direction: int = 1, *, timeout: float = 2.0
) -> int | None:
    """Position of the next (``direction`` 1) or previous (-1) problem step after position
    ``at`` (``focus.PROBLEM_STATUSES``), not wrapping; ``None`` when there is none."""
    path = Path(path)

    def read(conn: sqlite3.Connection) -> int | None:
        if not _is_runner(conn):
            from .focus import next_problem

            return next_problem(_foreign_all(conn, path, run_id), at, direction)
        return _one(conn, _NEXT if direction > 0 else _PREVIOUS, {"run": run_id, "at": at})

    return snapshot(path, read, timeout=timeout)
