"""Coerce stored values of foreign ledgers, which hold whatever their tools wrote.

Text columns may hold numbers or bytes, integer columns text; nothing here raises.
"""

from __future__ import annotations

from ..timeutil import to_epoch


def text(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def integer(value: object) -> int | None:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def age(value: object, now: float) -> float | None:
    """Seconds since a stored timestamp (RFC 3339, up to 9 fraction digits, no zone = UTC)."""
    epoch = to_epoch(text(value))
    return None if epoch is None else now - epoch


def latest(*values: object) -> str | None:
    """The latest of several stored timestamps that parse, as stored."""
    best, best_epoch = None, None
    for value in values:
        epoch = to_epoch(text(value))
        if epoch is not None and (best_epoch is None or epoch > best_epoch):
            best, best_epoch = text(value), epoch
    return best


def pairs(items: dict[str, object]) -> tuple[tuple[str, str], ...]:
    """``extras`` for a model: the present values of ``items`` as text, in order."""
    return tuple((k, text(v) or "") for k, v in items.items() if v is not None and v != "")


def earliest(*values: object) -> str | None:
    """The earliest of several stored timestamps that parse, as stored."""
    best, best_epoch = None, None
    for value in values:
        epoch = to_epoch(text(value))
        if epoch is not None and (best_epoch is None or epoch < best_epoch):
            best, best_epoch = text(value), epoch
    return best
