"""The time filter parser (every form, zones, DST days, nonsense) and local-time display."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ledger_core.triage.timefilter import (
    TimeRange,
    display_time,
    filter_runs,
    parse_bound,
    zone_label,
)

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 5, 17, 12, 30, tzinfo=UTC)  # 14:30 in Berlin (CEST, +02:00)


@pytest.mark.parametrize(
    ("text", "back"),
    [
        ("2h", timedelta(hours=2)),
        ("90m", timedelta(minutes=90)),
        ("3d", timedelta(days=3)),
        ("1w", timedelta(weeks=1)),
        ("45s", timedelta(seconds=45)),
        ("2 hours", timedelta(hours=2)),
        ("3days", timedelta(days=3)),
        ("2h ago", timedelta(hours=2)),
        (" 2H ", timedelta(hours=2)),
        ("now", timedelta(0)),
    ],
)
def test_durations_count_back_from_the_injected_now(text, back):
    assert parse_bound(text, now=NOW, tz=BERLIN) == NOW - back
    assert parse_bound(text, end=True, now=NOW, tz=BERLIN) == NOW - back


def test_today_and_yesterday_are_local_days():
    assert parse_bound("today", now=NOW, tz=BERLIN) == datetime(2026, 5, 16, 22, tzinfo=UTC)
    assert parse_bound("today", end=True, now=NOW, tz=BERLIN) == datetime(
        2026, 5, 17, 22, tzinfo=UTC
    )
    assert parse_bound("yesterday", now=NOW, tz=BERLIN) == datetime(2026, 5, 15, 22, tzinfo=UTC)
    assert parse_bound("Yesterday", end=True, now=NOW, tz=BERLIN) == datetime(
        2026, 5, 16, 22, tzinfo=UTC
    )


def test_today_depends_on_the_zone_near_midnight():
    late = datetime(2026, 5, 17, 23, 30, tzinfo=UTC)  # already the 18th in Berlin
    assert parse_bound("today", now=late, tz=BERLIN) == datetime(2026, 5, 17, 22, tzinfo=UTC)
    assert parse_bound("today", now=late, tz=UTC) == datetime(2026, 5, 17, tzinfo=UTC)


def test_an_iso_date_is_the_local_days_start_for_since_and_its_end_for_until():
    assert parse_bound("2026-05-17", tz=BERLIN) == datetime(2026, 5, 16, 22, tzinfo=UTC)
    assert parse_bound("2026-05-17", end=True, tz=BERLIN) == datetime(2026, 5, 17, 22, tzinfo=UTC)


@pytest.mark.parametrize(
    ("day", "hours"),
    [("2026-03-29", 23), ("2026-10-25", 25), ("2026-05-17", 24)],
)
def test_a_whole_day_on_a_dst_change_has_its_real_length(day, hours):
    span = TimeRange.parse(day, day, tz=BERLIN)
    assert span.until - span.since == timedelta(hours=hours)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-05-17T03:12", datetime(2026, 5, 17, 1, 12, tzinfo=UTC)),  # local, CEST
        ("2026-01-17 03:12:30", datetime(2026, 1, 17, 2, 12, 30, tzinfo=UTC)),  # local, CET
        ("2026-05-17T03:12Z", datetime(2026, 5, 17, 3, 12, tzinfo=UTC)),
        ("2026-05-17t03:12z", datetime(2026, 5, 17, 3, 12, tzinfo=UTC)),
        ("2026-05-17T03:12+05:30", datetime(2026, 5, 16, 21, 42, tzinfo=UTC)),
        ("2026-05-17 03:12:00.5-01:00", datetime(2026, 5, 17, 4, 12, 0, 500000, tzinfo=UTC)),
    ],
)
def test_date_times_with_and_without_a_zone(text, expected):
    assert parse_bound(text, now=NOW, tz=BERLIN) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("soon", "cannot read"),
        ("5x", "unknown unit"),
        ("-2h", "cannot read"),
        ("2026-02-30", "not a real date"),
        ("2026-13-01T10:00", "not a real date"),
        ("2026-05-17T25:00", "not a real date"),
        ("9" * 100, "overlong"),
        ("999999w", "before the year 1"),
        ("2h; DROP TABLE run", "cannot read"),
    ],
)
def test_nonsense_is_a_clear_value_error(text, words):
    with pytest.raises(ValueError, match=words) as info:
        parse_bound(text, now=NOW, tz=BERLIN)
    assert "2h" in str(info.value) or "year" in str(info.value)


def test_range_names_the_option_at_fault_and_rejects_an_empty_span():
    with pytest.raises(ValueError, match="^--since: "):
        TimeRange.parse("bogus", None, now=NOW, tz=BERLIN)
    with pytest.raises(ValueError, match="^--until: "):
        TimeRange.parse(None, "bogus", now=NOW, tz=BERLIN)
    with pytest.raises(ValueError, match="not after"):
        TimeRange.parse("1h", "2h", now=NOW, tz=BERLIN)


def test_range_keeps_runs_by_start_and_drops_unreadable_starts():
    class Run:
        def __init__(self, started_at):
            self.started_at = started_at

    runs = [
        Run("2026-05-17T12:00:00Z"),  # 30 min ago
        Run("2026-05-17T09:00:00.000000Z"),  # 3.5 h ago
        Run("2026-05-17T10:30:00Z"),  # exactly 2 h ago: inside [since, until)
        Run(None),
        Run("garbage"),
    ]
    span = TimeRange.parse("2h", None, now=NOW, tz=BERLIN)
    assert [r.started_at for r in filter_runs(runs, span)] == [
        "2026-05-17T12:00:00Z",
        "2026-05-17T10:30:00Z",
    ]
    older = TimeRange.parse(None, "2h", now=NOW, tz=BERLIN)
    assert [r.started_at for r in filter_runs(runs, older)] == ["2026-05-17T09:00:00.000000Z"]
    assert filter_runs(runs, TimeRange()) == runs
    assert span.describe() == "since 2h"
    assert TimeRange.parse("3d", "1d", now=NOW).describe() == "since 3d until 1d"


def test_display_in_the_local_zone_or_utc():
    ts = "2026-05-17T09:14:03.120391Z"
    assert display_time(ts, tz=BERLIN) == "2026-05-17 11:14:03"
    assert display_time(ts, utc=True, tz=BERLIN) == "2026-05-17 09:14:03"
    assert display_time("2026-01-17T09:14:03Z", "%H:%M", tz=BERLIN) == "10:14"
    assert display_time("not a time", tz=BERLIN) is None
    assert display_time(None) is None


def test_zone_label_follows_dst_and_falls_back_to_an_offset():
    assert zone_label(at=datetime(2026, 1, 1, tzinfo=UTC), tz=BERLIN) == "CET"
    assert zone_label(at=datetime(2026, 7, 1, tzinfo=UTC), tz=BERLIN) == "CEST"
    assert zone_label(utc=True, tz=BERLIN) == "UTC"
    assert zone_label(tz=ZoneInfo("Asia/Kolkata")) == "IST"
    assert zone_label(tz=ZoneInfo("America/Sao_Paulo")) == "-03:00"


def test_system_local_zone_is_used_without_a_tz(monkeypatch):
    import time

    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    try:
        assert parse_bound("2026-05-17") == datetime(2026, 5, 16, 22, tzinfo=UTC)
        assert display_time("2026-05-17T09:14:03Z") == "2026-05-17 11:14:03"
        assert zone_label(at=datetime(2026, 1, 1, tzinfo=UTC)) == "CET"
        span = TimeRange.parse("2026-03-29", "2026-03-29")
        assert span.until - span.since == timedelta(hours=23)
    finally:
        monkeypatch.undo()
        time.tzset()


def test_local_times_in_a_dst_gap_or_overlap_take_the_earlier_offset():
    # 02:30 on 29 March does not exist in Berlin; on 25 October it happens twice. Both are
    # read with the offset in force before the change (fold=0), never an error.
    assert parse_bound("2026-03-29T02:30", tz=BERLIN) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert parse_bound("2026-10-25T02:30", tz=BERLIN) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_display_with_zone_names_the_zone_unless_the_header_does():
    from ledger_core.triage.timefilter import display_with_zone

    summer, winter = "2026-05-17T10:00:00Z", "2026-01-17T10:00:00Z"
    assert display_with_zone(summer, tz=BERLIN, header="CET") == "2026-05-17 12:00:00 CEST"
    assert display_with_zone(winter, tz=BERLIN, header="CET") == "2026-01-17 11:00:00"
    assert display_with_zone(summer, utc=True, header="UTC") == "2026-05-17 10:00:00"
    assert display_with_zone("bogus") is None
