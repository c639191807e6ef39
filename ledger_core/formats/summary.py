"""The one place where a run of a non-runner format becomes a ``RunSummary``.

Every built-in reader and every mapped format builds its summaries through ``build_summary``,
so a field every run carries (e.g. a verdict derived from state and liveness) is added here
once. Liveness of these formats comes from a timestamp's age (heartbeat, activity, last
event): ``liveness_by_age`` says how, and ``shared_file_liveness`` adds what the ``-shm`` lock
probe of a live WAL file (``holders.check``) can add.

These formats keep every run in one database, so a process holding the file open proves the
*file* is being used — not which run. ``shared_file_liveness`` lets a holder confirm a run
whose own timestamp is recent, and never revive a run whose own timestamp says it went quiet:
that run is ``stale`` (and its reason names the holder), however busy another run is.
"""

from __future__ import annotations

from pathlib import Path

from ..models import RunSummary, StepCounts
from .values import age


def _holder(source: str) -> str | None:
    """Who holds ``source`` open (``holders.check``), described; ``None`` when nobody can be
    seen or it cannot be known."""
    try:
        from ..ledgers import holders
    except ImportError:
        return None
    try:
        found = holders.check(Path(source))
    except (OSError, TypeError, ValueError):
        return None
    if getattr(found, "state", None) != "held" or found.holder is None:
        return None
    return found.holder.describe()


def shared_file_liveness(
    *,
    finished: bool,
    stamp: object,
    now: float,
    stale_after: float,
    fresh: str,
    source: str,
    evidence: str,
) -> tuple[str, str]:
    """``(liveness, reason)`` of one run in a file that holds many runs.

    The run's own ``stamp`` (named ``evidence`` in the reason, e.g. "heartbeat") decides, as
    ``liveness_by_age``. A process holding the file open only turns a recent but unprovable
    ``unknown`` into ``alive``; it never makes a quiet (``stale``) run alive, nor one whose
    time cannot be read: in a shared file the holder may be writing any other run.
    """
    live = liveness_by_age(
        finished=finished, stamp=stamp, now=now, stale_after=stale_after, fresh=fresh
    )
    if finished:
        return live, ""
    holder = _holder(source)
    shared = (
        f"; {holder} holds the file open, but the file keeps other runs too, so that says "
        "nothing about this one"
        if holder
        else ""
    )
    if live == "stale":
        return live, f"no {evidence} for longer than the stale threshold{shared}"
    if live == "unknown" and age(stamp, now) is None:
        return live, f"its {evidence} is missing or not a time ledgerx can read{shared}"
    if holder and live == "unknown":
        return "alive", (
            f"its {evidence} is recent and {holder} holds the file open (it may be writing "
            "another run of the same file)"
        )
    if live == "alive":
        held = f", and {holder} holds the file open" if holder else ""
        return live, f"its {evidence} is recent{held}"
    return live, f"its {evidence} is recent, but nothing shows a process writing it"


def liveness_by_age(
    *, finished: bool, stamp: object, now: float, stale_after: float, fresh: str
) -> str:
    """``finished``; else ``fresh`` (``alive`` for a heartbeat, ``unknown`` where a recent
    timestamp proves nothing) while ``stamp`` is younger than ``stale_after``; else ``stale``.
    A timestamp that does not parse gives ``unknown``."""
    if finished:
        return "finished"
    seconds = age(stamp, now)
    if seconds is None:
        return "unknown"
    return fresh if seconds <= stale_after else "stale"


def build_summary(
    *,
    format_name: str,
    run_id: str,
    source: str,
    state: str,
    liveness: str,
    counts: StepCounts,
    started_at: str | None,
    finished_at: str | None,
    last_activity: str | None,
    last_seq: int | None,
    diagnosis: tuple[str, ...],
    stamped_state: str | None = None,
    profile: str | None = None,
    environment: str | None = None,
    company: str | None = None,
    manifest_path: str | None = None,
    extras: tuple[tuple[str, str], ...] = (),
    liveness_reason: str = "",
    crash_knowable: bool = True,
) -> RunSummary:
    """A run of any non-runner format, with the fields every run carries.

    The verdict is ``derive.verdict``'s, as for runner ledgers, except that a format which
    cannot tell a crashed run from a quiet running one (``crash_knowable=False``: an event log)
    never says ``crashed`` — nor ``running``, which its quiet state would claim: it says
    ``stale`` (``no_crash_verdict``), beside the sentence that says why nothing more can be
    known.
    """
    from ..derive import verdict as derive_verdict

    finished = liveness == "finished"
    judged = derive_verdict(state=state, liveness=liveness, finished=finished, counts=counts)
    if not crash_knowable:
        judged = no_crash_verdict(judged)
    return RunSummary(
        run_id=run_id,
        source=source,
        manifest_path=manifest_path,
        manifest_hash=None,
        profile=profile,
        environment=environment,
        company=company,
        stamped_state=stamped_state,
        started_at=started_at,
        finished_at=finished_at,
        counts=counts,
        last_activity=last_activity,
        last_seq=last_seq,
        state=state,
        liveness=liveness,
        diagnosis=diagnosis,
        writer=None,
        format=format_name,
        extras=extras,
        verdict=judged,
        liveness_reason=liveness_reason,
    )


def no_crash_verdict(judged: str) -> str:
    """The verdict of a run whose format cannot tell a crash from a quiet running run: where
    ``derive.verdict`` concludes ``crashed`` (unfinished, quiet for longer than the stale
    threshold), only ``stale`` is known."""
    return "stale" if judged == "crashed" else judged


def counts_from(tally: dict[str, int]) -> StepCounts:
    return StepCounts(**{k: v for k, v in tally.items() if v})
