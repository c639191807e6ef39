"""Derived state (SPEC §2): run-state rules, step status, liveness and diagnosis sentences."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ledger_factory import DEAD_PID, RunSpec, StepSpec, make_ledger

from ledger_core import Sources, derive, scan
from ledger_core.advice import render_all
from ledger_core.ledgers.reader import read_run, read_summaries
from ledger_core.ledgers.schema import RUN_STATES, STEP_STATUS_SQL
from ledger_core.models import StepCounts, WriterInfo

NOW = 1_779_012_000.0  # 2026-05-17T10:00:00Z
HOST = socket.gethostname()

# -- an independent, plainly written transcription of SPEC §2 --------------------------------

RUNNER_STATUSES = {
    "committed",
    "failed",
    "skipped",
    "rolled_back",
    "rollback_skipped",
    "rollback_failed",
}


def spec_run_state(stamped, finished_at, steps):
    """SPEC §2 rules 1-7, read literally, over ``steps`` = [(status, outcome_ts), ...].

    "In doubt" is an intent without any recorded outcome (no status, no outcome time); like
    the seed runner, a status it does not define (e.g. ``unknown``) is just as doubtful.
    """
    # 1. finished_at set and state stamped -> the stamp
    if finished_at is not None and stamped is not None:
        return stamped
    # 2. no steps -> running
    if len(steps) == 0:
        return "running"
    statuses = [status for status, _ in steps]
    # 3. every step rolled_back / rollback_skipped -> rolled_back
    if all(s in ("rolled_back", "rollback_skipped") for s in statuses):
        return "rolled_back"
    any_committed = any(s == "committed" for s in statuses)
    any_failed = any(s == "failed" for s in statuses)
    any_doubt = any(s is None and o is None for s, o in steps) or any(
        s not in RUNNER_STATUSES for s in statuses
    )
    # 4. any committed and (any failed or any in doubt) -> partially_committed
    if any_committed and (any_failed or any_doubt):
        return "partially_committed"
    # 5. all committed -> completed
    if all(s == "committed" for s in statuses):
        return "completed"
    # 6. all failed -> failed
    if all(s == "failed" for s in statuses):
        return "failed"
    # 7. otherwise -> running
    return "running"


# -- strategies ----------------------------------------------------------------------------

TS = "2026-05-17T09:00:00.000000Z"
# Hand-written ledgers hold anything in a TEXT column, BLOBs included.
statuses = st.sampled_from(
    [None, "unknown", "COMMITTED", "", " committed", "weird", b"committed", b"rolled_back"]
    + sorted(RUNNER_STATUSES)
)
outcomes = st.sampled_from([None, TS, "", "not a time"])
steps_st = st.lists(st.tuples(statuses, outcomes), max_size=8)
runs_st = st.lists(
    st.tuples(
        st.sampled_from([None, *RUN_STATES]),  # stamped (the runner's CHECK allows these)
        st.sampled_from([None, TS, ""]),  # finished_at
        steps_st,
    ),
    min_size=1,
    max_size=3,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(runs=runs_st)
def test_run_state_matches_spec_through_a_real_file(runs):
    """derive.run_state over SQL aggregates of a real SQLite file == the plain transcription."""
    specs = [
        RunSpec(
            f"run-{i}",
            state=stamped,
            finished_at=finished,
            steps=[
                StepSpec(seq, status=status, outcome_ts=outcome)
                for seq, (status, outcome) in enumerate(steps, 1)
            ],
        )
        for i, (stamped, finished, steps) in enumerate(runs)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        path = make_ledger(Path(tmp) / "prop.db", specs)
        summaries = {s.run_id: s for s in read_summaries(path, now=NOW)}
        assert len(summaries) == len(runs)
        # scan (the lists' path, with its cache) agrees with the per-file read.
        scanned = {s.run_id: s for s in scan(Sources((), (path,)), now=NOW).runs}
        assert scanned == summaries
        for i, (stamped, finished, steps) in enumerate(runs):
            got = summaries[f"run-{i}"]
            assert got.state == spec_run_state(stamped, finished, steps), (stamped, steps)
            assert got.counts.total == len(steps)
            # The SQL aggregate and the Python per-step derivation agree on every step.
            detail = read_run(path, f"run-{i}", now=NOW)
            from_rows = StepCounts(
                **{
                    name: sum(1 for s in detail.steps if s.derived_status == name)
                    for name in StepCounts.__dataclass_fields__
                }
            )
            assert from_rows == got.counts


# -- STEP_STATUS_SQL == derive.step_status --------------------------------------------------

_sql_conn = sqlite3.connect(":memory:")


def _sql_status(status, outcome_ts):
    return _sql_conn.execute(
        f"SELECT {STEP_STATUS_SQL} FROM (SELECT ? AS status, ? AS outcome_ts)",
        (status, outcome_ts),
    ).fetchone()[0]


odd_text = st.one_of(
    st.none(),
    st.sampled_from(sorted(RUNNER_STATUSES) + ["in_doubt", "unknown", "Committed", "", " "]),
    st.text(max_size=12),
)


@settings(max_examples=400, deadline=None)
@given(status=odd_text, outcome_ts=odd_text)
def test_step_status_sql_equals_python(status, outcome_ts):
    assert _sql_status(status, outcome_ts) == derive.step_status(status, outcome_ts)


@pytest.mark.parametrize(
    ("status", "outcome", "expected"),
    [
        (None, None, "in_doubt"),
        (None, TS, "unknown"),
        ("committed", TS, "committed"),
        ("failed", TS, "failed"),
        ("unknown", TS, "unknown"),
        ("rolled_back", TS, "rolled_back"),
        ("rollback_failed", TS, "rollback_failed"),
        ("COMMITTED", TS, "unknown"),
    ],
)
def test_step_status_examples(status, outcome, expected):
    assert derive.step_status(status, outcome) == expected
    assert _sql_status(status, outcome) == expected


@pytest.mark.parametrize(
    ("stamped", "finished", "counts", "expected"),
    [
        ("completed", TS, StepCounts(in_doubt=3), "completed"),  # rule 1: the stamp wins
        ("completed", None, StepCounts(in_doubt=1, committed=1), "partially_committed"),
        (None, TS, StepCounts(committed=2), "completed"),  # finished but no stamp: derive
        ("running", None, StepCounts(), "running"),
        (None, None, StepCounts(rolled_back=1, rollback_skipped=2), "rolled_back"),
        (None, None, StepCounts(committed=1, failed=1), "partially_committed"),
        (None, None, StepCounts(committed=1, unknown=1), "partially_committed"),
        (None, None, StepCounts(committed=4), "completed"),
        (None, None, StepCounts(failed=4), "failed"),
        (None, None, StepCounts(in_doubt=1), "running"),
        (None, None, StepCounts(committed=1, skipped=1), "running"),
        (None, None, StepCounts(rolled_back=1, committed=1), "running"),
    ],
)
def test_run_state_examples(stamped, finished, counts, expected):
    assert derive.run_state(stamped, finished, counts) == expected


# -- liveness -------------------------------------------------------------------------------


def _writer(pid, host=HOST, closed=None, proc_start=None):
    return WriterInfo(pid, host, proc_start, TS, TS, closed)


RECENT = "2026-05-17T09:59:00Z"  # one minute before NOW
OLD = "2026-05-17T09:00:00Z"  # an hour before NOW


def test_liveness_finished_wins():
    assert derive.liveness(finished=True, writer=None, last_activity=None, now=NOW) == "finished"


def test_liveness_dead_pid_on_this_host_is_dead_even_when_recent():
    live = derive.liveness(
        finished=False, writer=_writer(DEAD_PID), last_activity=RECENT, now=NOW, this_host=HOST
    )
    assert live == "dead"


def test_liveness_running_writer_pid_is_alive_however_quiet():
    """A recorded writer whose process still runs is alive: quiet is not gone (issue 8)."""
    me = _writer(os.getpid(), proc_start=derive.process_identity()[2])
    kw = dict(finished=False, writer=me, now=NOW, this_host=HOST)
    assert derive.liveness(last_activity=RECENT, **kw) == "alive"
    assert derive.liveness(last_activity=OLD, **kw) == "alive"


def test_liveness_reused_pid_is_dead():
    """Same pid, different kernel start time: another process took the pid."""
    me = _writer(os.getpid(), proc_start="1")
    assert derive.liveness(finished=False, writer=me, last_activity=RECENT, now=NOW) == "dead"


def test_liveness_closed_writer_is_dead():
    me = _writer(os.getpid(), closed=RECENT)
    assert derive.liveness(finished=False, writer=me, last_activity=RECENT, now=NOW) == "dead"


def test_liveness_without_checkable_writer():
    kw = dict(finished=False, now=NOW, this_host=HOST)
    assert derive.liveness(writer=None, last_activity=RECENT, **kw) == "unknown"
    assert derive.liveness(writer=None, last_activity=OLD, **kw) == "stale"
    assert derive.liveness(writer=None, last_activity="garbage", **kw) == "stale"
    other = _writer(os.getpid(), host="some-other-host")
    assert derive.liveness(writer=other, last_activity=RECENT, **kw) == "unknown"


def test_zombie_writer_is_not_alive():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    # Not reaped yet: wait for it to exit without reaping, so it is a zombie.
    os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)
    try:
        assert not derive.pid_alive(child.pid, None)
    finally:
        child.wait()


# -- diagnosis ------------------------------------------------------------------------------


def _diagnose(**kw):
    base = dict(
        state="running",
        stamped="running",
        finished_at=None,
        counts=StepCounts(),
        liveness_value="stale",
        writer=None,
        last_activity=OLD,
        doubtful=(),
        first_failure=None,
        now=NOW,
    )
    return derive.diagnose(**(base | kw))


def test_diagnosis_dead_writer_names_the_in_doubt_step_without_overclaiming():
    step = derive.StepBrief(7, "POST", "https://x.test/v2/companies(1)/salesOrders", "in_doubt")
    text = " ".join(
        _diagnose(
            state="partially_committed",
            counts=StepCounts(committed=6, in_doubt=1),
            liveness_value="dead",
            writer=_writer(DEAD_PID),
            doubtful=(step,),
        )
    )
    assert "step 7 (POST" in text and "salesOrders" in text
    assert "may have landed" in text
    assert "has landed" not in text and "did land" not in text  # SPEC §7: do not overclaim


def test_diagnosis_stale_stamp_says_how_long():
    text = " ".join(_diagnose(liveness_value="stale", last_activity="2026-05-17T07:00:00Z"))
    assert "stamped running" in text and "3h 00m" in text


def test_diagnosis_completed_stamp_with_a_missing_outcome():
    step = derive.StepBrief(4, "POST", "https://x.test/a", "in_doubt")
    text = " ".join(
        _diagnose(
            state="completed",
            stamped="completed",
            finished_at=TS,
            counts=StepCounts(committed=3, in_doubt=1),
            liveness_value="finished",
            doubtful=(step,),
        )
    )
    assert "stamped completed but step 4" in text and "has no outcome" in text


def test_diagnosis_partial_names_first_failure_and_rollback_hint():
    failure = derive.StepBrief(2, "POST", "https://x.test/a", "failed", None, "HTTP 400: nope")
    text = " ".join(
        _diagnose(
            state="partially_committed",
            stamped="partially_committed",
            finished_at=TS,
            counts=StepCounts(committed=1, failed=1),
            liveness_value="finished",
            first_failure=failure,
        )
    )
    assert "step 2" in text and "HTTP 400: nope" in text
    # The advice is data, worded per surface, with the real run id (no literal RUN).
    advice = derive.advise(
        run_id="r-42 x", state="partially_committed", counts=StepCounts(committed=1, failed=1)
    )
    cli = " ".join(render_all(advice, "cli"))
    tui = " ".join(render_all(advice, "tui"))
    assert "`ledgerx rollback 'r-42 x' --dry-run`" in cli and "RUN" not in cli
    assert "press r" in tui and "ledgerx" not in tui and "--dry-run" not in tui


def test_diagnosis_for_a_clean_completed_run_is_empty():
    assert (
        _diagnose(
            state="completed",
            stamped="completed",
            finished_at=TS,
            counts=StepCounts(committed=3),
            liveness_value="finished",
        )
        == ()
    )


def test_latency():
    assert derive.latency_ms("2026-05-17T09:00:00Z", "2026-05-17T09:00:01.5Z") == 1500.0
    assert derive.latency_ms("2026-05-17T09:00:00Z", None) is None
    assert derive.latency_ms("yesterday", "2026-05-17T09:00:01Z") is None
