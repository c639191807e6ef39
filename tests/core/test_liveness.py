"""Liveness from open-file locks: a runner stuck on one request is alive, not stale (issue 8)."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from ledger_factory import RunSpec, StepSpec, make_ledger
from rollback_servers import write_profiles

from ledger_core import Sources, scan
from ledger_core.ledgers.reader import read_run, read_summaries
from ledger_core.rollback import executor as rollback
from ledger_core.timeutil import now_iso

# A runner like the seed's: WAL, no writer record, stuck for ever on its next request.
RUNNER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA journal_mode=WAL")
conn.execute("PRAGMA synchronous=NORMAL")
conn.execute("SELECT count(*) FROM step").fetchone()
print("ready", flush=True)
time.sleep(600)  # waiting on one slow request
"""

# 40 minutes ago: far past the 15-minute stale threshold.
OLD = "2026-05-17T09:00:00.000000Z"


def _stuck_ledger(path: Path) -> Path:
    steps = [
        StepSpec.committed(1, intent_ts=OLD, outcome_ts=OLD),
        StepSpec.in_doubt(2, intent_ts=OLD),
    ]
    return make_ledger(path, [RunSpec("r-stuck", started_at=OLD, steps=steps)])


@pytest.fixture
def stuck(tmp_path):
    path = _stuck_ledger(tmp_path / "r-stuck.db")
    script = tmp_path / "bcli_batch.py"
    script.write_text(RUNNER)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(path)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    yield path, proc
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)


def test_a_runner_stuck_for_20_minutes_holding_the_ledger_is_alive(stuck):
    path, proc = stuck
    (run,) = read_summaries(path)  # real clock: the last activity is long past
    assert run.liveness == "alive"
    assert run.verdict == "running"
    assert run.holder is not None and run.holder.pid == proc.pid
    assert "bcli_batch.py" in (run.holder.command or "")
    assert f"pid {proc.pid}" in run.liveness_reason
    assert any(f"pid {proc.pid}" in s for s in run.diagnosis)
    data = run.to_dict()
    assert data["holder"]["pid"] == proc.pid and data["verdict"] == "running"


def test_rollback_preview_refuses_while_the_runner_holds_the_ledger(stuck, tmp_path):
    path, proc = stuck
    profiles = write_profiles(tmp_path / "profiles.toml", "https://api.example.test")
    plan = rollback.preview(read_run(path, "r-stuck"), profiles)
    assert plan.refusal_code == "run_alive"
    assert f"pid {proc.pid}" in (plan.refusal or "") and "bcli_batch.py" in (plan.refusal or "")


def test_after_sigkill_the_same_ledger_is_dead_and_crashed(stuck):
    path, proc = stuck
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert Path(f"{path}-shm").exists()
    (run,) = scan(Sources((path.parent,))).runs
    assert run.liveness == "dead"
    assert "left behind" in run.liveness_reason
    assert run.holder is None
    assert run.verdict == "in_doubt"  # step 2's request may or may not have landed


def test_a_copy_of_a_live_ledger_says_the_original_cannot_be_seen(stuck, tmp_path):
    """Locks cannot tell a copy (its -wal/-shm copied too) from a crash: the words say so."""
    import shutil

    from ledger_factory import dir_state

    path, _proc = stuck
    copy = tmp_path / "copy"
    copy.mkdir()
    for suffix in ("", "-wal", "-shm"):
        shutil.copyfile(f"{path}{suffix}", copy / f"r-stuck.db{suffix}")
    before = dir_state(copy)
    (run,) = read_summaries(copy / "r-stuck.db")
    assert run.liveness == "dead"
    assert "no process on this machine holds this file open" in run.liveness_reason
    assert "if this file is a copy, the original's writer cannot be seen" in run.liveness_reason
    assert dir_state(copy) == before
    (original,) = read_summaries(path)
    assert original.liveness == "alive"


def test_a_quiet_cleanly_closed_ledger_is_stale_with_the_reason(tmp_path):
    path = _stuck_ledger(tmp_path / "quiet.db")  # closed: no -wal, no -shm
    (run,) = read_summaries(path)
    assert run.liveness == "stale"
    assert "no -shm" in run.liveness_reason
    assert any("no -shm" in s for s in run.diagnosis), "stale must never stand alone"


def test_a_recent_unknown_run_says_why(tmp_path):
    step = StepSpec.committed(1, intent_ts=now_iso())
    run_spec = RunSpec("r-new", started_at=now_iso(), steps=[step])
    path = make_ledger(tmp_path / "recent.db", [run_spec])
    (run,) = read_summaries(path)
    assert run.liveness == "unknown"
    assert run.liveness_reason.startswith("cannot tell whether a process holds it")


def test_finished_runs_are_not_probed(tmp_path, monkeypatch):
    from ledger_core.ledgers import holders

    path = make_ledger(
        tmp_path / "done.db",
        [RunSpec("r-done", state="completed", finished_at=OLD, steps=[StepSpec.committed(1)])],
    )
    unfinished = _stuck_ledger(tmp_path / "open.db")
    calls: list[str] = []
    real = holders.check
    monkeypatch.setattr(holders, "check", lambda p: calls.append(str(p)) or real(p))
    (run,) = read_summaries(path)
    assert run.liveness == "finished" and calls == []
    read_summaries(unfinished)
    assert calls == [str(unfinished)]  # the spy does see probes


def test_a_live_in_process_reader_does_not_make_a_run_alive(tmp_path):
    """This process's own connections never count as a holder (they cannot conflict)."""
    path = _stuck_ledger(tmp_path / "mine.db")
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("SELECT 1 FROM run").fetchall()
    try:
        (run,) = read_summaries(path)
        assert run.liveness == "dead"  # -shm present, nobody else holds it
    finally:
        conn.close()
