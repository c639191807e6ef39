"""Fit URLs into narrow columns without losing what matters: the origin and the record id."""

from __future__ import annotations

from urllib.parse import urlsplit


def squeeze(value: str, width: int) -> str:
    """Cut the middle of a long (already sanitised) URL, keeping its start and its tail."""
    if width < 8 or len(value) <= width:
        return value
    head = max(4, (width - 1) * 2 // 5)
    tail = width - 1 - head
    return value[:head] + "…" + value[-tail:]


def origin(url: str | None) -> str:
    """``scheme://host:port`` of ``url``, or the value itself if it has no host."""
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else (url or "?")
