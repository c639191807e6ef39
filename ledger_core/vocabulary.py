"""One vocabulary for verdicts, states and liveness: the words the TUI shows, the CLI accepts.

Each value (``partially_committed``) has one label (``PARTIAL``), the word the TUI and the CLI
tables show; ``parse`` accepts either, in any case, with spaces, dashes or underscores, so
``ledgerx list --verdict "rb incomplete"`` and ``--state PARTIAL`` mean what the screen said.
The TUI's preset filters are ``FILTERS``: each names the same axis and value as a CLI flag
(``--verdict running`` finds exactly the runs of the TUI's "running" filter).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .derive import VERDICTS, needs_attention
from .ledgers.schema import RUN_STATES
from .models import RunSummary

LIVENESS = ("alive", "stale", "dead", "unknown", "finished")

# value -> the word shown for it; a value without an entry is shown as itself.
LABELS: dict[str, str] = {
    "partially_committed": "PARTIAL",
    "in_doubt": "IN DOUBT",
    "rolled_back": "rolled back",
    "rollback_failed": "RB FAILED",
    "rollback_skipped": "rb skipped",
    "rollback_incomplete": "RB INCOMPLETE",
    "crashed": "CRASHED",
    "stale": "STALE",
    "dead": "DEAD",
}

# Other spellings people type for the same value.
_ALIASES = {
    "partial": "partially_committed",
    "partially": "partially_committed",
    "doubt": "in_doubt",
    "rb_incomplete": "rollback_incomplete",
}


def label(value: str | None) -> str:
    """The word shown for ``value`` (TUI cells, CLI tables)."""
    if not value:
        return "—"
    return LABELS.get(value, value)


def _key(text: str) -> str:
    return re.sub(r"[\s\-_]+", "_", text.strip().lower())


def parse(text: str, allowed: tuple[str, ...]) -> str:
    """The value of ``allowed`` that ``text`` names (a value or a label, any case).

    Raises ``ValueError`` with a sentence listing the values when nothing matches.
    """
    key = _key(text)
    for value in allowed:
        if key in (_key(value), _key(label(value))):
            return value
    alias = _ALIASES.get(key)
    if alias in allowed:
        return alias
    words = ", ".join(f"{v} ({label(v)})" if label(v) != v else v for v in allowed)
    raise ValueError(f"unknown value {text.strip()!r}; valid: {words}")


def parse_many(values: list[str] | None, allowed: tuple[str, ...]) -> list[str] | None:
    """Repeated and comma-separated values (``--verdict crashed,in_doubt``), parsed."""
    if not values:
        return None
    return [parse(part, allowed) for value in values for part in value.split(",") if part.strip()]


@dataclass(frozen=True, slots=True)
class Filter:
    """A preset view: ``axis`` (``all``, ``attention``, ``verdict`` or ``state``) and value.

    ``flag`` is the CLI option that finds the same runs.
    """

    key: str
    label: str
    axis: str
    value: str = ""

    @property
    def flag(self) -> str:
        if self.axis == "all":
            return ""
        if self.axis == "attention":
            return "--attention"
        return f"--{self.axis} {self.value}"

    def test(self) -> Callable[[RunSummary], bool]:
        if self.axis == "attention":
            return needs_attention
        if self.axis == "verdict":
            return lambda run: run.verdict == self.value
        if self.axis == "state":
            return lambda run: run.state == self.value
        return lambda run: True


FILTERS: tuple[Filter, ...] = (
    Filter("all", "all runs", "all"),
    Filter("attention", "needs attention", "attention"),
    Filter("running", "running", "verdict", "running"),
    Filter("crashed", "crashed", "verdict", "crashed"),
    Filter("in_doubt", "in doubt", "verdict", "in_doubt"),
    Filter("rollback_incomplete", "rollback incomplete", "verdict", "rollback_incomplete"),
    Filter("partial", "partially committed", "verdict", "partially_committed"),
)

__all__ = [
    "FILTERS",
    "LABELS",
    "LIVENESS",
    "RUN_STATES",
    "VERDICTS",
    "Filter",
    "label",
    "needs_attention",
    "parse",
    "parse_many",
]
