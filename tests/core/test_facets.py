"""Facets of the runs list and the verdict summary counts."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ledger_core.facets import facet_counts, facet_value, filter_runs, matches, verdict_counts
from ledger_core.models import RunSummary, StepCounts


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
