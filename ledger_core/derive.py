"""Derived state: what a ledger really says, whatever its stale stamps claim (SPEC §2).

The run-state rules below are the seed runner's, in its order; ``tests/core`` checks them
against an independent transcription on random step histories. Liveness and diagnosis are
ledgerx's own additions: they answer "is anybody still writing this?" and "what should I do?".
"""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass

from .models import StepCounts, WriterInfo
from .timeutil import format_duration, to_epoch

DEFAULT_STALE_AFTER = 15 * 60.0

_KNOWN_STATUSES = frozenset(
    {"committed", "failed", "skipped", "rolled_back", "rollback_skipped", "rollback_failed"}
)

LIVENESS = ("alive", "stale", "dead", "unknown", "finished")


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


def liveness(
    *,
    finished: bool,
    writer: WriterInfo | None,
    last_activity: str | None,
    now: float,
    stale_after: float = DEFAULT_STALE_AFTER,
    this_host: str | None = None,
) -> str:
    """``finished``, ``alive``, ``stale``, ``dead`` or ``unknown`` for one run."""
    if finished:
        return "finished"
    activity = to_epoch(last_activity)
    quiet = activity is None or now - activity > stale_after
    host = this_host or socket.gethostname()
    if writer is not None and writer.closed_at is not None:
        return "dead"  # the writer closed the ledger without finishing the run
    if writer is not None and writer.host == host:
        if not pid_alive(writer.pid, writer.proc_start):
            return "dead"
        return "stale" if quiet else "alive"
    if quiet:
        return "stale"
    # Recent activity but no writer we can check (the runner records none, or another host).
    return "unknown"


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
) -> tuple[str, ...]:
    """Short sentences a person can act on, most urgent first.

    ``last_seq`` is the highest step ``seq`` recorded, so a writer that died between steps
    can be told apart by where it stopped.
    """
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
            out.append(
                f"{who} is gone: it stopped after the intent of {_step_label(step)} and before "
                "its outcome; that request may have landed — check the server by hand."
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
        out.append(
            f"stamped {stamped or 'nothing'} but no activity for {idle or 'an unknown time'}; "
            "the writer may have stopped."
        )
    elif liveness_value == "alive":
        out.append("a writer is still appending to this run; wait before acting on it.")
    elif liveness_value == "unknown":
        out.append(
            f"recent activity ({idle} ago) but no writer recorded that ledgerx can check; "
            "it may still be running."
        )

    for step in in_doubt:
        if liveness_value == "dead" and step is in_doubt[-1]:
            continue
        if liveness_value == "alive" and step is in_doubt[-1]:
            continue  # the step a live writer is sending right now
        out.append(
            f"{_step_label(step)} has an intent but no outcome: it may or may not have landed."
        )
    for step in unknown:
        out.append(f"{_step_label(step)} has an outcome the runner does not define.")

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
    if state == "partially_committed" and counts.committed:
        out.append(
            f"{counts.committed} committed step(s) may need rolling back; preview with "
            "`ledgerx rollback RUN --dry-run`."
        )
    if counts.rollback_failed:
        out.append(f"{counts.rollback_failed} rollback DELETE(s) failed; retry or check by hand.")
    return tuple(out)
