"""``shorten_middle``: ids keep their differing end in a narrow column."""

from __future__ import annotations

import pytest

from ledger_core.textfit import MARKER, shorten_middle


def test_text_that_fits_is_unchanged():
    assert shorten_middle("run-1", 5) == "run-1"
    assert shorten_middle("run-1", 80) == "run-1"


def test_timestamped_ids_stay_distinct_when_shortened():
    ids = [f"nightly-billing-2026-12-03T04:12:{s:02d}-{s:04x}" for s in range(30)]
    short = [shorten_middle(i, 16) for i in ids]
    assert all(len(s) == 16 and MARKER in s for s in short)
    assert len(set(short)) == len(ids), "the differing end must stay visible"
    assert short[7] == "nightly…:07-0007"


@pytest.mark.parametrize("width", [-3, 0, 1, 2, 3, 10])
def test_never_longer_than_the_width(width):
    out = shorten_middle("0123456789abcdef", width)
    assert len(out) == max(width, 0)
    if width == 1:
        assert out == MARKER
