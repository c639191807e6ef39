"""Rollback is the batch runner's alone: the refusal every other format gets, said once.

``rollback.preview`` and ``rollback.execute`` call these first, so a cr, agent-orchestrator,
event-ledger or mapped ledger is never planned against, never locked and never written to
(no ledgerx table is ever added to such a file).
"""

from __future__ import annotations

from pathlib import Path

from ..errors import RollbackRefused, SourceError
from ..ledgers.access import snapshot
from ..models import RunDetail
from .registry import RUNNER, detect, no_rollback


def refused_plan(detail: RunDetail):
    """A plan with no actions, refused with the format's reason; ``None`` for runner runs."""
    refusal = no_rollback(detail.summary.format)
    if refusal is None:
        return None
    from ..rollback.plan import Plan, fingerprint

    run = detail.summary
    return Plan(
        run_id=run.run_id,
        source=run.source,
        profile=run.profile,
        writes_enabled=False,
        fingerprint=fingerprint(detail, None, run.profile),
        actions=(),
        refusal=refusal[1],
        refusal_code=refusal[0],
    )


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
