"""Rollback is the batch runner's alone: the refusal every other format gets, said once.

``rollback.preview`` and ``rollback.execute`` call these first, so a cr, agent-orchestrator,
event-ledger or mapped ledger is never planned against, never locked and never written to
(no ledgerx table is ever added to such a file).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ..errors import RollbackRefused, SourceError
from ..ledgers.access import snapshot
from ..models import RunDetail
from .registry import RUNNER, detect, no_rollback


def refused_plan(detail: RunDetail):
    """The plan of a run no rollback is made for, refused with the format's reason; ``None``
    for runner runs.

    Its steps are planned as for the runner (``make_plan`` without a profile), so steps in
    doubt stay in doubt and lead the checklist; every step the runner would undo is *cannot
    undo*, with the format's reason. No action deletes anything.
    """
    refusal = no_rollback(detail.summary.format)
    if refusal is None:
        return None
    from ..rollback.plan import CANNOT, UNDO, make_plan

    plan = make_plan(detail, None, refusal=refusal)
    actions = tuple(
        replace(a, action="skip", target=None, group=CANNOT, reason=refusal[1])
        if a.group == UNDO or a.action == "delete"
        else a
        for a in plan.actions
    )
    return replace(plan, actions=actions)


def refuse_other_formats(source: str | Path) -> None:
    """Raise ``RollbackRefused`` unless ``source`` is a runner ledger (read-only check).

    A file that cannot be read at all is left to the executor's own checks, which refuse it.
    """
    path = Path(source)
    try:
        fmt = snapshot(path, lambda conn: detect(conn, path)[0])
    except SourceError:
        return
    if fmt is not RUNNER:
        code, reason = no_rollback(fmt.name) or ("no_rollback_for_format", "")
        raise RollbackRefused(code, reason)
