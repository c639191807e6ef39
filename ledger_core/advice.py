"""What a person should do next, kept apart from the facts so each surface names its own way.

Diagnosis sentences state facts ("step 7 failed"). Advice names an action, and an action is a
key in the TUI (``r``) but a command in the CLI (``ledgerx rollback <id> --dry-run``): so the
core records advice as data (``Advice``) and ``render`` words it for a ``surface``, always with
the real run id, never a placeholder.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from .sanitize import clean

SURFACES = ("cli", "tui")

# kinds
PREVIEW_ROLLBACK = "preview_rollback"  # committed steps may need undoing
RETRY_ROLLBACK = "retry_rollback"  # rollback DELETEs failed
RESUME_ROLLBACK = "resume_rollback"  # rollback DELETEs got no answer
UNDO_RESOLVED = "undo_resolved"  # in-doubt POSTs a person resolved as landed, with a URL


@dataclass(frozen=True, slots=True)
class Advice:
    """One piece of advice about run ``run_id``; ``count`` is how many steps it concerns."""

    kind: str
    run_id: str
    count: int = 0

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "run_id": self.run_id,
            "count": self.count,
            "text": render(self, "cli"),
        }


def _command(run_id: str, flags: str) -> str:
    shown = clean(run_id, 80)
    quoted = shlex.quote(shown) if shown else "''"
    return f"`ledgerx rollback {quoted} {flags}`"


def render(advice: Advice, surface: str) -> str:
    """``advice`` as one sentence for ``surface`` (``"cli"`` or ``"tui"``)."""
    tui = surface == "tui"
    n = advice.count
    if advice.kind == PREVIEW_ROLLBACK:
        how = (
            "press r to preview the rollback"
            if tui
            else f"preview with {_command(advice.run_id, '--dry-run')}"
        )
        return f"{n} committed step(s) may need rolling back; {how}."
    if advice.kind == RETRY_ROLLBACK:
        how = (
            "press r to preview and retry"
            if tui
            else f"retry with {_command(advice.run_id, '--yes')}"
        )
        return f"{n} rollback DELETE(s) failed; {how}, or check by hand."
    if advice.kind == RESUME_ROLLBACK:
        resume = _command(advice.run_id, "--yes")
        how = "then press r to resume" if tui else f"then resume with {resume}"
        return (
            f"{n} rollback DELETE(s) got no answer: they may or may not have landed; check the "
            f"server by hand, {how}."
        )
    if advice.kind == UNDO_RESOLVED:
        how = (
            "press r to preview the rollback"
            if tui
            else f"preview with {_command(advice.run_id, '--dry-run')}"
        )
        return f"{n} step(s) resolved as landed can be undone by the rollback; {how}."
    return clean(advice.kind, 80)


def render_all(advice: tuple[Advice, ...], surface: str) -> tuple[str, ...]:
    return tuple(render(a, surface) for a in advice)
