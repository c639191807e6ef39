"""vocabulary: every word on screen parses back to its value, in any case; nothing collides."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger_core.vocabulary import FILTERS, LIVENESS, RUN_STATES, VERDICTS, label, parse

SETS = {"verdict": VERDICTS, "state": RUN_STATES, "liveness": LIVENESS}


@pytest.mark.parametrize("name", sorted(SETS))
def test_values_and_labels_round_trip(name):
    allowed = SETS[name]
    for value in allowed:
        assert parse(value, allowed) == value
        assert parse(label(value), allowed) == value
        assert parse(value.replace("_", " ").upper(), allowed) == value


@pytest.mark.parametrize("name", sorted(SETS))
def test_no_two_values_share_a_word(name):
    words = [label(v).lower() for v in SETS[name]]
    assert len(words) == len(set(words))


@given(st.sampled_from(VERDICTS), st.lists(st.booleans(), min_size=30, max_size=30))
def test_any_case_any_separator(value, upper):
    word = "".join(c.upper() if u else c.lower() for c, u in zip(label(value), upper, strict=False))
    assert parse(f"  {word.replace(' ', '-')} ", VERDICTS) == value


def test_unknown_words_name_the_valid_ones():
    with pytest.raises(ValueError) as info:
        parse("exploded", VERDICTS)
    assert "rollback_incomplete (RB INCOMPLETE)" in str(info.value)


def test_every_preset_names_a_real_value():
    for preset in FILTERS:
        if preset.axis == "verdict":
            assert preset.value in VERDICTS
        elif preset.axis == "state":
            assert preset.value in RUN_STATES


def test_every_attention_verdict_has_a_word_in_capitals():
    """Verdicts that need a person are shouted alike: ``stale`` beside ``CRASHED`` was lowercase."""
    for verdict in ("crashed", "in_doubt", "rollback_incomplete", "stale"):
        assert label(verdict).isupper(), verdict
