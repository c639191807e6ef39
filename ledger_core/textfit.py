"""Fit text into a width by cutting its middle, so the part of an id that differs stays visible.

Timestamped run ids (``batch-20261203-0412-a1``) all start alike; cutting their end, as a
terminal does, hides the only part that tells them apart. Only for people: JSON and piped
full-value output always carry the whole value.
"""

from __future__ import annotations

MARKER = "…"


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
    if width == 1:
        return MARKER
    room = width - 1
    head = room // 2
    tail = room - head
    return text[:head] + MARKER + text[-tail:]
