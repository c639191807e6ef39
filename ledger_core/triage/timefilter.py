"""Time filters people type (``2h``, ``yesterday``, ``2026-05-17``) and times shown in their zone.

A filter keeps the runs whose **start** (``run.started_at``) falls in ``[since, until)``: a run
that started before ``--since`` is left out even if it was still active after it (the list is
ordered and read by start; "what started in the last 2 hours" is the question). A run whose start
is missing or unreadable is left out as soon as a time filter is given.

Forms (``parse_bound``), read against an injectable clock ``now`` and zone ``tz`` (default: this
machine's local zone, i.e. ``TZ``):

* a duration back from now: ``90s``, ``90m``, ``2h``, ``3d``, ``1w`` (also ``2 hours``, ``3days``);
* ``now``, ``today``, ``yesterday``: ``today`` as ``--since`` is today's local midnight, as
  ``--until`` the end of today (tomorrow's midnight), and likewise for ``yesterday``;
* an ISO date ``2026-05-17``: that local day's start for ``--since``, its end (the next day's
  start) for ``--until``, so ``--since D --until D`` is the whole day D (23 or 25 hours on a DST
  change day);
* an ISO date-time ``2026-05-17T03:12``, ``2026-05-17 03:12:30``: local time without a zone,
  or exactly as given with ``Z`` / ``+02:00``.

Anything else raises ``ValueError`` with a sentence naming the forms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

from ..timeutil import parse_ts

_UNITS = {
    "s": 1,
    "sec": 1,
    "secs": 1,
    "second": 1,
    "seconds": 1,
    "m": 60,
    "min": 60,
    "mins": 60,
    "minute": 60,
    "minutes": 60,
    "h": 3600,
    "hr": 3600,
    "hrs": 3600,
    "hour": 3600,
    "hours": 3600,
    "d": 86400,
    "day": 86400,
    "days": 86400,
    "w": 604800,
    "week": 604800,
    "weeks": 604800,
}
_DURATION = re.compile(r"^(\d{1,6})\s*([a-z]+)(?:\s+ago)?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
FORMS = "2h, 90m, 3d, 1w, today, yesterday, now, 2026-05-17 or 2026-05-17T03:12[+02:00]"


def _local(moment: datetime, tz: tzinfo | None) -> datetime:
    return moment.astimezone(tz) if tz is not None else moment.astimezone()


def _midnight(day: date, tz: tzinfo | None) -> datetime:
    naive = datetime(day.year, day.month, day.day)
    # Without a zone object, astimezone() asks the C library, which knows the local DST rules.
    return naive.replace(tzinfo=tz) if tz is not None else naive.astimezone()


def parse_bound(
    text: str, *, end: bool = False, now: datetime | None = None, tz: tzinfo | None = None
) -> datetime:
    """The instant ``text`` names, as an aware UTC datetime.

    ``end`` is True for ``--until``: a whole day (``today``, ``2026-05-17``) then means its end.
    Raises ``ValueError`` for anything that is not one of the forms.
    """
    raw = text if isinstance(text, str) else ""
    word = raw.strip().lower()
    if not word or len(word) > 64:
        raise ValueError(f"empty or overlong time {raw[:64]!r}; use {FORMS}")
    now = (now or datetime.now(UTC)).astimezone(UTC)
    if word == "now":
        return now
    if word in ("today", "yesterday"):
        day = _local(now, tz).date() - timedelta(days=1 if word == "yesterday" else 0)
        return _day_bound(day, end, tz)
    match = _DURATION.match(word)
    if match:
        seconds = _UNITS.get(match.group(2))
        if seconds is None:
            raise ValueError(f"unknown unit in {raw.strip()!r}; use s, m, h, d or w ({FORMS})")
        try:
            return now - timedelta(seconds=int(match.group(1)) * seconds)
        except OverflowError:
            raise ValueError(f"{raw.strip()!r} reaches back before the year 1") from None
    if _DATE.match(word):
        try:
            day = date.fromisoformat(word)
        except ValueError:
            raise ValueError(f"{raw.strip()!r} is not a real date; use {FORMS}") from None
        return _day_bound(day, end, tz)
    if re.match(r"^\d{4}-\d{2}-\d{2}[t ]\d{1,2}:\d{2}", word):
        if re.search(r"(z|[+-]\d{2}:?\d{2})$", word):
            parsed = parse_ts(raw.strip().upper())
            if parsed is not None:
                return parsed
        else:
            try:
                naive = datetime.fromisoformat(word.replace("t", "T"))
            except ValueError:
                naive = None
            if naive is not None:
                aware = naive.replace(tzinfo=tz) if tz is not None else naive.astimezone()
                return aware.astimezone(UTC)
        raise ValueError(f"{raw.strip()!r} is not a real date and time; use {FORMS}")
    raise ValueError(f"cannot read the time {raw.strip()!r}; use {FORMS}")


def _day_bound(day: date, end: bool, tz: tzinfo | None) -> datetime:
    if end:
        day += timedelta(days=1)
    return _midnight(day, tz).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class TimeRange:
    """Runs that started in ``[since, until)``; either end may be open. ``text`` keeps what the
    person typed, for the status line."""

    since: datetime | None = None
    until: datetime | None = None
    since_text: str = ""
    until_text: str = ""

    @classmethod
    def parse(
        cls,
        since: str | None = None,
        until: str | None = None,
        *,
        now: datetime | None = None,
        tz: tzinfo | None = None,
    ) -> TimeRange:
        """Both bounds read against one ``now``; ``ValueError`` names the option at fault."""
        start = end = None
        if since is not None and since.strip():
            try:
                start = parse_bound(since, now=now, tz=tz)
            except ValueError as exc:
                raise ValueError(f"--since: {exc}") from None
        if until is not None and until.strip():
            try:
                end = parse_bound(until, end=True, now=now, tz=tz)
            except ValueError as exc:
                raise ValueError(f"--until: {exc}") from None
        if start is not None and end is not None and end <= start:
            raise ValueError(f"--until ({until.strip()}) is not after --since ({since.strip()})")
        return cls(start, end, (since or "").strip(), (until or "").strip())

    @property
    def active(self) -> bool:
        return self.since is not None or self.until is not None

    def contains(self, ts: str | None) -> bool:
        """Whether a ledger timestamp falls in the range (always, when the range is open)."""
        if not self.active:
            return True
        moment = parse_ts(ts)
        if moment is None:
            return False
        if self.since is not None and moment < self.since:
            return False
        return not (self.until is not None and moment >= self.until)

    def describe(self) -> str:
        """``since 2h``, ``until yesterday``, ``since 3d until 1d``, or ``""``."""
        parts = []
        if self.since is not None:
            parts.append(f"since {self.since_text}")
        if self.until is not None:
            parts.append(f"until {self.until_text}")
        return " ".join(parts)


def filter_runs(runs, time_range: TimeRange) -> list:
    """The runs (anything with ``started_at``) whose start falls in the range, order kept."""
    if not time_range.active:
        return list(runs)
    return [run for run in runs if time_range.contains(run.started_at)]


# -- showing times ----------------------------------------------------------------------------


def display_time(
    ts: str | None, fmt: str = "%Y-%m-%d %H:%M:%S", *, utc: bool = False, tz: tzinfo | None = None
) -> str | None:
    """A ledger timestamp in the local zone (or UTC), formatted; ``None`` if it does not parse.

    Ledgers store UTC; people think in their own zone ("the batch died at 03:12 local").
    """
    parsed = parse_ts(ts)
    if parsed is None:
        return None
    try:
        shown = parsed if utc else _local(parsed, tz)
    except (OverflowError, ValueError, OSError):
        shown = parsed
    return shown.strftime(fmt)


def display_with_zone(
    ts: str | None,
    fmt: str = "%Y-%m-%d %H:%M:%S",
    *,
    utc: bool = False,
    tz: tzinfo | None = None,
    header: str | None = None,
) -> str | None:
    """``display_time`` plus the zone's name (``2026-05-17 11:14:03 CEST``), left out when it is
    ``header``, the zone a column header already names: a table headed ``STARTED (CET)`` marks
    only the summer times. ``None`` if ``ts`` does not parse. (One parse and one conversion:
    ``list`` calls this for every run.)"""
    parsed = parse_ts(ts)
    if parsed is None:
        return None
    if utc:
        shown, zone = parsed, "UTC"
    else:
        try:
            shown = _local(parsed, tz)
        except (OverflowError, ValueError, OSError):
            shown, zone = parsed, "UTC"
        else:
            zone = _zone_name(shown)
    text = shown.strftime(fmt)
    return text if zone == header else f"{text} {zone}"


def _zone_name(moment: datetime) -> str:
    name = moment.strftime("%Z")
    if not name or name[0] in "+-" or name.isdigit():
        offset = moment.strftime("%z")
        name = f"{offset[:3]}:{offset[3:]}" if offset else "local"
    return name


def zone_label(*, utc: bool = False, at: datetime | None = None, tz: tzinfo | None = None) -> str:
    """The zone's short name for a header, e.g. ``UTC``, ``CET``, ``CEST``; a numeric offset
    (``+05:30``) when the zone has no abbreviation."""
    if utc:
        return "UTC"
    return _zone_name(_local(at or datetime.now(UTC), tz))
