"""Crash realism: a real writer process SIGKILLed mid-run, and reads beside a live writer."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

from ledger_core import Sources, read_run, scan
from ledger_core.ledgers.reader import read_summaries

REPO = Path(__file__).resolve().parents[2]
URL = "https://api.example.test/v2.0/companies(1)/salesOrders"

# The writer: does the steps it is told, says "ready", then waits to be killed.
WRITER = """
import sys, time
from ledger_core.rollback.writer import LedgerWriter
path, mode = sys.argv[1], sys.argv[2]
w = LedgerWriter(path)
w.start_run("r-crash", profile="sandbox", environment="sandbox", company="CRONUS")
if mode in ("after_intent", "between_steps"):
    s = w.write_intent(seq=1, method="POST", url=sys.argv[3], body_hash="h1")
    w.write_outcome(s, "committed", correlation_id="corr-1", rollback_url=sys.argv[3] + "(1)")
    s = w.write_intent(seq=2, method="POST", url=sys.argv[3], body_hash="h2")
if mode == "between_steps":
    w.write_outcome(s, "committed", correlation_id="corr-2", rollback_url=sys.argv[3] + "(2)")
print("ready", flush=True)
time.sleep(600)
"""


def _kill_writer_at(path: Path, mode: str) -> int:
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), mode, URL],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    return proc.pid


def test_killed_after_an_intent_before_its_outcome(tmp_path):
    path = tmp_path / "run.db"
    pid = _kill_writer_at(path, "after_intent")
    assert Path(f"{path}-wal").exists()  # a real crash: nothing checkpointed or cleaned up
    result = scan(Sources((tmp_path,)))
    assert not result.problems
    (run,) = result.runs
    assert run.stamped_state == "running" and run.finished_at is None
    assert run.state == "partially_committed"  # SPEC §2 rule 4: committed + in doubt
    assert run.liveness == "dead"
    assert run.writer is not None and run.writer.pid == pid
    detail = read_run(path, "r-crash")
    assert [(s.seq, s.derived_status) for s in detail.steps] == [
        (1, "committed"),
        (2, "in_doubt"),
    ]
    assert detail.steps[0].bc_correlation_id == "corr-1"
    assert detail.steps[1].outcome_ts is None and detail.steps[1].status is None
    first = run.diagnosis[0]
    assert f"pid {pid}" in first and "step 2 (POST" in first and "salesOrders" in first
    assert "may have landed" in first


def test_killed_between_steps(tmp_path):
    path = tmp_path / "run.db"
    _kill_writer_at(path, "between_steps")
    (run,) = scan(Sources((tmp_path,))).runs
    assert [s.derived_status for s in read_run(path, "r-crash").steps] == ["committed"] * 2
    # Unfinished, but every recorded step committed: rule 5 says completed.
    assert run.state == "completed" and run.stamped_state == "running"
    assert run.stamp_mismatch and run.liveness == "dead"
    assert run.counts.in_doubt == 0
    assert "after step 2" in run.diagnosis[0] and "without finishing the run" in run.diagnosis[0]
    # No overclaim (SPEC §7): synchronous=NORMAL survives a process crash, not a power loss.
    assert "process crash" in run.diagnosis[0] and "check the server" in run.diagnosis[0]


def test_killed_before_the_first_step(tmp_path):
    path = tmp_path / "run.db"
    _kill_writer_at(path, "before_first_step")
    (run,) = scan(Sources((tmp_path,))).runs
    assert run.step_count == 0 and run.state == "running"  # rule 2: no steps
    assert run.liveness == "dead"
    assert "before recording any step" in run.diagnosis[0]
    assert "process crash" in run.diagnosis[0] and "check the server" in run.diagnosis[0]
    assert read_run(path, "r-crash").steps == ()


LIVE_WRITER = """
import json, os, sys, time
from ledger_core.rollback.writer import LedgerWriter
path, stop = sys.argv[1], sys.argv[2]
worst, seq = 0.0, 0
with LedgerWriter(path, heartbeat_every=0.05) as w:
    w.start_run("r-live", profile="sandbox")
    print("ready", flush=True)
    while not os.path.exists(stop) and seq < 3000:
        seq += 1
        t = time.perf_counter()
        s = w.write_intent(seq=seq, method="POST", url="https://x.test/orders", body_hash="h")
        worst = max(worst, time.perf_counter() - t)
        t = time.perf_counter()
        w.write_outcome(s, "committed", correlation_id=f"c{seq}")
        worst = max(worst, time.perf_counter() - t)
        time.sleep(0.0002)  # pacing only: a real runner waits for HTTP between steps
    wal = os.path.getsize(path + "-wal") if os.path.exists(path + "-wal") else 0
    w.finish_run("completed")
print(json.dumps({"steps": seq, "worst_commit_s": worst, "wal_bytes": wal}), flush=True)
"""


def test_reads_beside_a_live_writer_are_consistent_and_never_block_it(tmp_path):
    path = tmp_path / "live.db"
    stop = tmp_path / "stop"
    proc = subprocess.Popen(
        [sys.executable, "-c", LIVE_WRITER, str(path), str(stop)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    try:
        assert proc.stdout.readline().strip() == "ready"
        seen_counts: list[int] = []
        for i in range(40):
            (summary,) = read_summaries(path)
            c = summary.counts
            # A snapshot never shows a step twice or a committed step without its intent:
            # everything but possibly the newest step has its outcome.
            assert c.in_doubt <= 1 and c.committed + c.in_doubt == c.total
            assert summary.last_seq in (None, c.total)
            assert summary.liveness in ("alive", "finished")
            assert summary.state in ("running", "completed", "partially_committed")
            if i % 3 == 0:
                detail = read_run(path, "r-live")
                seqs = [s.seq for s in detail.steps]
                assert seqs == list(range(1, len(seqs) + 1))
                doubt = [s.seq for s in detail.steps if s.derived_status == "in_doubt"]
                assert doubt in ([], [len(seqs)])
                assert len(seqs) >= c.total  # later snapshots never go back in time
            seen_counts.append(c.total)
        assert seen_counts == sorted(seen_counts)
        assert len(set(seen_counts)) > 3, "the reads must have overlapped the writes"
    finally:
        stop.touch()
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0
    report = json.loads(out.strip().splitlines()[-1])
    # Shown with -s. wal_bytes is measured, not asserted: a writer committing thousands of
    # times a second beside back-to-back readers rarely finds a moment to restart its WAL.
    print(f"live writer: {report}")
    assert report["worst_commit_s"] < 1.0, report
    (final,) = scan(Sources((tmp_path,))).runs
    assert final.state == "completed" and final.step_count == report["steps"]
    assert final.liveness == "finished"
