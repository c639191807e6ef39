"""Fit text into a width by cutting its middle, so the part of an id that differs stays visible.

Timestamped run ids (``batch-20261203-0412-a1``) all start alike; cutting their end, as a
terminal does, hides the only part that tells them apart. Only for people: JSON and piped
full-value output always carry the whole value.
"""

from __future__ import annotations

MARKER = "…"


def middle_cut(length: int, width: int) -> tuple[int, int] | None:
    """How many characters to keep from the head and the tail of a ``length``-long text so that
    head, ``…`` and tail fill ``width``; ``None`` when it fits as it is (or ``width`` < 2)."""
    if length <= width or width < 2:
        return None
    room = width - 1
    return room // 2, room - room // 2


def shorten_middle(text: str, width: int) -> str:
    """``text`` unchanged if it fits in ``width`` characters, else its head, ``…`` and its tail.

    The tail gets the extra character when the room is odd: the end of an id (its counter,
    its random suffix) is what differs most often. A width below 1 gives ``""``; a width of 1
    gives the marker alone.
    """
    if width <= 0:
        return ""
    if len(text) <= width:
        return text
    cut = middle_cut(len(text), width)
    if cut is None:  # width 1
        return MARKER
    head, tail = cut
    return text[:head] + MARKER + text[-tail:]
