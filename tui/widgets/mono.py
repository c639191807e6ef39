"""Emphasis that survives ``NO_COLOR``: alarming words in reverse video once colours are off.

With ``NO_COLOR`` Textual turns every colour into a grey of the same luminance, so red and
magenta — the colours of "failed", "in doubt" and "DEAD" — become dark grey on a dark
background: the most urgent words fade the most. In that mode these helpers drop the colours
themselves and mark the alarming words with reverse video instead, which stays legible.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Span, Text

ALARMING = frozenset(
    {
        "failed",
        "rollback_failed",
        "in_doubt",
        "partially_committed",
        "unknown",
        "dead",
        "crashed",
        "rollback_incomplete",
    }
)
ALARM = "bold reverse"


def _without_colour(style: str | Style) -> Style:
    parsed = Style.parse(style) if isinstance(style, str) else style
    return parsed.without_color


def uncoloured(text: Text) -> Text:
    """A copy of ``text`` with every colour removed (bold, reverse, dim… kept)."""
    out = text.copy()
    out.style = _without_colour(out.style)
    out.spans = [Span(s.start, s.end, _without_colour(s.style)) for s in out.spans]
    return out


def for_mode(text: Text, mono: bool, key: str | None = None) -> Text:
    """``text`` as is in colour; without colours (``key`` alarming: reversed) under NO_COLOR."""
    if not mono:
        return text
    out = uncoloured(text)
    if key in ALARMING:
        out.stylize(ALARM)
    return out
