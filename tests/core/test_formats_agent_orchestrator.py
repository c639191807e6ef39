"""agent-orchestrator (seed 001): sessions, change log, outbox deliveries, consumer lag."""

from __future__ import annotations

import pytest
from conftest import FIXED_NOW
from format_factories import make_ao

from ledger_core.ledgers.reader import read_run, read_summaries

RECENT = "2026-05-17T09:59:00Z"
OLD = "2026-05-17T08:00:00Z"
SENT = {"sent": 1, "sent_at": "2026-05-17T09:00:01.5Z", "attempts": 1}
UNSENT_TRIED = {"sent": 0, "attempts": 3, "last_error": "connection reset"}
PENDING = {"sent": 0, "attempts": 0}


def _store(tmp_path, outbox_rows, *, activity=RECENT, offsets=()):
    changes = [{"session_id": "s1", "revision": i + 1} for i in range(len(outbox_rows))]
    outbox = [
        {"change_log_seq": i + 1, "created_at": "2026-05-17T09:00:00Z"} | row
        for i, row in enumerate(outbox_rows)
        if row is not None
    ]
    return make_ao(
        tmp_path / "ao.db",
        [{"id": "s1", "activity_last_at": activity, "session_state": "working"}],
        changes,
        outbox=outbox,
        offsets=offsets,
    )


@pytest.mark.parametrize(
    "row,derived,words",
    [
        (SENT, "committed", "delivered"),
        (UNSENT_TRIED, "in_doubt", "may or may not"),
        (PENDING, "skipped", "not attempted yet"),
        (None, "committed", "no outbox row"),
    ],
)
def test_every_delivery_row_of_the_mapping(tmp_path, row, derived, words):
    path = _store(tmp_path, [row])
    detail = read_run(path, "s1", now=FIXED_NOW)
    (step,) = detail.steps
    assert step.derived_status == derived and step.format == "agent-orchestrator"
    extras = dict(step.extras)
    assert words in extras["delivery"]
    if row is UNSENT_TRIED:
        assert extras["outbox attempts"] == "3" and step.error_message == "connection reset"
    if row is SENT:
        assert step.intent_ts == "2026-05-17T09:00:00Z" and step.latency_ms == 1500.0


def test_session_state_from_its_deliveries(tmp_path):
    path = _store(tmp_path, [SENT, UNSENT_TRIED, PENDING])
    (run,) = read_summaries(path, now=FIXED_NOW)
    assert run.state == "partially_committed" and run.liveness == "alive"
    assert (run.counts.committed, run.counts.in_doubt, run.counts.skipped) == (1, 1, 1)
    assert any("may or may not have received" in d for d in run.diagnosis)


def test_all_delivered_quiet_session(tmp_path):
    path = _store(tmp_path, [SENT, SENT], activity=OLD)
    (run,) = read_summaries(path, now=FIXED_NOW)
    assert (run.state, run.liveness) == ("completed", "stale")


def test_consumer_lag_is_shown(tmp_path):
    path = _store(tmp_path, [SENT, SENT, SENT], offsets=[("ui", 1), ("audit", 3)])
    (run,) = read_summaries(path, now=FIXED_NOW)
    assert dict(run.extras)["consumer lag"] == "audit 0, ui 2"
    assert any("ui is 2 behind" in d for d in run.diagnosis)


def test_later_version_without_outbox(tmp_path):
    path = make_ao(
        tmp_path / "ao2.db",
        [{"id": "p1-1", "activity_last_at": RECENT}],
        [{"session_id": "p1-1", "event_type": "session_created"}, {"session_id": None}],
        later=True,
        orchestration=[
            {"session_id": "p1-1", "state": "acknowledged"},
            {"session_id": "p1-1", "state": "dead_letter"},
        ],
    )
    (run,) = read_summaries(path, now=FIXED_NOW)
    assert run.run_id == "p1-1" and run.format == "agent-orchestrator"
    assert dict(run.extras)["outbox"].startswith("absent")
    assert dict(run.extras)["orchestration events"] == "1 acknowledged, 1 dead_letter"
    assert run.counts.committed == 2 and run.counts.failed == 1
    steps = read_run(path, "p1-1", now=FIXED_NOW).steps
    assert [(s.method, s.derived_status) for s in steps] == [
        ("session_created", "committed"),
        ("orchestration_event", "committed"),
        ("orchestration_event", "failed"),
    ]
    assert len(steps) == run.step_count and len({s.step_id for s in steps}) == 3
    assert "dead letter" in dict(steps[2].extras)["what it means"]
    from ledger_core.ledgers.reader import read_steps_page

    paged = [s.step_id for s in read_steps_page(path, "p1-1", 1, 1)]
    paged += [s.step_id for s in read_steps_page(path, "p1-1", 2, 5)]
    assert paged == [s.step_id for s in steps[1:]]


def test_odd_values(tmp_path):
    path = _store(
        tmp_path,
        [{"sent": "yes", "attempts": "lots"}, {"sent": None, "attempts": None}],
        activity="not a time",
    )
    (run,) = read_summaries(path, now=FIXED_NOW)
    assert run.liveness == "unknown"
    steps = read_run(path, "s1", now=FIXED_NOW).steps
    assert [s.derived_status for s in steps] == ["unknown", "skipped"]
    assert run.counts.unknown == 1 and run.counts.skipped == 1


def test_version_is_informational_goose_table_or_not(tmp_path):
    import sqlite3

    from ledger_core import formats
    from ledger_core.ledgers.access import snapshot

    path = _store(tmp_path, [SENT])
    described = snapshot(path, lambda conn: formats.describe(conn, path))
    assert described["format"] == "agent-orchestrator" and described["version"] == "goose 3, outbox"
    assert described["notes"] == []
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE goose_db_version")
    conn.commit()
    conn.close()
    described = snapshot(path, lambda conn: formats.describe(conn, path))
    assert described["version"] == "goose ?, outbox"  # missing: still read, said unknown
    (run,) = read_summaries(path, now=FIXED_NOW)
    assert run.counts.committed == 1
