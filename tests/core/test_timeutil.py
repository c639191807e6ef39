"""Ledger timestamps: the runner's own form has a fast path that must agree with the general one."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from ledger_core.timeutil import parse_ts


def _general(value: str) -> datetime | None:
    # The same text with a trailing space: too long for the fast path, stripped by the general.
    return parse_ts(value + " ")


@given(st.datetimes(min_value=datetime(1000, 1, 2), max_value=datetime(9999, 12, 30)))
def test_the_runners_form_parses_as_the_general_path_does(moment):
    text = moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert len(text) == 27
    assert parse_ts(text) == _general(text) == moment.replace(tzinfo=UTC)


@given(st.text(alphabet="0123456789-:T.Zz ", min_size=27, max_size=27))
def test_odd_text_of_that_length_agrees_too(text):
    assert parse_ts(text) == _general(text)


def test_lookalikes_fall_through_to_the_general_path():
    assert parse_ts("2026-05-17T09:00:00.00000aZ") is None
    assert parse_ts("2026-13-17T09:00:00.000000Z") is None
    assert parse_ts("2026-05-17T09:00:00.123456Z") == datetime(2026, 5, 17, 9, 0, 0, 123456, UTC)
