"""Derived state: what a ledger really says, whatever its stale stamps claim (SPEC §2).

The run-state rules below are the seed runner's, in its order; ``tests/core`` checks them
against an independent transcription on random step histories. Liveness, verdict, diagnosis
and advice are ledgerx's own additions: they answer "is anybody still writing this?" (from
the lock probe of ``holders``, the writer record and, only when neither can tell, activity
age), "what should I conclude?" (``verdict``, a pure function other formats reuse) and "what
should I do?" (``diagnose`` for facts, ``advise`` for actions worded per surface).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .advice import PREVIEW_ROLLBACK, RESUME_ROLLBACK, RETRY_ROLLBACK, UNDO_RESOLVED, Advice
from .models import StepCounts, WriterInfo
from .sanitize import clean
from .timeutil import format_duration, to_epoch

if TYPE_CHECKING:
    from .ledgers.holders import HoldCheck
    from .models import RunSummary

DEFAULT_STALE_AFTER = 15 * 60.0

_KNOWN_STATUSES = frozenset(
    {"committed", "failed", "skipped", "rolled_back", "rollback_skipped", "rollback_failed"}
)

LIVENESS = ("alive", "stale", "dead", "unknown", "finished")

# Dead by the absence of locks. Locks show who holds THIS file on THIS machine: a copy of a
# live ledger (its -wal/-shm copied with it) looks exactly like a crash, so the words say what
# is known and no more.
LEFT_BEHIND = (
    "no process on this machine holds this file open and its -wal/-shm were left behind: the "
    "writer that used this file is gone (if this file is a copy, the original's writer cannot "
    "be seen from here)"
)


def step_status(status: str | None, outcome_ts: str | None) -> str:
    """The derived status of one step (mirrors ``schema.STEP_STATUS_SQL``)."""
    if status is None and outcome_ts is None:
        return "in_doubt"
    if status in _KNOWN_STATUSES:
        return status
    return "unknown"


def run_state(stamped: str | None, finished_at: str | None, counts: StepCounts) -> str:
    """The derived run state, by the runner's rules in order (SPEC §2).

    A step counts as "in doubt" for rule 4 when its outcome was never recorded (derived
    ``in_doubt``) or its status is not one the runner understands (derived ``unknown``).
    """
    if finished_at is not None and stamped is not None:
        return stamped
    total = counts.total
    if total == 0:
        return "running"
    if counts.rolled_back + counts.rollback_skipped == total:
        return "rolled_back"
    doubtful = counts.in_doubt + counts.unknown
    if counts.committed and (counts.failed or doubtful):
        return "partially_committed"
    if counts.committed == total:
        return "completed"
    if counts.failed == total:
        return "failed"
    return "running"


def latency_ms(intent_ts: str | None, outcome_ts: str | None) -> float | None:
    """Milliseconds between intent and outcome, or ``None`` if either is missing or odd."""
    start, end = to_epoch(intent_ts), to_epoch(outcome_ts)
    if start is None or end is None:
        return None
    return round((end - start) * 1000.0, 3)


def _proc_start(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (clock ticks since boot), to detect pid reuse."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    # The command name may hold spaces and parentheses: fields start after the last ')'.
    fields = data[data.rfind(b")") + 2 :].split()
    return fields[19].decode() if len(fields) > 19 else None


def process_identity() -> tuple[int, str, str | None]:
    """This process as a writer records itself: pid, host, kernel start time."""
    pid = os.getpid()
    return pid, socket.gethostname(), _proc_start(pid)


def pid_alive(pid: int, proc_start: str | None) -> bool:
    """True when ``pid`` runs on this host and is the same process that was recorded."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    except (OSError, OverflowError):  # OverflowError: a pid read from a file beyond pid_t
        return False
    if proc_start is not None:
        current = _proc_start(pid)
        if current is not None and current != proc_start:
            return False
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            data = handle.read()
    except OSError:
        return False
    state = data[data.rfind(b")") + 2 : data.rfind(b")") + 3]
    return state in (b"Z", b"X")


def judge_liveness(
    *,
    finished: bool,
    writer: WriterInfo | None,
    last_activity: str | None,
    now: float,
    stale_after: float = DEFAULT_STALE_AFTER,
    this_host: str | None = None,
    hold: HoldCheck | None = None,
) -> tuple[str, str]:
    """``(liveness, reason)`` of one run: the value and one sentence saying why.

    Sources, in order (the first that knows decides):

    1. ``finished`` (``finished_at`` and a stamp) → ``finished``.
    2. Another process holds the ledger open (``hold``: SQLite's own locks, ``holders.check``)
       → ``alive``, naming its pid and command, whatever the timestamps say.
    3. ledgerx's ``writer`` record on this host: ``closed_at`` set → ``dead``; its pid gone (or
       reused) → ``dead``; its pid running → ``alive``.
    4. The lock probe worked (a ``-shm`` exists) and nobody holds the ledger → ``dead``: the
       writer's files were left behind by a process that is gone. Locks cannot tell a crash
       from a copy of a live ledger made elsewhere; the reason (``LEFT_BEHIND``) says so.
    5. Nothing can be checked (no ``-shm``, network filesystem, writer on another host, no
       probe): ``stale`` when quiet for longer than ``stale_after``, else ``unknown`` — and the
       reason says why it could not be checked, so the word never stands alone.
    """
    if finished:
        return "finished", "the run is finished"
    host = this_host or socket.gethostname()
    if hold is not None and hold.state == "held" and hold.holder is not None:
        return "alive", f"{hold.holder.describe()} holds the ledger open"
    if writer is not None and writer.closed_at is not None:
        return "dead", f"the writer (pid {writer.pid}) closed the ledger without finishing the run"
    if writer is not None and writer.host == host:
        if not pid_alive(writer.pid, writer.proc_start):
            return "dead", f"the writer recorded on this host (pid {writer.pid}) is gone"
        # No pid here: it is in the writer record itself (and a sentence that changes with
        # every process would make every screenshot of a live run differ).
        return "alive", "the writer ledgerx recorded on this host is still running"
    if hold is not None and hold.state == "free":
        return "dead", LEFT_BEHIND
    if writer is not None and writer.host != host:
        why = f"writer recorded on host {clean(writer.host, 60)}, which ledgerx cannot check"
    elif hold is not None and hold.reason:
        why = hold.reason
    else:
        why = "cannot tell whether a process holds it: no lock probe was made"
    activity = to_epoch(last_activity)
    quiet = activity is None or now - activity > stale_after
    return ("stale" if quiet else "unknown"), why


def liveness(
    *,
    finished: bool,
    writer: WriterInfo | None,
    last_activity: str | None,
    now: float,
    stale_after: float = DEFAULT_STALE_AFTER,
    this_host: str | None = None,
    hold: HoldCheck | None = None,
) -> str:
    """``finished``, ``alive``, ``stale``, ``dead`` or ``unknown`` (see ``judge_liveness``)."""
    return judge_liveness(
        finished=finished,
        writer=writer,
        last_activity=last_activity,
        now=now,
        stale_after=stale_after,
        this_host=this_host,
        hold=hold,
    )[0]


VERDICTS = (
    "running",
    "rollback_incomplete",
    "in_doubt",
    "crashed",
    "stale",
    "partially_committed",
    "failed",
    "completed",
    "rolled_back",
    "cancelled",
    "planned",
)


def verdict(
    *,
    state: str,
    liveness: str,
    finished: bool,
    counts: StepCounts,
    rollback_in_doubt: int = 0,
    resolved: tuple[int, int, int] = (0, 0, 0),
) -> str:
    """What a person should conclude about a run, beside the runner's ``state``. Pure.

    Precedence (first match wins):

    1. ``running`` — liveness ``alive``: someone is writing it; nothing else is settled.
    2. ``rollback_incomplete`` — a step is ``rollback_failed``, or a rollback DELETE has no
       answer and its step was not rolled back since. Before ``in_doubt``: a run stamped
       ``rolled_back`` with a DELETE in doubt must not read as rolled back.
    3. ``in_doubt`` — a step's request may or may not have landed (derived ``in_doubt`` or
       ``unknown``) and nobody resolved it. ``resolved`` is (landed, did not land, still
       unknown) among those steps (``resolutions``): a step resolved *landed* counts as
       committed, *did not land* as failed, *still unknown* stays in doubt.
    4. ``crashed`` — not finished, liveness ``dead`` or ``stale``, and something landed (a step
       committed, rolled back or failed to roll back) or the steps still say ``running``.
    A format that cannot tell a crash from a quiet running run (an event log) says ``stale``
    where rule 4 would say ``crashed`` (``formats.summary.build_summary``): neither "running"
    nor "crashed" would be honest.

    5. otherwise the state (``completed``, ``failed``, ``partially_committed``, ``rolled_back``,
       ``cancelled``, ``planned``, ``running``).
    """
    if liveness == "alive":
        return "running"
    if counts.rollback_failed or rollback_in_doubt > 0:
        return "rollback_incomplete"
    if counts.in_doubt + counts.unknown > resolved[0] + resolved[1]:
        return "in_doubt"
    landed = counts.committed + counts.rolled_back + counts.rollback_failed + resolved[0]
    if not finished and liveness in ("dead", "stale") and (landed or state == "running"):
        return "crashed"
    return state


def needs_attention(summary: RunSummary) -> bool:
    """Something a person should look at: damage, doubt, a crash, a failed or unfinished
    rollback, a dead or stale writer, or a stamp that disagrees with the steps (the one test
    the TUI's "needs attention" filter and ``ledgerx list --attention`` share)."""
    wrong_stamp = summary.stamp_mismatch and summary.liveness != "alive"
    return (
        summary.verdict
        in ("rollback_incomplete", "in_doubt", "crashed", "partially_committed", "failed")
        or summary.liveness in ("dead", "stale")
        or summary.unresolved_doubt > 0
        or summary.counts.rollback_failed > 0
        or summary.rollback_in_doubt > 0
        or wrong_stamp
    )


@dataclass(frozen=True, slots=True)
class StepBrief:
    """The few step facts diagnosis sentences name."""

    seq: int | None
    method: str | None
    url: str | None
    derived_status: str
    correlation_id: str | None = None
    error_message: str | None = None


def _short_url(url: str | None, width: int = 60) -> str:
    if not url:
        return "?"
    if len(url) <= width:
        return url
    tail = url.rsplit("/", 1)[-1]
    return "…/" + tail[: width - 2] if tail else url[:width] + "…"


def _step_label(step: StepBrief) -> str:
    return f"step {step.seq} ({step.method or '?'} {_short_url(step.url)})"


# A missing intent proves nothing was sent only after a process crash: with
# synchronous=NORMAL (SPEC §7) a power loss or OS crash can lose the last rows written.
_POWER_LOSS = (
    " (after a process crash that means no later request was sent; if the machine itself "
    "went down, the last intent may have been lost: check the server)."
)


def _by(resolution: Any) -> str:
    return f"by {clean(resolution.who, 60)} at {clean(resolution.resolved_at, 40)}"


def resolution_consequence(method: str | None, resolution: Any) -> str:
    """What a person's resolution of an in-doubt step means now, for the run's rollback."""
    outcome = getattr(resolution, "outcome", None)
    if outcome == "landed":
        if (method or "").upper() != "POST":
            return f"a {clean(method or '?', 20)} cannot be undone automatically"
        if resolution.url:
            return "the rollback can undo it (DELETE of the created record)"
        return "no URL of the created record was given: it cannot be undone automatically"
    if outcome == "not_landed":
        return "nothing to check and nothing to undo"
    return "that request may have landed — check the server by hand"


def resolved_clause(step: StepBrief, resolution: Any) -> str:
    """What is true of in-doubt ``step`` now that a person resolved it (``resolution`` is a
    ``resolutions.Resolution``): what it means for the rollback, never "check the server"
    once they said it landed or did not."""
    outcome = getattr(resolution, "outcome", None)
    then = resolution_consequence(step.method, resolution)
    if outcome == "landed":
        url = f", the created record at {clean(resolution.url, 120)}" if resolution.url else ""
        return f"a person resolved it as landed ({_by(resolution)}){url}: {then}"
    if outcome == "not_landed":
        return f"a person resolved it as did not land ({_by(resolution)}): {then}"
    return f"a person marked it still unknown ({_by(resolution)}): {then}"


def diagnose(
    *,
    state: str,
    stamped: str | None,
    finished_at: str | None,
    counts: StepCounts,
    liveness_value: str,
    writer: WriterInfo | None,
    last_activity: str | None,
    doubtful: Sequence[StepBrief],
    first_failure: StepBrief | None,
    now: float,
    stale_after: float = DEFAULT_STALE_AFTER,
    last_seq: int | None = None,
    liveness_reason: str = "",
    rollback_in_doubt: int = 0,
    resolutions: Mapping[int, Any] | None = None,
) -> tuple[str, ...]:
    """Short sentences of fact, most urgent first (what to do is ``advise``'s job).

    ``last_seq`` is the highest step ``seq`` recorded, so a writer that died between steps
    can be told apart by where it stopped. ``liveness_reason`` (``judge_liveness``) says why
    an unfinished run is alive, stale or unknown. ``resolutions`` maps a step's ``seq`` to the
    newest resolution a person recorded for it (``resolutions.latest``): an in-doubt step's
    sentence then says what they found instead of "check the server by hand".
    """
    found = resolutions or {}
    out: list[str] = []
    activity = to_epoch(last_activity)
    idle = format_duration(now - activity) if activity is not None else None
    in_doubt = [s for s in doubtful if s.derived_status == "in_doubt"]
    unknown = [s for s in doubtful if s.derived_status == "unknown"]

    if liveness_value == "dead":
        who = f"writer pid {writer.pid}" if writer else "writer"
        if writer is not None and writer.closed_at is not None:
            out.append(f"{who} closed the ledger without finishing the run.")
        elif in_doubt:
            step = in_doubt[-1]
            resolution = found.get(step.seq) if step.seq is not None else None
            now_known = (
                resolved_clause(step, resolution)
                if resolution is not None
                else "that request may have landed — check the server by hand"
            )
            out.append(
                f"{who} is gone: it stopped after the intent of {_step_label(step)} and before "
                f"its outcome; {now_known}."
            )
        elif counts.total == 0:
            out.append(f"{who} is gone: it stopped before recording any step{_POWER_LOSS}")
        else:
            where = f"after step {last_seq} " if last_seq is not None else "between steps "
            out.append(
                f"{who} is gone: it stopped {where}(outcome recorded) without finishing the run; "
                f"no later intent is recorded{_POWER_LOSS}"
            )
    elif liveness_value == "stale":
        why = f" ({liveness_reason})" if liveness_reason else ""
        out.append(
            f"stamped {stamped or 'nothing'} but no activity for {idle or 'an unknown time'}; "
            f"the writer may have stopped{why}."
        )
    elif liveness_value == "alive":
        who = liveness_reason or "a writer is still appending to this run"
        out.append(f"{who}; wait before acting on it.")
    elif liveness_value == "unknown":
        why = liveness_reason or "no writer recorded that ledgerx can check"
        out.append(f"recent activity ({idle} ago) but {why}; it may still be running.")

    for step in in_doubt:
        if liveness_value == "dead" and step is in_doubt[-1]:
            continue
        if liveness_value == "alive" and step is in_doubt[-1]:
            continue  # the step a live writer is sending right now
        resolution = found.get(step.seq) if step.seq is not None else None
        if resolution is not None:
            clause = resolved_clause(step, resolution)
            out.append(f"{_step_label(step)} has an intent but no outcome; {clause}.")
            continue
        out.append(
            f"{_step_label(step)} has an intent but no outcome: it may or may not have landed."
        )
    for step in unknown:
        resolution = found.get(step.seq) if step.seq is not None else None
        clause = f"; {resolved_clause(step, resolution)}" if resolution is not None else ""
        out.append(f"{_step_label(step)} has an outcome the runner does not define{clause}.")

    if finished_at is not None and stamped is not None:
        if stamped == "completed" and (counts.in_doubt or counts.failed or counts.unknown):
            bad = in_doubt[0] if in_doubt else first_failure
            what = "has no outcome" if in_doubt else "did not commit"
            label = _step_label(bad) if bad else "a step"
            out.append(f"stamped completed but {label} {what}.")
    elif stamped is not None and stamped != state and stamped != "running":
        out.append(f"stamped {stamped} without a finish time; the steps say {state}.")

    if state == "partially_committed" and first_failure is not None:
        error = f": {first_failure.error_message[:120]}" if first_failure.error_message else ""
        out.append(
            f"{counts.committed} step(s) committed and {_step_label(first_failure)} failed{error}."
        )
    if stamped == "rolled_back" and (counts.rollback_failed or rollback_in_doubt):
        out.append("stamped rolled_back, but the rollback is not complete.")
    return tuple(out)


def advise(
    *,
    run_id: str,
    state: str,
    counts: StepCounts,
    rollback_in_doubt: int = 0,
    resolved_undoable: int = 0,
) -> tuple[Advice, ...]:
    """What to do next, as data (``advice.render`` words it per surface).

    ``resolved_undoable``: in-doubt POSTs a person resolved as landed with the created
    record's URL, which the rollback plan can now undo."""
    out: list[Advice] = []
    if rollback_in_doubt:
        out.append(Advice(RESUME_ROLLBACK, run_id, rollback_in_doubt))
    if counts.rollback_failed:
        out.append(Advice(RETRY_ROLLBACK, run_id, counts.rollback_failed))
    if state == "partially_committed" and counts.committed:
        out.append(Advice(PREVIEW_ROLLBACK, run_id, counts.committed))
    if resolved_undoable and not out:  # one "preview the rollback" is enough
        out.append(Advice(UNDO_RESOLVED, run_id, resolved_undoable))
    return tuple(out)


def count_undoable_resolved(doubtful: Sequence[StepBrief], resolutions: Mapping[int, Any]) -> int:
    """How many of ``doubtful`` are POSTs resolved as landed with a URL (undoable now)."""
    return sum(
        1
        for step in doubtful
        if step.seq is not None
        and (step.method or "").upper() == "POST"
        and getattr(resolutions.get(step.seq), "outcome", None) == "landed"
        and getattr(resolutions.get(step.seq), "url", None)
    )
