"""reader: scanning sources, resolving run ids, reading whole runs and pages (runner-written)."""

from __future__ import annotations

import socket
import sqlite3
from pathlib import Path

import pytest
from conftest import FIXED_NOW, sample_runs
from ledger_factory import DEAD_PID, RunSpec, StepSpec, make_ledger, make_ledger_dir

from ledger_core import (
    AmbiguousRunId,
    RunNotFound,
    Sources,
    load_run,
    read_run,
    read_steps_page,
    resolve_run,
    scan,
)
from ledger_core.ledgers.reader import read_attempts, read_summaries
from ledger_core.ledgers.schema import ROLLBACK_DDL
from ledger_core.ledgers.sources import ledger_files

RUN_KEYS = {
    "run_id",
    "source",
    "state",
    "stamped_state",
    "liveness",
    "started_at",
    "finished_at",
    "profile",
    "environment",
    "company",
    "manifest_path",
    "step_count",
    "counts",
    "diagnosis",
}
STEP_KEYS = {
    "step_id",
    "seq",
    "method",
    "url",
    "body_hash",
    "intent_ts",
    "outcome_ts",
    "status",
    "derived_status",
    "latency_ms",
    "bc_correlation_id",
    "error_message",
    "rollback_url",
}


def test_scan_lists_runs_newest_first_with_derived_state(ledger_dir):
    result = scan(Sources((ledger_dir,)), now=FIXED_NOW)
    assert not result.problems and len(result.files_ok) == 4
    assert [(r.run_id, r.state, r.stamped_state) for r in result.runs] == [
        ("r-partial-0004", "partially_committed", "partially_committed"),
        ("r-crash-0003", "partially_committed", "running"),
        ("r-fail-0002", "failed", "running"),
        ("r-done-0001", "completed", "completed"),
    ]
    crash = result.runs[1]
    assert crash.stamp_mismatch and crash.counts.in_doubt == 1 and crash.step_count == 3
    # The runner records no writer: an hour of silence is all ledgerx can go on.
    assert crash.writer is None and crash.liveness == "stale"
    assert result.runs[0].liveness == "finished"


def test_one_file_holding_many_runs_beside_per_run_files(tmp_path):
    many = make_ledger(tmp_path / "all-runs.sqlite", sample_runs())
    directory = tmp_path / "dir"
    make_ledger_dir(directory, [RunSpec("r-solo", started_at="2026-05-17T09:30:00Z")])
    result = scan(Sources((directory,), (many,)), now=FIXED_NOW)
    assert [r.run_id for r in result.runs][:2] == ["r-solo", "r-partial-0004"]
    assert len(result.runs) == 5
    assert {r.source for r in result.runs} == {str(many), str(directory / "r-solo.db")}
    by_id = {r.run_id: r for r in result.runs}
    # Per-run aggregates do not bleed between runs sharing a file.
    assert by_id["r-crash-0003"].counts.committed == 2
    assert by_id["r-fail-0002"].counts.failed == 2


def test_runs_without_a_start_sort_last(tmp_path):
    path = make_ledger(
        tmp_path / "a.db",
        [
            RunSpec("r-none", started_at=None),
            RunSpec("r-old", started_at="2020-01-01T00:00:00Z"),
            RunSpec("r-new", started_at="2026-01-01T00:00:00Z"),
            RunSpec("r-odd", started_at="not a time"),
        ],
    )
    ids = [r.run_id for r in scan(Sources((), (path,)), now=FIXED_NOW).runs]
    assert ids[:2] == ["r-new", "r-old"] and set(ids[2:]) == {"r-none", "r-odd"}


def test_ledger_files_picks_ledgers_and_skips_sidecars(tmp_path):
    for name in ("a.db", "b.sqlite", "c.sqlite3", "a.db-wal", "a.db-shm", "a.db-journal"):
        (tmp_path / name).write_bytes(b"")
    for name in (".hidden.db", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    explicit = tmp_path / "ledger.bin"
    explicit.write_bytes(b"")
    files, errors = ledger_files(Sources((tmp_path,), (explicit, tmp_path / "a.db")))
    assert [p.name for p in files] == ["a.db", "b.sqlite", "c.sqlite3", "ledger.bin"]
    assert errors == []


def test_default_sources(monkeypatch, tmp_path):
    monkeypatch.setenv("LEDGERX_LEDGER_DIR", str(tmp_path))
    assert Sources.from_args() == Sources((tmp_path,), ())
    monkeypatch.delenv("LEDGERX_LEDGER_DIR")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert Sources.from_args().dirs == (tmp_path / ".config" / "bcli" / "batch",)
    # Absolute, so a plan or an export made here names the same file from anywhere.
    assert Sources.from_args(files=["x.db"]) == Sources((), (Path.cwd() / "x.db",))


def test_resolve_run_exact_prefix_ambiguous_missing(tmp_path):
    path = make_ledger(
        tmp_path / "a.db", [RunSpec("abc"), RunSpec("abcd"), RunSpec("abx"), RunSpec("zz")]
    )
    runs = scan(Sources((), (path,)), now=FIXED_NOW).runs
    assert resolve_run(runs, "abc").run_id == "abc"  # an exact id beats longer ids it prefixes
    assert resolve_run(runs, "abcd").run_id == "abcd"
    assert resolve_run(runs, "z").run_id == "zz"
    with pytest.raises(AmbiguousRunId) as info:
        resolve_run(runs, "ab")
    assert sorted(info.value.candidates) == ["abc", "abcd", "abx"]
    assert "3 runs" in str(info.value)
    with pytest.raises(RunNotFound):
        resolve_run(runs, "q")
    with pytest.raises((RunNotFound, AmbiguousRunId)):
        resolve_run(runs, "")


def test_same_run_id_in_two_files_is_ambiguous(tmp_path):
    make_ledger(tmp_path / "one.db", [RunSpec("dup")])
    make_ledger(tmp_path / "two.db", [RunSpec("dup")])
    runs = scan(Sources((tmp_path,)), now=FIXED_NOW).runs
    with pytest.raises(AmbiguousRunId) as info:
        resolve_run(runs, "dup")
    assert "one.db" in str(info.value) and "two.db" in str(info.value)


def test_read_run_orders_steps_and_matches_spec_shapes(tmp_path):
    steps = [StepSpec.committed(3), StepSpec.failed(1), StepSpec.in_doubt(2)]
    path = make_ledger(tmp_path / "a.db", [RunSpec("r1", steps=steps), RunSpec("r2")])
    detail = read_run(path, "r1", now=FIXED_NOW)
    assert [s.seq for s in detail.steps] == [1, 2, 3]
    assert [s.derived_status for s in detail.steps] == ["failed", "in_doubt", "committed"]
    assert detail.steps[2].latency_ms == 250.0
    data = detail.to_dict()
    assert set(data) >= RUN_KEYS
    assert set(data["counts"]) >= {"committed", "failed", "in_doubt", "rolled_back"}
    assert all(set(s) >= STEP_KEYS for s in data["steps"])
    assert data["rollback_attempts"] == []
    with pytest.raises(RunNotFound):
        read_run(path, "r3", now=FIXED_NOW)


def test_read_steps_page(tmp_path):
    path = make_ledger(
        tmp_path / "a.db", [RunSpec("r1", steps=[StepSpec.committed(i) for i in range(1, 26)])]
    )
    assert [s.seq for s in read_steps_page(path, "r1", 0, 10)] == list(range(1, 11))
    assert [s.seq for s in read_steps_page(path, "r1", 20, 10)] == list(range(21, 26))
    assert read_steps_page(path, "r1", 30, 10) == []
    assert read_steps_page(path, "nope", 0, 10) == []


def test_load_run_by_prefix(ledger_dir):
    detail = load_run(Sources((ledger_dir,)), "r-cr", now=FIXED_NOW)
    assert detail.summary.run_id == "r-crash-0003" and len(detail.steps) == 3


def test_rollback_attempts_are_read(tmp_path):
    path = make_ledger(
        tmp_path / "a.db",
        [RunSpec("r1", steps=[StepSpec.committed(1), StepSpec.committed(2)])],
    )
    conn = sqlite3.connect(path)
    conn.executescript(ROLLBACK_DDL)
    conn.executemany(
        "INSERT INTO rollback_attempt (run_id, step_id, method, url, intent_ts, outcome_ts, "
        "http_status, result) VALUES ('r1', ?, 'DELETE', ?, '2026-05-17T09:10:00Z', ?, ?, ?)",
        [
            (2, "https://x.test/o(2)", "2026-05-17T09:10:01Z", 204, "rolled_back"),
            (1, "https://x.test/o(1)", None, None, None),
        ],
    )
    conn.execute("UPDATE step SET status = 'rolled_back' WHERE step_id = 2")
    conn.commit()
    conn.close()
    detail = read_run(path, "r1", now=FIXED_NOW)
    assert [(a.step_id, a.result, a.in_doubt) for a in detail.attempts] == [
        (2, "rolled_back", False),
        (1, None, True),
    ]
    assert detail.attempts_for(1)[0].url == "https://x.test/o(1)"
    assert read_attempts(path, "r1") == list(detail.attempts)
    assert detail.to_dict()["rollback_attempts"][1]["in_doubt"] is True
    assert detail.summary.counts.rolled_back == 1


def test_writer_table_gives_liveness(tmp_path):
    host = socket.gethostname()
    recent = "2026-05-17T09:59:30Z"
    run = RunSpec("r-w", started_at=recent, steps=[StepSpec.in_doubt(1, intent_ts=recent)])
    path = make_ledger(tmp_path / "a.db", [run], writers=[("r-w", DEAD_PID, host)])
    (summary,) = read_summaries(path, now=FIXED_NOW)
    assert summary.writer is not None and summary.writer.pid == DEAD_PID
    assert summary.liveness == "dead"
    assert "step 1 (POST" in summary.diagnosis[0]
    other = make_ledger(tmp_path / "b.db", [run], writers=[("r-w", DEAD_PID, "elsewhere")])
    # A pid on another host cannot be checked from here.
    assert read_summaries(other, now=FIXED_NOW)[0].liveness == "unknown"


def test_stale_after_is_configurable(tmp_path):
    ten_min_ago = "2026-05-17T09:50:00Z"
    path = make_ledger(tmp_path / "a.db", [RunSpec("r1", started_at=ten_min_ago)])
    assert read_summaries(path, now=FIXED_NOW, stale_after=300)[0].liveness == "stale"
    assert read_summaries(path, now=FIXED_NOW, stale_after=3600)[0].liveness == "unknown"
