"""The one place where a run of a non-runner format becomes a ``RunSummary``.

Every built-in reader and every mapped format builds its summaries through ``build_summary``,
so a field every run carries (e.g. a verdict derived from state and liveness) is added here
once. Liveness of these formats comes from a timestamp's age (heartbeat, activity, last
event): ``liveness_by_age`` says how, and ``holder_seen`` is where the ``-shm`` lock probe of
a live WAL file plugs in.
"""

from __future__ import annotations

from pathlib import Path

from ..models import RunSummary, StepCounts
from .values import age


def holder_seen(source: str) -> bool | None:
    """Whether a process holds ``source`` open (the ``-shm`` lock probe), or ``None``.

    Hook: ``ledger_core/holders.py`` (SPEC §2's probe; ``check(path)`` answers ``held``,
    ``free`` or ``unknown``) is asked when it is there; without it nothing can be seen and
    liveness rests on timestamps alone. Only ``held`` is used (a live holder makes a run
    ``alive``); a free file proves nothing more than its timestamps for these formats.
    """
    try:
        from .. import holders  # type: ignore[attr-defined]
    except ImportError:
        return None
    check = getattr(holders, "check", None)
    if check is None:
        return None
    try:
        state = getattr(check(Path(source)), "state", None)
    except (OSError, TypeError, ValueError):
        return None
    return {"held": True, "free": False}.get(state) if isinstance(state, str) else None


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
