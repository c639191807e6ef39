"""Timestamps as ledgers write them (ISO 8601 UTC) and as ledgers sometimes mangle them."""

from __future__ import annotations

from datetime import UTC, datetime


def now_iso() -> str:
    """The current time in the ledger's format, e.g. ``2026-05-17T09:14:03.120391Z``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_ts(value: object) -> datetime | None:
    """Parse a ledger timestamp; ``None`` for NULL or anything that does not parse.

    Accepts ``Z`` and numeric offsets, missing fractions, a space instead of ``T``; a value
    without a zone is taken as UTC (the format says UTC).
    """
    if not isinstance(value, str) or not value or len(value) > 64:
        return None
    if len(value) == 27 and value[26] == "Z" and value[19] == "." and value[10] == "T":
        # The runner's own form (``now_iso``), three per run in every list: parsed directly.
        try:
            return datetime.fromisoformat(value[:26]).replace(tzinfo=UTC)
        except ValueError:
            pass  # not what it looked like: the general path decides
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    text = _six_digit_fraction(text)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:  # e.g. year 1 with a positive offset falls before datetime.min
        return None


def _six_digit_fraction(text: str) -> str:
    """Cut a fraction of more than 6 digits (Go writes up to 9) to the microseconds Python
    keeps; ``fromisoformat`` rejects them on some Python versions."""
    dot = text.find(".", 19)
    if dot < 0:
        return text
    end = dot + 1
    while end < len(text) and text[end].isdigit():
        end += 1
    if end - dot - 1 <= 6:
        return text
    return text[: dot + 7] + text[end:]


def to_epoch(value: object) -> float | None:
    """Seconds since the epoch for a ledger timestamp, or ``None``."""
    parsed = parse_ts(value)
    if parsed is None:
        return None
    try:
        return parsed.timestamp()
    except (OverflowError, ValueError):
        return None


def format_duration(seconds: float | None) -> str:
    """A short human duration: ``850ms``, ``12.4s``, ``3m 05s``, ``2h 14m``, ``3d 4h``."""
    if seconds is None or seconds != seconds or abs(seconds) == float("inf"):
        return "—"
    if seconds < 0:
        return "-" + format_duration(-seconds)
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h"
