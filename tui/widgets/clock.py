"""Ledger timestamps as the TUI shows them: local time (or UTC after ``t``), never as markup."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.text import Text
from textual.app import App

from ledger_core.triage import display_time, zone_label

from .safe import safe_text


def utc_wanted(app: App) -> bool:
    """Whether the app shows UTC (the ``t`` toggle); local time otherwise."""
    return bool(getattr(app, "show_utc", False))


def zone(app: App) -> str:
    """The zone's short name now (by the app's clock) for a column header: ``UTC``, ``CET`` …"""
    now = getattr(app, "now", None)
    at = datetime.fromtimestamp(now(), UTC) if callable(now) else None
    return zone_label(utc=utc_wanted(app), at=at)


def time_text(ts: str | None, fmt: str, utc: bool, width: int = 40) -> Text:
    """``ts`` formatted in the zone; an unreadable value shown as stored (escaped, yellow)."""
    shown = display_time(ts, fmt, utc=utc)
    if shown is None:
        return safe_text(ts or "—", width, style="yellow" if ts else "dim")
    return Text(shown)
