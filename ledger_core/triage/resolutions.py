"""A person's verdict on an in-doubt step (landed / did not land / still unknown), kept as an
append-only audit trail.

Where it is kept:

* runner ledgers (``bcli``): ledgerx's own table ``step_resolution`` in the ledger file (SPEC §1
  allows ledgerx's own tables; the runner's ``run``/``step`` rows are never touched). It is
  created with ``CREATE TABLE IF NOT EXISTS`` through ``writer.open_readwrite``, which refuses a
  file that is not a ledger.
* every other (read-only) format: ledgerx's own state file ``resolutions.sqlite`` under
  ``$LEDGERX_STATE_DIR`` / ``$XDG_STATE_HOME/ledgerx`` / ``~/.local/state/ledgerx``, keyed by
  the ledger's resolved path, the run id and the step's ``seq``. Nothing is written to those
  ledgers.

Rows are only ever inserted; for each step the newest row wins and the older ones stay as
history. How a resolution counts (``derive.verdict``): *landed* as a committed step, *did not
land* as a failed one, *still unknown* leaves the step in doubt. It counts only while the step
is still in doubt: an outcome the runner writes later is the truth. ``state`` (the runner's
rules) never changes.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import ResolutionRefused, SourceError
from ..models import RunDetail, RunSummary, Step
from ..rollback.targets import url_problem
from ..sanitize import clean, has_credentials
from ..timeutil import now_iso

LANDED = "landed"
NOT_LANDED = "not_landed"
UNKNOWN = "unknown"
OUTCOMES = (LANDED, NOT_LANDED, UNKNOWN)
OUTCOME_WORDS = {LANDED: "landed", NOT_LANDED: "did not land", UNKNOWN: "still unknown"}
# Derived step statuses a person may resolve: the request may or may not have landed.
DOUBTFUL = frozenset({"in_doubt", "unknown"})
TABLE = "step_resolution"
STATE_FILE = "resolutions.sqlite"
NOTE_LIMIT = 4000

LEDGER_DDL = f"""CREATE TABLE IF NOT EXISTS {TABLE} (
  resolution_id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT NOT NULL, step_id INTEGER, seq INTEGER,
  outcome TEXT NOT NULL CHECK (outcome IN ('landed', 'not_landed', 'unknown')),
  url TEXT, note TEXT NOT NULL, who TEXT NOT NULL, resolved_at TEXT NOT NULL)"""
STATE_DDL = f"""CREATE TABLE IF NOT EXISTS {TABLE} (
  resolution_id INTEGER PRIMARY KEY AUTOINCREMENT,
  file TEXT NOT NULL, run_id TEXT NOT NULL, step_id INTEGER, seq INTEGER,
  outcome TEXT NOT NULL, url TEXT, note TEXT NOT NULL, who TEXT NOT NULL,
  resolved_at TEXT NOT NULL)"""
_COLUMNS = "resolution_id, step_id, seq, outcome, url, note, who, resolved_at"


@dataclass(frozen=True, slots=True)
class Resolution:
    """One recorded resolution of one step (a row of the audit trail)."""

    resolution_id: int | None
    step_id: int | None
    seq: int | None
    outcome: str
    url: str | None
    note: str
    who: str
    resolved_at: str

    @property
    def words(self) -> str:
        return OUTCOME_WORDS.get(self.outcome, self.outcome)

    def sentence(self) -> str:
        """One line for a person: what was decided, by whom, when (text is cleaned)."""
        url = f" at {clean(self.url, 120)}" if self.url else ""
        return (
            f"resolved as {self.words}{url} by {clean(self.who, 60)} at "
            f"{clean(self.resolved_at, 40)}: {clean(self.note, 200)}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "resolution_id": self.resolution_id,
            "step_id": self.step_id,
            "seq": self.seq,
            "outcome": self.outcome,
            "url": self.url,
            "note": self.note,
            "who": self.who,
            "resolved_at": self.resolved_at,
        }


def default_who() -> str:
    """Who is resolving: ``$LEDGERX_USER``, else ``$USER``/the login name, else ``unknown``."""
    for name in ("LEDGERX_USER", "USER", "LOGNAME"):
        value = os.environ.get(name, "").strip()
        if value:
            return value
    try:
        return os.getlogin()
    except OSError:
        return "unknown"


def state_dir() -> Path | None:
    """ledgerx's state directory (as ``tui/settings.py``); ``None`` when turned off."""
    env = os.environ.get("LEDGERX_STATE_DIR")
    if env is not None:
        return None if env.strip().lower() in ("", "off", "0", "none") else Path(env)
    xdg = os.environ.get("XDG_STATE_HOME")
    base = Path(xdg) if xdg else Path("~/.local/state").expanduser()
    return base / "ledgerx"


def _row(row: tuple) -> Resolution:
    rid, step_id, seq, outcome, url, note, who, at = row
    return Resolution(
        rid if isinstance(rid, int) else None,
        step_id if isinstance(step_id, int) else None,
        seq if isinstance(seq, int) else None,
        str(outcome),
        None if url is None else str(url),
        "" if note is None else str(note),
        "" if who is None else str(who),
        "" if at is None else str(at),
    )


def read_from_ledger(conn: sqlite3.Connection, run_id: str) -> list[Resolution]:
    """The audit trail of one run in an open ledger snapshot (oldest first); none when the
    file has no ``step_resolution`` table."""
    present = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (TABLE,)
    ).fetchone()
    if present is None:
        return []
    try:
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM {TABLE} WHERE run_id = ? ORDER BY resolution_id", (run_id,)
        ).fetchall()
    except sqlite3.OperationalError:
        return []  # a table of that name someone else made: not ours, not read
    return [_row(r) for r in rows]


def _file_key(path: Path | str) -> str:
    try:
        return str(Path(path).resolve())
    except (OSError, RuntimeError):
        return str(path)


def _state_path() -> Path | None:
    directory = state_dir()
    return None if directory is None else directory / STATE_FILE


def read_from_state(path: Path | str, run_id: str) -> list[Resolution]:
    """The audit trail of one run of a read-only format, from ledgerx's state file."""
    state = _state_path()
    if state is None or not state.is_file():
        return []
    try:
        conn = sqlite3.connect(state.resolve().as_uri() + "?mode=ro", uri=True, timeout=2.0)
        try:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM {TABLE} WHERE file = ? AND run_id = ? "
                "ORDER BY resolution_id",
                (_file_key(path), run_id),
            ).fetchall()
        finally:
            conn.close()
    except sqlite3.Error:
        return []
    return [_row(r) for r in rows]


def latest(resolutions: tuple[Resolution, ...] | list[Resolution]) -> dict[int, Resolution]:
    """The newest resolution per step, keyed by ``seq`` (rows come oldest first)."""
    out: dict[int, Resolution] = {}
    for r in resolutions:
        if r.seq is not None:
            out[r.seq] = r
    return out


def for_step(detail: RunDetail, step: Step) -> Resolution | None:
    """The resolution in force for ``step`` of ``detail`` (newest; ``None`` when none)."""
    found = None
    for r in detail.resolutions:
        same_id = step.step_id is None or r.step_id is None or r.step_id == step.step_id
        if step.seq is not None and r.seq == step.seq and same_id:
            found = r
    return found


def check_url(url: str | None) -> str | None:
    """``url`` stripped, or ``None``; raises ``ResolutionRefused`` unless it is an http(s)
    URL with a host and no credentials."""
    if url is None or not url.strip():
        return None
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ResolutionRefused("bad_url", f"not an http(s) URL: {clean(url, 120)}")
    if has_credentials(url) or "@" in parts.netloc:
        raise ResolutionRefused(
            "credentials_in_url", "the URL carries credentials; give it without user or password"
        )
    problem = url_problem(url)  # the rollback would refuse it: say so now, at the source
    if problem:
        raise ResolutionRefused("bad_url", f"the URL {clean(url, 120)} {problem}")
    return url


def find_step(detail: RunDetail, seq: int) -> Step:
    """The step with ``seq``; refuses a missing or repeated seq and a step not in doubt."""
    steps = [s for s in detail.steps if s.seq == seq]
    run = clean(detail.summary.run_id, 60)
    if not steps:
        raise ResolutionRefused("no_such_step", f"run {run} has no step with seq {seq}")
    if len(steps) > 1:
        raise ResolutionRefused(
            "ambiguous_step", f"run {run} has {len(steps)} steps with seq {seq}: cannot tell which"
        )
    step = steps[0]
    if step.derived_status not in DOUBTFUL:
        raise ResolutionRefused(
            "not_in_doubt",
            f"step {seq} of run {run} is not in doubt (it is {step.derived_status}); only a "
            "step whose request may or may not have landed can be resolved",
        )
    return step


def record(
    detail: RunDetail,
    seq: int,
    outcome: str,
    *,
    note: str,
    who: str | None = None,
    url: str | None = None,
    readonly: bool | str = False,
    at: str | None = None,
) -> Resolution:
    """Append a resolution of step ``seq`` of the run ``detail`` (read just before).

    ``readonly`` is ``True`` for ``--readonly`` or the reason as text (the profiles file's).
    Raises ``ResolutionRefused`` (read-only session, unknown outcome, no note, step not in
    doubt, bad URL) before anything is written, or ``SourceError`` when the file cannot be
    written. ``disable_writes`` is not consulted: it guards the remote API, and this writes
    only ledgerx's own record.
    """
    if readonly:  # ``--readonly``, or what made the session read-only, in words
        where = clean(readonly, 600) if isinstance(readonly, str) else "--readonly"
        raise ResolutionRefused(
            "readonly", f"this session is read-only ({where}): no resolution is recorded"
        )
    if outcome not in OUTCOMES:
        raise ResolutionRefused("bad_outcome", f"unknown outcome {clean(outcome, 40)!r}")
    note = (note or "").strip()
    if not note:
        raise ResolutionRefused("no_note", "a note is required: say how you know")
    if len(note) > NOTE_LIMIT:
        raise ResolutionRefused("note_too_long", f"the note is longer than {NOTE_LIMIT} chars")
    who = (who or "").strip() or default_who()
    url = check_url(url)
    if url is not None and outcome != LANDED:
        raise ResolutionRefused("bad_url", "a URL is only given for a step that landed")
    step = find_step(detail, seq)
    resolution = Resolution(None, step.step_id, step.seq, outcome, url, note, who, at or now_iso())
    run = detail.summary
    if run.format == "bcli":
        return _append_to_ledger(Path(run.source), run.run_id, resolution)
    return _append_to_state(Path(run.source), run.run_id, resolution)


def _values(r: Resolution) -> tuple:
    return (r.step_id, r.seq, r.outcome, r.url, r.note, r.who, r.resolved_at)


def _append_to_ledger(path: Path, run_id: str, r: Resolution) -> Resolution:
    from ..rollback.writer import open_readwrite  # writer imports reader: keep this module light

    conn = open_readwrite(path)
    try:
        conn.execute(LEDGER_DDL)
        cur = conn.execute(
            f"INSERT INTO {TABLE} (run_id, step_id, seq, outcome, url, note, who, resolved_at) "
            "VALUES (?,?,?,?,?,?,?,?)",
            (run_id, *_values(r)),
        )
        rid = cur.lastrowid
    except sqlite3.Error as exc:
        raise SourceError(str(path), "unreadable", f"cannot record the resolution: {exc}") from None
    finally:
        conn.close()
    return Resolution(rid, *_values(r))


def _append_to_state(path: Path, run_id: str, r: Resolution) -> Resolution:
    state = _state_path()
    if state is None:
        raise ResolutionRefused(
            "no_state_dir",
            "LEDGERX_STATE_DIR is off: resolutions of read-only formats are kept in ledgerx's "
            "state directory, and there is none",
        )
    try:
        state.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(state), timeout=5.0, isolation_level=None)
        try:
            conn.execute("PRAGMA busy_timeout=5000")
            conn.execute(STATE_DDL)
            cur = conn.execute(
                f"INSERT INTO {TABLE} (file, run_id, step_id, seq, outcome, url, note, who, "
                "resolved_at) VALUES (?,?,?,?,?,?,?,?,?)",
                (_file_key(path), run_id, *_values(r)),
            )
            rid = cur.lastrowid
        finally:
            conn.close()
    except (OSError, sqlite3.Error) as exc:
        raise SourceError(
            str(state), "unreadable", f"cannot record the resolution: {exc}"
        ) from None
    return Resolution(rid, *_values(r))


# The state file read once per change (size, mtime): a scan summarises every run of every
# read-only file, and the state file is small and rarely written.
_state_cache: tuple[tuple[str, int, int], dict[tuple[str, str], list[Resolution]]] | None = None


def _state_index() -> dict[tuple[str, str], list[Resolution]]:
    global _state_cache
    state = _state_path()
    if state is None:
        return {}
    try:
        st = state.stat()
    except OSError:
        return {}
    key = (str(state), st.st_size, st.st_mtime_ns)
    if _state_cache is not None and _state_cache[0] == key:
        return _state_cache[1]
    index: dict[tuple[str, str], list[Resolution]] = {}
    try:
        conn = sqlite3.connect(state.resolve().as_uri() + "?mode=ro", uri=True, timeout=2.0)
        try:
            rows = conn.execute(
                f"SELECT file, run_id, {_COLUMNS} FROM {TABLE} ORDER BY resolution_id"
            ).fetchall()
        finally:
            conn.close()
    except sqlite3.Error:
        return {}
    for file, run_id, *rest in rows:
        index.setdefault((str(file), str(run_id)), []).append(_row(tuple(rest)))
    _state_cache = (key, index)
    return index


def apply_state_resolutions(summary: RunSummary) -> RunSummary:
    """A read-only format's run summary with the resolutions kept in the state file applied
    to its verdict. Without its steps at hand, the newest resolution per step counts, at most
    as many as the run has steps in doubt."""
    if summary.counts.in_doubt + summary.counts.unknown == 0:
        return summary
    index = _state_index()
    if not index:
        return summary
    found = index.get((_file_key(summary.source), summary.run_id))
    if not found:
        return summary
    doubt = summary.counts.in_doubt + summary.counts.unknown
    counts = [0, 0, 0]
    newest = latest(found)
    for r in newest.values():
        if r.outcome in OUTCOMES:
            counts[OUTCOMES.index(r.outcome)] += 1
    landed = min(counts[0], doubt)
    not_landed = min(counts[1], doubt - landed)
    unknown = min(counts[2], doubt - landed - not_landed)
    said = tuple(_foreign_sentence(seq, r) for seq, r in sorted(newest.items())[:5])
    return with_resolved(summary, (landed, not_landed, unknown), said)


def _foreign_sentence(seq: int, r: Resolution) -> str:
    """What a person found about step ``seq`` of a read-only format (no rollback there)."""
    by = f"by {clean(r.who, 60)} at {clean(r.resolved_at, 40)}"
    if r.outcome == LANDED:
        return f"step {seq} was resolved as landed {by}: nothing left to check."
    if r.outcome == NOT_LANDED:
        return f"step {seq} was resolved as did not land {by}: nothing to check."
    return f"step {seq} was marked still unknown {by}: check by hand."


def with_resolved(
    summary: RunSummary, resolved: tuple[int, int, int], said: tuple[str, ...] = ()
) -> RunSummary:
    """``summary`` with ``resolved`` counted in its verdict (``state`` is left as it is) and
    ``said`` (one sentence per resolved step) and the count line added to its diagnosis."""
    from ..derive import verdict

    if resolved == summary.resolved:
        return summary
    judged = verdict(
        state=summary.state,
        liveness=summary.liveness,
        finished=summary.liveness == "finished",
        counts=summary.counts,
        rollback_in_doubt=summary.rollback_in_doubt,
        resolved=resolved,
    )
    if summary.format in _NO_CRASH_FORMATS:  # as formats.summary.build_summary
        from ..formats.summary import no_crash_verdict

        judged = no_crash_verdict(judged)
    line = resolved_sentence(resolved)
    diagnosis = (*summary.diagnosis, *said, *((line,) if line else ()))
    return replace(summary, verdict=judged, resolved=resolved, diagnosis=diagnosis)


_NO_CRASH_FORMATS = frozenset({"event-ledger"})


def resolved_sentence(resolved: tuple[int, int, int]) -> str | None:
    """The diagnosis line saying what people resolved, or ``None`` when nothing was."""
    if not any(resolved):
        return None
    parts = [f"{n} {OUTCOME_WORDS[o]}" for n, o in zip(resolved, OUTCOMES, strict=True) if n]
    total = sum(resolved)
    return (
        f"{total} in-doubt step{'s' if total != 1 else ''} resolved by a person "
        f"({', '.join(parts)}); see the step detail for who, when and why."
    )
