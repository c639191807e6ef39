"""cr (seed 000): every row of FORMATS.md's cr mapping, versions, and odd values."""

from __future__ import annotations

import pytest
from conftest import FIXED_NOW
from format_factories import make_cr

from ledger_core.errors import SourceError
from ledger_core.ledgers.reader import read_run, read_summaries

RECENT = "2026-05-17T09:59:00Z"  # a minute before FIXED_NOW
OLD = "2026-05-17T08:00:00Z"  # two hours before


def _one(tmp_path, run: dict, actions: list[dict], **kw):
    path = make_cr(tmp_path / "cr.db", [{"run_id": "c1"} | run], actions, **kw)
    runs = read_summaries(path, now=FIXED_NOW)
    assert [r.run_id for r in runs] == ["c1"]
    return runs[0], path


def _action(i: int, status: str, *, attempted=True, posted=False, **more) -> dict:
    row = {"action_id": f"a{i}", "run_id": "c1", "status": status}
    if attempted:
        row["attempted_at"] = f"2026-05-17T09:00:{i:02d}.1Z"
        row["attempts"] = 1
    if posted:
        row["posted_at"] = f"2026-05-17T09:00:{i:02d}.123456789Z"
        row["upstream_id"] = f"IC_{i}"
    return row | more


STEP_ROWS = [
    # (status, attempted, posted, derived, words)
    ("posted", True, True, "committed", "posted"),
    ("failed_terminal", True, False, "failed", "failed for good"),
    ("pending", True, False, "in_doubt", "may or may not"),
    ("pending", False, False, "skipped", "not attempted yet"),
    ("planned_only", False, False, "skipped", "planned only"),
    ("superseded", False, False, "skipped", "superseded"),
    ("mystery", True, False, "unknown", "not one cr defines"),
]


@pytest.mark.parametrize("status,attempted,posted,derived,words", STEP_ROWS)
def test_every_action_row_of_the_mapping(tmp_path, status, attempted, posted, derived, words):
    _, path = _one(
        tmp_path, {"heartbeat_at": RECENT}, [_action(1, status, attempted=attempted, posted=posted)]
    )
    (step,) = read_run(path, "c1", now=FIXED_NOW).steps
    assert step.format == "cr" and step.method == "inline_comment"
    assert step.derived_status == derived
    extras = dict(step.extras)
    assert words in extras["what it means"]
    assert extras["action_id"] == "a1" and isinstance(step.step_id, int)
    if posted:
        assert extras["upstream_id"] == "IC_1" and step.latency_ms == pytest.approx(
            23.457, abs=0.01
        )


def test_in_doubt_with_error_says_the_last_attempt_failed(tmp_path):
    run, path = _one(tmp_path, {}, [_action(1, "pending", error="context deadline exceeded")])
    (step,) = read_run(path, "c1", now=FIXED_NOW).steps
    assert step.derived_status == "in_doubt"
    assert "last attempt failed" in dict(step.extras)["what it means"]
    assert any("is in doubt: the last attempt failed" in d for d in run.diagnosis)


def test_failed_action_shows_error_and_failure_class(tmp_path):
    _, path = _one(tmp_path, {}, [_action(1, "failed_terminal", error="403", failure_class="auth")])
    (step,) = read_run(path, "c1", now=FIXED_NOW).steps
    assert step.error_message == "403 (failure class auth)"


POSTED = _action(1, "posted", posted=True)
FAILED = _action(2, "failed_terminal")
DOUBT = _action(3, "pending")
RUN_ROWS = [
    # (outcome, actions, state)
    (None, [POSTED, FAILED], "partially_committed"),
    (None, [POSTED, DOUBT], "partially_committed"),
    (None, [POSTED], "running"),
    (None, [], "running"),
    ("approved", [POSTED], "completed"),
    ("request_changes", [POSTED, FAILED], "completed"),
    ("comment", [], "completed"),
    ("nothing_to_review", [], "completed"),
    ("dry_run", [], "completed"),
    ("incomplete", [POSTED, DOUBT], "partially_committed"),
    ("incomplete", [DOUBT], "failed"),
    ("failed", [POSTED], "partially_committed"),
    ("failed", [FAILED], "failed"),
    ("aborted", [POSTED], "partially_committed"),
    ("aborted", [], "cancelled"),
]


@pytest.mark.parametrize("outcome,actions,state", RUN_ROWS)
def test_every_run_row_of_the_mapping(tmp_path, outcome, actions, state):
    run_row = {"heartbeat_at": RECENT}
    if outcome is not None:
        run_row |= {"outcome": outcome, "completed_at": RECENT}
    run, _ = _one(tmp_path, run_row, actions)
    assert run.state == state and run.format == "cr"
    assert run.liveness == ("finished" if outcome else "alive")
    assert dict(run.extras)["outcome"] == (outcome or "(not finished)")


@pytest.mark.parametrize(
    "heartbeat,started,liveness",
    [
        (RECENT, OLD, "alive"),
        (OLD, OLD, "stale"),
        (None, RECENT, "alive"),  # no heartbeat yet: started_at is the sign of life
        ("yesterday", OLD, "unknown"),
    ],
)
def test_liveness_is_heartbeat_age(tmp_path, heartbeat, started, liveness):
    run, _ = _one(tmp_path, {"heartbeat_at": heartbeat, "started_at": started}, [])
    assert run.liveness == liveness


def test_what_is_the_pr_short_sha_and_attempt(tmp_path):
    run, _ = _one(tmp_path, {}, [])
    assert run.manifest_path == "https://github.com/o/r/pull/7 0123456 attempt 1"
    assert run.profile == "default"


@pytest.mark.parametrize("version", [1, 2])
def test_known_versions_read(tmp_path, version):
    run, _ = _one(tmp_path, {}, [POSTED], version=version)
    assert run.counts.committed == 1


@pytest.mark.parametrize(
    "kwargs,kind,words",
    [
        ({"version": 3}, "newer_schema", "cr schema version 3 is newer"),
        ({"version": None}, "missing_schema", "no readable schema version"),
        ({"meta_value": "two"}, "missing_schema", "'two'"),
    ],
)
def test_newer_or_missing_versions_are_problems(tmp_path, kwargs, kind, words):
    path = make_cr(tmp_path / "cr.db", [{"run_id": "c1"}], [], **kwargs)
    with pytest.raises(SourceError) as info:
        read_summaries(path, now=FIXED_NOW)
    assert info.value.kind == kind and words in info.value.reason


def test_odd_values_are_read_not_crashed_on(tmp_path):
    path = make_cr(
        tmp_path / "cr.db",
        [{"run_id": "c1", "started_at": "2026-05-17T09:00:00", "heartbeat_at": 12345}],
        [
            _action(1, "posted", posted=True, attempts="many"),
            {"action_id": "a2", "run_id": "c1", "status": 7, "attempted_at": b"\xff\xfe"},
            {"action_id": "a3", "run_id": "c1", "status": "pending", "attempted_at": "not a time"},
        ],
    )
    (run,) = read_summaries(path, now=FIXED_NOW)
    assert run.started_at == "2026-05-17T09:00:00"  # no zone: UTC, still parsed
    assert run.counts.committed == 1 and run.counts.unknown == 1 and run.counts.in_doubt == 1
    steps = read_run(path, "c1", now=FIXED_NOW).steps
    assert [s.derived_status for s in steps] == ["committed", "unknown", "in_doubt"]
    assert steps[2].latency_ms is None


def test_steps_are_in_planned_at_then_action_id_order(tmp_path):
    same = "2026-05-17T09:00:00Z"
    _, path = _one(
        tmp_path,
        {},
        [
            {"action_id": "b", "run_id": "c1", "status": "posted", "planned_at": same},
            {"action_id": "a", "run_id": "c1", "status": "posted", "planned_at": same},
            {
                "action_id": "0",
                "run_id": "c1",
                "status": "posted",
                "planned_at": "2026-05-18T00:00:00Z",
            },
        ],
    )
    steps = read_run(path, "c1", now=FIXED_NOW).steps
    assert [dict(s.extras)["action_id"] for s in steps] == ["a", "b", "0"]
    assert [s.step_id for s in steps] == [1, 2, 3]


def test_a_cr_schema_missing_a_needed_column_says_which(tmp_path):
    import sqlite3

    path = tmp_path / "cr.db"
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE meta (schema_version, created_at); INSERT INTO meta VALUES (2, 'x');"
        "CREATE TABLE runs (run_id TEXT PRIMARY KEY);"
        "CREATE TABLE planned_actions (action_id, run_id, attempted_at, posted_at);"
    )
    conn.close()
    with pytest.raises(SourceError) as info:
        read_summaries(path, now=FIXED_NOW)
    assert info.value.kind == "not_a_ledger"
    assert "cr ledger without planned_actions.status" in info.value.reason
