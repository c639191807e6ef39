"""event-ledger (seed 003): runs of an event log, versions, columns, odd values."""

from __future__ import annotations

import pytest
from conftest import FIXED_NOW
from format_factories import make_events

from ledger_core.errors import SourceError
from ledger_core.ledgers.reader import read_run, read_summaries
from ledger_core.timeutil import to_epoch

RECENT = "2026-05-17T09:59:00+00:00"
OLD = "2026-05-17T08:00:00+00:00"


def _runs(tmp_path, events, **kw):
    path = make_events(tmp_path / "events.db", events, **kw)
    return {r.run_id: r for r in read_summaries(path, now=FIXED_NOW)}, path


def test_finished_run_is_completed(tmp_path):
    runs, path = _runs(
        tmp_path,
        [
            {"run_id": "e1", "kind": "run.started", "created_at": OLD},
            {"run_id": "e1", "kind": "agent.thought"},
            {"run_id": "e1", "kind": "run.finished", "created_at": RECENT},
        ],
    )
    run = runs["e1"]
    assert (run.state, run.liveness, run.format) == ("completed", "finished", "event-ledger")
    assert run.started_at == OLD and run.finished_at == RECENT
    assert run.counts.committed == 3 and run.counts.in_doubt == 0


def test_unfinished_recent_run_is_running_and_says_it_cannot_tell(tmp_path):
    runs, _ = _runs(tmp_path, [{"run_id": "e1", "kind": "run.started", "created_at": RECENT}])
    run = runs["e1"]
    assert (run.state, run.liveness) == ("running", "unknown")
    assert any("cannot tell a crashed run from a running one" in d for d in run.diagnosis)


def test_unfinished_quiet_run_is_stale(tmp_path):
    runs, _ = _runs(tmp_path, [{"run_id": "e1", "kind": "run.started", "created_at": OLD}])
    run = runs["e1"]
    assert (run.state, run.liveness) == ("running", "stale")
    assert any("cannot tell a crashed run from a running one" in d for d in run.diagnosis)


def test_many_runs_interleaved_and_steps_in_offset_order(tmp_path):
    events = [{"run_id": f"e{i % 3}", "kind": "world.observed", "turn": i} for i in range(9)]
    runs, path = _runs(tmp_path, events)
    assert sorted(runs) == ["e0", "e1", "e2"] and runs["e1"].counts.committed == 3
    steps = read_run(path, "e1", now=FIXED_NOW).steps
    assert [s.step_id for s in steps] == [2, 5, 8]  # the offsets
    extras = dict(steps[0].extras)
    assert (extras["turn"], extras["kind"], extras["actor"]) == ("1", "world.observed", "agent")
    assert steps[0].outcome_ts is None and steps[0].derived_status == "committed"


@pytest.mark.parametrize("last_two", [True, False])
def test_with_and_without_the_last_two_columns(tmp_path, last_two):
    runs, path = _runs(tmp_path, [{"run_id": "e1", "kind": "run.started"}], last_two=last_two)
    assert list(runs) == ["e1"]
    (step,) = read_run(path, "e1", now=FIXED_NOW).steps
    assert ("model_id" in dict(step.extras)) is False  # NULL either way: not shown


def test_without_schema_version_column_reads_as_version_1(tmp_path):
    runs, _ = _runs(tmp_path, [{"run_id": "e1", "kind": "run.started"}], schema_version=False)
    assert list(runs) == ["e1"]


def test_newer_schema_version_is_a_problem(tmp_path):
    path = make_events(
        tmp_path / "e.db", [{"run_id": "e1", "kind": "run.started", "schema_version": 2}]
    )
    with pytest.raises(SourceError) as info:
        read_summaries(path, now=FIXED_NOW)
    assert info.value.kind == "newer_schema" and "schema_version 2" in info.value.reason


def test_times_without_zone_are_utc_and_nine_digits_parse(tmp_path):
    runs, _ = _runs(
        tmp_path,
        [
            {"run_id": "e1", "kind": "run.started", "created_at": "2026-05-17T09:00:00"},
            {
                "run_id": "e1",
                "kind": "run.finished",
                "created_at": "2026-05-17T09:00:01.123456789Z",
            },
        ],
    )
    run = runs["e1"]
    assert to_epoch(run.started_at) == to_epoch("2026-05-17T09:00:00Z")
    assert to_epoch(run.finished_at) == pytest.approx(to_epoch("2026-05-17T09:00:01.123456Z"))


def test_odd_values_are_not_crashes(tmp_path):
    runs, path = _runs(
        tmp_path,
        [
            {"run_id": "e1", "kind": "run.started", "created_at": "garbage", "turn": "x"},
            {"run_id": 42, "kind": "agent.spoke", "payload": "\x1b[31m" + "p" * 10000},
        ],
    )
    assert runs["e1"].liveness == "unknown" and runs["42"].state == "running"
    (step,) = read_run(path, "42", now=FIXED_NOW).steps
    assert len(dict(step.extras)["payload"]) <= 4000


def test_quiet_unfinished_run_is_not_called_running(tmp_path):
    runs, path = _runs(tmp_path, [{"run_id": "e1", "kind": "run.started", "created_at": OLD}])
    run = runs["e1"]
    assert run.verdict == "stale"  # neither "running" nor "crashed": it cannot tell
    assert read_run(path, "e1").summary.verdict == "stale"
    assert run.to_dict()["verdict"] == "stale"


def test_recent_unfinished_and_finished_runs_keep_their_verdicts(tmp_path):
    runs, _ = _runs(
        tmp_path,
        [
            {"run_id": "e1", "kind": "run.started", "created_at": RECENT},
            {"run_id": "e2", "kind": "run.finished", "created_at": OLD},
        ],
    )
    assert runs["e1"].verdict == "running" and runs["e2"].verdict == "completed"
