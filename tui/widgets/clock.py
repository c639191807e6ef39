"""Ledger timestamps as the TUI shows them: local time (or UTC after ``t``), never as markup."""

from __future__ import annotations

from rich.text import Text
from textual.app import App

from ledger_core.timefilter import display_time, zone_label

from .safe import safe_text


def utc_wanted(app: App) -> bool:
    """Whether the app shows UTC (the ``t`` toggle); local time otherwise."""
    return bool(getattr(app, "show_utc", False))


def zone(app: App) -> str:
    """The zone's short name for a column header: ``UTC``, ``CET`` …"""
    return zone_label(utc=utc_wanted(app))


def time_text(ts: str | None, fmt: str, utc: bool, width: int = 40) -> Text:
    """``ts`` formatted in the zone; an unreadable value shown as stored (escaped, yellow)."""
    shown = display_time(ts, fmt, utc=utc)
    if shown is None:
        return safe_text(ts or "—", width, style="yellow" if ts else "dim")
    return Text(shown)
