"""Other formats are read-only in every sense, and a rollback of them is always refused."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXED_NOW, REPO
from format_factories import make_ao, make_cr, make_events
from ledger_factory import dir_state
from rollback_servers import write_profiles

from ledger_core import formats
from ledger_core.demo.api import DemoApi
from ledger_core.errors import RollbackRefused
from ledger_core.ledgers.reader import read_run, read_steps_page, scan
from ledger_core.ledgers.sources import Sources
from ledger_core.rollback import executor as rollback
from ledger_core.rollback.plan import Plan

FORMATS = ("cr", "agent-orchestrator", "event-ledger")


def _make(fmt: str, path: Path) -> str:
    """A ledger of ``fmt`` with one run that has a committed step; returns the run id."""
    if fmt == "cr":
        make_cr(
            path,
            [{"run_id": "r1", "profile": "sandbox"}],
            [
                {
                    "action_id": "a",
                    "run_id": "r1",
                    "status": "posted",
                    "posted_at": "2026-05-17T09:00:00Z",
                }
            ],
        )
    elif fmt == "agent-orchestrator":
        make_ao(path, [{"id": "r1", "kind": "sandbox"}], [{"session_id": "r1"}],
                outbox=[{"change_log_seq": 1, "sent": 1, "attempts": 1}])  # fmt: skip
    else:
        make_events(path, [{"run_id": "r1", "kind": "run.started"}])
    return "r1"


def _mtimes(directory: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in directory.iterdir()}


@pytest.mark.parametrize("fmt", FORMATS)
def test_reading_changes_nothing(tmp_path, fmt):
    ledgers = tmp_path / "ledgers"
    ledgers.mkdir()
    run_id = _make(fmt, ledgers / "x.db")
    before, mtimes = dir_state(ledgers), _mtimes(ledgers)
    result = scan(Sources((ledgers,)), now=FIXED_NOW)
    assert [r.format for r in result.runs] == [fmt]
    read_run(ledgers / "x.db", run_id, now=FIXED_NOW)
    read_steps_page(ledgers / "x.db", run_id, 0, 10)
    assert dir_state(ledgers) == before and _mtimes(ledgers) == mtimes


@pytest.mark.parametrize("fmt", FORMATS)
async def test_rollback_refused_and_nothing_written(tmp_path, fmt):
    ledgers = tmp_path / "ledgers"
    ledgers.mkdir()
    path = ledgers / "x.db"
    run_id = _make(fmt, path)
    with DemoApi() as api:
        profiles = write_profiles(tmp_path / "p.toml", api.base_url)
        before = dir_state(ledgers)
        plan = rollback.preview(read_run(path, run_id, now=FIXED_NOW), profiles)
        assert plan.refusal_code == "no_rollback_for_format" and plan.deletes == []
        assert plan.refusal.startswith("no rollback for this format")
        assert formats.by_name(fmt).capabilities.no_rollback_reason in plan.refusal
        with pytest.raises(RollbackRefused) as info:
            await rollback.execute(plan, profiles)
        assert info.value.code == "no_rollback_for_format"
        # A plan made by hand, not refused, naming this file: refused all the same.
        forged = Plan(run_id, str(path), "sandbox", True, "f" * 64, ())
        with pytest.raises(RollbackRefused) as info:
            await rollback.execute(forged, profiles)
        assert info.value.code == "no_rollback_for_format"
        assert api.connections == 0 and api.requests == []
    assert dir_state(ledgers) == before


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_live_writer_beside_the_reader(tmp_path, fmt):
    ledgers = tmp_path / "ledgers"
    ledgers.mkdir()
    path = ledgers / "live.db"
    writer = subprocess.Popen(
        [sys.executable, str(REPO / "tests" / "format_writers.py"), fmt, str(path), "400"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout.readline().strip() == "ready"
        seen = []
        while writer.poll() is None:
            result = scan(Sources((ledgers,)), now=FIXED_NOW)
            assert result.problems == []
            seen.append(result.runs[0].counts.committed)
            read_run(path, "live", now=FIXED_NOW)
        assert writer.wait(timeout=60) == 0
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
    final = scan(Sources((ledgers,)), now=FIXED_NOW).runs[0]
    assert final.counts.committed >= 400 and seen == sorted(seen)
    # Only what the writer itself leaves: the file and, at most, its WAL sidecars.
    assert {p.name for p in ledgers.iterdir()} <= {"live.db", "live.db-wal", "live.db-shm"}
    assert not any(n.startswith(".") for n in os.listdir(ledgers))


RECENT, OLD = "2026-05-17T09:59:30Z", "2026-05-17T08:00:00Z"  # beside FIXED_NOW (10:00)


def _two_runs(fmt: str, path: Path) -> None:
    """One file, two unfinished runs: ``busy`` (recent heartbeat / activity / event) and
    ``quiet`` (the same evidence two hours old)."""
    if fmt == "cr":
        make_cr(
            path,
            [{"run_id": "busy", "heartbeat_at": RECENT}, {"run_id": "quiet", "heartbeat_at": OLD}],
            [],
        )
    elif fmt == "agent-orchestrator":
        make_ao(
            path,
            [{"id": "busy", "activity_last_at": RECENT}, {"id": "quiet", "activity_last_at": OLD}],
            [{"session_id": "busy"}, {"session_id": "quiet"}],
        )
    else:
        make_events(
            path,
            [
                {"run_id": "quiet", "kind": "run.started", "created_at": OLD},
                {"run_id": "busy", "kind": "run.started", "created_at": RECENT},
            ],
        )


# A real writer: opens the file in WAL mode, writes, and keeps its connection (its locks) open.
_WRITER = (
    "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
    "c.execute('PRAGMA journal_mode=WAL'); c.execute('CREATE TABLE IF NOT EXISTS w (x)'); "
    "c.execute('INSERT INTO w VALUES (1)'); print('open', flush=True); sys.stdin.read()"
)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_holder_of_a_shared_file_does_not_revive_a_quiet_run(tmp_path, fmt):
    """A process holding a file that keeps many runs proves the file is open, not which run
    it writes: the quiet run stays stale (its verdict is not "running"), the busy one is
    alive, and the quiet one's reason names the holder and says why it proves nothing."""
    path = tmp_path / "shared.db"
    _two_runs(fmt, path)
    holder = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        runs = {r.run_id: r for r in scan(Sources((), (path,)), now=FIXED_NOW).runs}
        quiet, busy = runs["quiet"], runs["busy"]
        assert quiet.liveness == "stale" and quiet.verdict != "running"
        assert f"pid {holder.pid}" in quiet.liveness_reason
        assert "says nothing about this one" in quiet.liveness_reason
        assert busy.liveness == "alive" and busy.verdict == "running"
        assert read_run(path, "quiet", now=FIXED_NOW).summary.liveness == "stale"
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)
    runs = {r.run_id: r for r in scan(Sources((), (path,)), now=FIXED_NOW).runs}
    assert runs["quiet"].liveness == "stale" and "holds" not in runs["quiet"].liveness_reason
