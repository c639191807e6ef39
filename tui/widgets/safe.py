"""Turn untrusted ledger text into inert Rich ``Text``: never markup, never control sequences.

SPEC §7: string cells, ``Static``, ``Label`` and ``notify()`` parse markup, so ``[/`` crashes
and ``[@click=…]`` runs actions. Everything shown from a ledger or a server goes through
``safe_text`` (or ``plain``), which escapes control characters via ``ledger_core.clean`` and
wraps the result in a ``Text`` that Textual renders literally.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text

from ledger_core.sanitize import clean
from ledger_core.vocabulary import LABELS

STATE_STYLES: dict[str, str] = {
    "completed": "green",
    "committed": "green",
    "rolled_back": "cyan",
    "running": "blue",
    "planned": "blue",
    "partially_committed": "bold yellow",
    "failed": "bold red",
    "rollback_failed": "bold red",
    "cancelled": "magenta",
    "in_doubt": "bold magenta",
    "unknown": "magenta",
    "skipped": "dim",
    "rollback_skipped": "dim",
}

LIVENESS_STYLES: dict[str, str] = {
    "alive": "bold green",
    "stale": "yellow",
    "dead": "bold red",
    "unknown": "magenta",
    "finished": "dim",
}

# Verdicts beyond the states' own words: what a person should conclude.
VERDICT_STYLES: dict[str, str] = {
    "running": "bold blue",
    "crashed": "bold red",
    "rollback_incomplete": "bold red",
    "in_doubt": "bold magenta",
    "stale": "bold yellow",  # an event log quiet too long: stopped or slow, it cannot tell
}

# Words that carry the meaning even without colour (NO_COLOR, colour-blind users): the core's
# one vocabulary, so the TUI shows what `ledgerx list --state/--verdict` accepts.
STATE_WORDS: dict[str, str] = LABELS


def safe_text(value: object, limit: int | None = 500, style: str | Style = "") -> Text:
    """Untrusted ``value`` as literal ``Text`` (controls escaped, cut to ``limit``)."""
    return Text(clean(value, limit), style=style, no_wrap=False)


def plain(value: object, limit: int | None = 500) -> str:
    """Untrusted ``value`` as a sanitised ``str``; only for APIs that take ``markup=False``."""
    return clean(value, limit)


def state_text(state: str | None) -> Text:
    """A run or step state as a word with its colour; the word alone must carry the meaning."""
    if not state:
        return Text("—", style="dim")
    word = STATE_WORDS.get(state, state)
    return Text(clean(word, 40), style=STATE_STYLES.get(state, ""))


def verdict_text(verdict: str | None) -> Text:
    """A run's verdict as its word with its colour (the word alone carries the meaning)."""
    if not verdict:
        return Text("—", style="dim")
    style = VERDICT_STYLES.get(verdict) or STATE_STYLES.get(verdict, "")
    return Text(clean(STATE_WORDS.get(verdict, verdict), 40), style=style)


def liveness_text(value: str | None) -> Text:
    if not value:
        return Text("—", style="dim")
    word = value.upper() if value == "dead" else value
    return Text(clean(word, 20), style=LIVENESS_STYLES.get(value, ""))
