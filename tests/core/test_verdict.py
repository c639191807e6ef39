"""The verdict: a property test against a plain transcription, and real ledgers (issue 8)."""

from __future__ import annotations

import sqlite3

from hypothesis import given
from hypothesis import strategies as st
from ledger_factory import RunSpec, StepSpec, make_crashed_wal, make_ledger

from ledger_core import derive
from ledger_core.ledgers.reader import read_run, read_summaries
from ledger_core.ledgers.schema import ROLLBACK_DDL, RUN_STATES
from ledger_core.models import STEP_STATUSES, StepCounts
from ledger_core.vocabulary import VERDICTS

LIVENESS = ("alive", "stale", "dead", "unknown", "finished")


def plain_verdict(state, liveness, finished, counts, rollback_in_doubt):
    """README's table, written out plainly, row by row."""
    rows = [
        ("running", liveness == "alive"),
        ("rollback_incomplete", counts.rollback_failed > 0 or rollback_in_doubt > 0),
        ("in_doubt", counts.in_doubt > 0 or counts.unknown > 0),
        (
            "crashed",
            (not finished)
            and liveness in ("dead", "stale")
            and (
                counts.committed > 0
                or counts.rolled_back > 0
                or counts.rollback_failed > 0
                or state == "running"
            ),
        ),
    ]
    for word, applies in rows:
        if applies:
            return word
    return state


counts_strategy = st.builds(StepCounts, *[st.integers(0, 3) for _ in STEP_STATUSES])


@given(
    state=st.sampled_from(RUN_STATES),
    liveness=st.sampled_from(LIVENESS),
    finished=st.booleans(),
    counts=counts_strategy,
    rollback_in_doubt=st.integers(0, 2),
)
def test_verdict_matches_the_plain_transcription(
    state, liveness, finished, counts, rollback_in_doubt
):
    got = derive.verdict(
        state=state,
        liveness=liveness,
        finished=finished,
        counts=counts,
        rollback_in_doubt=rollback_in_doubt,
    )
    assert got == plain_verdict(state, liveness, finished, counts, rollback_in_doubt)
    assert got in VERDICTS


def test_the_issue_cases():
    # A live run whose steps all committed is running, not "completed alive".
    assert (
        derive.verdict(
            state="completed", liveness="alive", finished=False, counts=StepCounts(committed=3)
        )
        == "running"
    )
    # Stamped rolled_back by ledgerx while one DELETE is still in doubt: not plain rolled back.
    assert (
        derive.verdict(
            state="rolled_back",
            liveness="finished",
            finished=True,
            counts=StepCounts(rolled_back=2),
            rollback_in_doubt=1,
        )
        == "rollback_incomplete"
    )
    # A crashed run after a partial rollback: not "running 0/0/0".
    assert (
        derive.verdict(
            state="running",
            liveness="dead",
            finished=False,
            counts=StepCounts(rolled_back=2, skipped=1),
        )
        == "crashed"
    )


def _attempt(conn, run_id, step_id, outcome: bool, result: str | None = None) -> None:
    conn.execute(
        "INSERT INTO rollback_attempt (run_id, step_id, method, url, intent_ts, outcome_ts, "
        "result) VALUES (?, ?, 'DELETE', 'https://x.test/a', '2026-05-17T09:10:00Z', ?, ?)",
        (run_id, step_id, "2026-05-17T09:10:01Z" if outcome else None, result),
    )


def _ledger_with_attempts(path):
    steps = [StepSpec.committed(1), StepSpec.committed(2), StepSpec.committed(3)]
    make_ledger(
        path,
        [
            RunSpec("r-rb", state="rolled_back", finished_at="2026-05-17T09:11:00Z", steps=steps),
            RunSpec("r-ok", state="completed", finished_at="2026-05-17T09:11:00Z", steps=steps),
        ],
    )
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.executescript(ROLLBACK_DDL)
        ids = [r[0] for r in conn.execute("SELECT step_id FROM step WHERE run_id='r-rb'")]
        conn.execute("UPDATE step SET status='rolled_back' WHERE step_id IN (?, ?)", ids[:2])
        _attempt(conn, "r-rb", ids[0], outcome=False)  # in doubt, then retried: resolved
        _attempt(conn, "r-rb", ids[0], outcome=True, result="rolled_back")
        _attempt(conn, "r-rb", ids[1], outcome=True, result="rolled_back")
        _attempt(conn, "r-rb", ids[2], outcome=False)  # in doubt, never resolved
    finally:
        conn.close()
    return path


def test_a_rollback_delete_in_doubt_reads_rollback_incomplete(tmp_path):
    path = _ledger_with_attempts(tmp_path / "rb.db")
    runs = {r.run_id: r for r in read_summaries(path)}
    rb = runs["r-rb"]
    assert rb.rollback_in_doubt == 1  # the resolved one does not count
    assert rb.verdict == "rollback_incomplete"
    assert rb.state == "rolled_back"  # the runner's rules are kept as they are
    assert rb.to_dict()["verdict"] == "rollback_incomplete"
    assert any("rolled_back" in s and "not complete" in s for s in rb.diagnosis)
    assert any("resume" in s and "r-rb" in s for s in rb.sentences("cli"))
    assert runs["r-ok"].verdict == "completed" and runs["r-ok"].rollback_in_doubt == 0
    # The one-run read path agrees.
    assert read_run(path, "r-rb").summary.verdict == "rollback_incomplete"


def test_an_odd_rollback_attempt_table_does_not_hide_the_ledger(tmp_path):
    path = make_ledger(tmp_path / "odd.db", [RunSpec("r1", steps=[StepSpec.committed(1)])])
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("CREATE TABLE rollback_attempt (x)")  # lacks every column the scanner names
    conn.close()
    (run,) = read_summaries(path)
    assert run.run_id == "r1" and run.rollback_in_doubt == 0


def test_a_crashed_run_after_a_partial_rollback_reads_crashed_not_running(tmp_path):
    """Issue 8: it listed as ``running 0/0/0``. A real crash leaves -wal/-shm, no holder."""
    steps = [
        StepSpec(1, status="rolled_back"),
        StepSpec(2, status="rolled_back"),
        StepSpec(3, method="GET", status="skipped"),
    ]
    path = make_crashed_wal(tmp_path / "c.db", [RunSpec("r-c", steps=steps)])
    (run,) = read_summaries(path)
    assert (run.state, run.liveness) == ("running", "dead")
    assert run.verdict == "crashed"


def test_stamped_rolled_back_with_a_step_in_doubt_is_not_rolled_back(tmp_path):
    steps = [StepSpec(1, status="rolled_back"), StepSpec.in_doubt(2)]
    path = make_ledger(
        tmp_path / "r.db",
        [RunSpec("r-rb", state="rolled_back", finished_at="2026-05-17T09:11:00Z", steps=steps)],
    )
    (run,) = read_summaries(path)
    assert run.state == "rolled_back" and run.verdict == "in_doubt"


def test_an_odd_writer_table_keeps_the_rollback_facts(tmp_path):
    path = _ledger_with_attempts(tmp_path / "w.db")
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("CREATE TABLE writer (run_id TEXT)")  # lacks pid, host, …
    conn.close()
    runs = {r.run_id: r for r in read_summaries(path)}
    assert runs["r-rb"].rollback_in_doubt == 1 and runs["r-rb"].verdict == "rollback_incomplete"
