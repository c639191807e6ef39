"""Rollback refuses while another process holds the ledger open, whatever the timestamps say.

The liveness probe (``ledger_core.ledgers.holders``: another process's read lock on the ``-shm``
file) makes such a run ``alive``; these tests hold a ledger open from a real second process. They
run once that probe is part of ``ledger_core``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from ledger_factory import dir_state
from rollback_servers import RUN_ID, rollback_ledger, write_profiles

from ledger_core.demo.api import DemoApi
from ledger_core.errors import RollbackRefused
from ledger_core.ledgers.reader import read_run
from ledger_core.rollback import executor as rollback

pytest.importorskip("ledger_core.ledgers.holders", reason="the -shm holder probe is not merged yet")

HOLD_OPEN = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA journal_mode=WAL")
conn.execute("SELECT COUNT(*) FROM step").fetchone()
print("open", flush=True)
sys.stdin.readline()  # hold the ledger open until told to stop
conn.close()
"""


def _data(directory: Path) -> dict[str, bytes]:
    # The -shm file is SQLite's shared lock index (readers mark it), not ledger data.
    return {k: v for k, v in dir_state(directory).items() if not k.endswith("-shm")}


@pytest.fixture
def api():
    with DemoApi() as server:
        yield server


async def test_a_ledger_held_open_by_another_process_is_refused(tmp_path: Path, api):
    path = tmp_path / "ledgers" / f"{RUN_ID}.db"
    path.parent.mkdir()
    rollback_ledger(path, api, 2, finished=False)  # old timestamps: "stale" by the clock
    profiles = write_profiles(tmp_path / "p.toml", api.base_url)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_OPEN, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        plan = rollback.preview(read_run(path, RUN_ID), profiles)
        assert plan.refusal_code == "run_alive", plan.refusal
        before = _data(path.parent)
        with pytest.raises(RollbackRefused) as info:
            await rollback.execute(plan, profiles)
        assert info.value.code == "run_alive"
        assert api.connections == 0 and _data(path.parent) == before
    finally:
        holder.communicate("\n", timeout=30)
    # Once the other process let go, the same run can be rolled back.
    plan = rollback.preview(read_run(path, RUN_ID), profiles)
    assert plan.refusal is None, plan.refusal
    result = await rollback.execute(plan, profiles)
    assert result.ok and api.connections > 0


# A runner in locking_mode=EXCLUSIVE: WAL with no -shm, the database file locked while open.
HOLD_EXCLUSIVE = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA locking_mode=EXCLUSIVE")
conn.execute("PRAGMA journal_mode=WAL")
conn.execute("SELECT COUNT(*) FROM step").fetchone()  # WAL without a -shm locks the file
print("open", flush=True)
sys.stdin.readline()
conn.close()
"""


def _start(code: str, path: Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "open"
    return proc


async def test_an_exclusive_mode_writer_without_a_shm_is_refused_as_alive(tmp_path: Path, api):
    path = tmp_path / "ledgers" / f"{RUN_ID}.db"
    path.parent.mkdir()
    rollback_ledger(path, api, 2, finished=False)
    profiles = write_profiles(tmp_path / "p.toml", api.base_url)
    holder = _start(HOLD_EXCLUSIVE, path)
    try:
        assert not Path(f"{path}-shm").exists()
        detail = read_run(path, RUN_ID)
        assert detail.summary.liveness == "alive", detail.summary.liveness_reason
        assert f"pid {holder.pid}" in detail.summary.liveness_reason
        plan = rollback.preview(detail, profiles)
        assert plan.refusal_code == "run_alive", plan.refusal
        before = dir_state(path.parent)
        with pytest.raises(RollbackRefused) as info:
            await rollback.execute(plan, profiles)
        assert info.value.code == "run_alive"
        assert api.connections == 0 and dir_state(path.parent) == before
    finally:
        holder.communicate("\n", timeout=30)


async def test_a_hard_link_to_a_live_ledger_is_refused_as_alive(tmp_path: Path, api):
    (tmp_path / "runner").mkdir()
    (tmp_path / "copy").mkdir()
    original = tmp_path / "runner" / f"{RUN_ID}.db"
    rollback_ledger(original, api, 2, finished=False)
    link = tmp_path / "copy" / f"{RUN_ID}.db"
    os.link(original, link)
    profiles = write_profiles(tmp_path / "p.toml", api.base_url)
    holder = _start(HOLD_OPEN, original)
    try:
        detail = read_run(link, RUN_ID)
        assert detail.summary.liveness == "alive", detail.summary.liveness_reason
        assert detail.summary.verdict == "running"
        plan = rollback.preview(detail, profiles)
        assert plan.refusal_code == "run_alive", plan.refusal
        with pytest.raises(RollbackRefused) as info:
            await rollback.execute(plan, profiles)
        assert info.value.code == "run_alive" and api.connections == 0
    finally:
        holder.communicate("\n", timeout=30)


async def test_a_holder_that_locks_the_file_just_before_the_open_is_refused(
    tmp_path: Path, api, monkeypatch
):
    """The runner takes its exclusive lock after the last check and before the executor opens
    the file for writing: a refusal naming it (exit 3), not 'database is locked' (exit 2)."""
    path = tmp_path / "ledgers" / f"{RUN_ID}.db"
    path.parent.mkdir()
    rollback_ledger(path, api, 2, finished=False)
    profiles = write_profiles(tmp_path / "p.toml", api.base_url)
    plan = rollback.preview(read_run(path, RUN_ID), profiles)
    assert plan.refusal is None, plan.refusal
    started: list[subprocess.Popen] = []
    real_open = rollback.open_readwrite

    def runner_starts_first(*args, **kwargs):
        started.append(_start(HOLD_EXCLUSIVE, path))
        return real_open(*args, **kwargs)

    monkeypatch.setattr(rollback, "open_readwrite", runner_starts_first)
    monkeypatch.setattr(rollback, "_BUSY_TIMEOUT", 0.2)
    try:
        with pytest.raises(RollbackRefused) as info:
            await rollback.execute(plan, profiles)
        assert info.value.code == "run_alive", info.value.reason
        assert f"pid {started[0].pid}" in info.value.reason
        assert api.connections == 0
    finally:
        for proc in started:
            proc.communicate("\n", timeout=30)
