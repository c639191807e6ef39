"""Facets of the runs list and the verdict summary counts."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ledger_core.models import RunSummary, StepCounts
from ledger_core.triage.facets import (
    GROUP_FACETS,
    facet_counts,
    facet_value,
    filter_runs,
    group_runs,
    matches,
    parse_group_facet,
    verdict_counts,
)


def _run(run_id, *, verdict="completed", state="completed", liveness="finished", **kw):
    base = RunSummary(
        run_id=run_id,
        source=f"/l/{run_id}.db",
        manifest_path="/manifests/orders.yaml",
        manifest_hash=None,
        profile="sandbox",
        environment="sandbox",
        company="CRONUS",
        stamped_state=state,
        started_at="2026-05-17T09:00:00Z",
        finished_at="2026-05-17T09:10:00Z",
        counts=StepCounts(committed=1),
        last_activity=None,
        last_seq=1,
        state=state,
        liveness=liveness,
        diagnosis=(),
        verdict=verdict,
    )
    return replace(base, **kw)


RUNS = [
    _run("a", company="CRONUS", profile="prod"),
    _run("b", company="cronus", manifest_path="/m/invoices.yaml"),
    _run("c", company="Fabrikam", environment=None, verdict="crashed", liveness="dead"),
    _run("d", company=None, format="cr", verdict="in_doubt", counts=StepCounts(in_doubt=1)),
]


def test_values_and_counts_most_runs_first():
    assert facet_counts(RUNS, "company") == [("", 1), ("CRONUS", 1), ("Fabrikam", 1), ("cronus", 1)]
    assert facet_counts(RUNS, "profile") == [("sandbox", 3), ("prod", 1)]
    assert facet_counts(RUNS, "format") == [("bcli", 3), ("cr", 1)]
    assert facet_value(RUNS[2], "environment") == ""
    with pytest.raises(ValueError, match="unknown facet"):
        facet_value(RUNS[0], "colour")


def test_exact_ignoring_case_except_manifest_which_is_a_substring():
    assert [r.run_id for r in filter_runs(RUNS, {"company": ["cronus"]})] == ["a", "b"]
    assert filter_runs(RUNS, {"company": ["cron"]}) == []
    assert [r.run_id for r in filter_runs(RUNS, {"manifest": ["INVOICES"]})] == ["b"]
    assert [r.run_id for r in filter_runs(RUNS, {"manifest": ["orders.yaml"]})] == ["a", "c", "d"]
    assert matches(RUNS[3], "company", [""])  # the "(none)" value of the picker


def test_values_of_one_facet_are_any_facets_together_are_all():
    both = filter_runs(RUNS, {"company": ["cronus", "fabrikam"], "profile": ["sandbox"]})
    assert [r.run_id for r in both] == ["b", "c"]
    assert filter_runs(RUNS, {"company": []}) == RUNS
    with pytest.raises(ValueError):
        filter_runs(RUNS, {"colour": ["red"]})


def test_verdict_counts_lead_with_attention_and_skip_zero():
    assert verdict_counts(RUNS) == [("attention", 2), ("crashed", 1), ("in_doubt", 1)]
    assert verdict_counts([RUNS[0]]) == []


def _shape(groups):
    return [(g.value, [r.run_id for r in g.runs]) for g in groups]


def test_groups_most_attention_first_then_size_and_none_last():
    runs = [
        _run("r1", company="Big"),
        _run("r2", company=None, verdict="crashed", liveness="dead"),
        _run("r3", company="Big"),
        _run("r4", company="Hot", verdict="in_doubt", counts=StepCounts(in_doubt=1)),
        _run("r5", company="Big"),
        _run("r6", company="alpha"),
    ]
    groups = group_runs(runs, "company")
    # "(none)" holds a crashed run and still comes last; "Hot" needs attention, so it beats
    # the bigger "Big"; "alpha" and "Big" both need none: the bigger one first.
    assert _shape(groups) == [
        ("Hot", ["r4"]),
        ("Big", ["r1", "r3", "r5"]),
        ("alpha", ["r6"]),
        ("", ["r2"]),
    ]
    assert [g.label for g in groups][-1] == "(none)"
    assert groups[0].attention == 1 and groups[1].attention == 0
    assert groups[-1].to_dict() == {
        "facet": "company",
        "value": None,
        "total": 1,
        "attention": 1,
        "counts": {"crashed": 1},
    }


def test_group_counts_urgent_verdicts_first_and_order_of_runs_kept():
    runs = [
        _run("x1"),
        _run("x2", verdict="failed", state="failed"),
        _run("x3", verdict="crashed", liveness="dead"),
        _run("x4"),
        _run("x5", verdict="in_doubt", counts=StepCounts(in_doubt=1)),
    ]
    (group,) = group_runs(runs, "profile")
    assert group.value == "sandbox"
    assert [r.run_id for r in group.runs] == ["x1", "x2", "x3", "x4", "x5"]
    assert group.counts == (("crashed", 1), ("in_doubt", 1), ("completed", 2), ("failed", 1))
    assert group.attention == 3  # crashed, in doubt and failed


def test_groups_by_verdict_and_by_exact_value():
    runs = [*RUNS, _run("e", verdict="failed", state="failed"), _run("f", verdict="failed")]
    # By verdict: most urgent first, whatever the sizes (two failed runs after one in doubt).
    assert _shape(group_runs(runs, "verdict")) == [
        ("in_doubt", ["d"]),
        ("crashed", ["c"]),
        ("failed", ["e", "f"]),
        ("completed", ["a", "b"]),
    ]
    # Values are grouped as stored, like the picker counts them: CRONUS and cronus apart.
    assert {g.value for g in group_runs(RUNS, "company")} == {"CRONUS", "cronus", "Fabrikam", ""}
    # One run needing attention each: the bigger group first.
    assert _shape(group_runs(RUNS, "format")) == [("bcli", ["a", "b", "c"]), ("cr", ["d"])]
    assert group_runs([], "manifest") == []


def test_group_facet_names():
    assert GROUP_FACETS == ("verdict", "manifest", "company", "profile", "environment", "format")
    assert parse_group_facet(" Company ") == "company"
    for bad in ("colour", "", "run_id"):
        with pytest.raises(ValueError, match="group by: verdict, manifest"):
            parse_group_facet(bad)
    with pytest.raises(ValueError, match="unknown facet"):
        group_runs(RUNS, "state")


def test_every_verdict_has_a_place_in_the_urgency_order():
    """A verdict missing from the order would sort its group after "completed" (``stale``, the
    event log quiet too long, was the one left out)."""
    from ledger_core.derive import VERDICTS
    from ledger_core.triage.facets import VERDICT_URGENCY

    assert set(VERDICTS) <= set(VERDICT_URGENCY)
    assert VERDICT_URGENCY.index("stale") < VERDICT_URGENCY.index("running")
