"""A rollback process SIGKILLed between sending a DELETE and recording its outcome; then resume.

Also: two rollbacks of one run at once (from two processes, and within one process) — the
second is refused and sends nothing.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rollback_servers import (
    COMPANY,
    RUN_ID,
    attempt_rows,
    rollback_ledger,
    run_row,
    step_rows,
    write_profiles,
)

from ledger_core.demo.api import DemoApi
from ledger_core.errors import RollbackRefused
from ledger_core.ledgers.access import snapshot
from ledger_core.ledgers.reader import read_run
from ledger_core.rollback import executor as rollback

REPO = Path(__file__).resolve().parents[2]

ROLLBACK_SCRIPT = """
import asyncio, sys
sys.path.insert(0, sys.argv[1])
from ledger_core.rollback import executor as rollback
from ledger_core.rollback.profiles import load_profiles
from ledger_core.ledgers.reader import read_run
profiles = load_profiles(sys.argv[3])
plan = rollback.preview(read_run(sys.argv[2], sys.argv[4]), profiles)
result = asyncio.run(rollback.execute(plan, profiles))
sys.exit(0 if result.ok else 4)
"""


@pytest.fixture
def api():
    with DemoApi() as server:
        yield server


def _start_rollback(path: Path, profiles_path: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", ROLLBACK_SCRIPT, str(REPO), str(path), str(profiles_path), RUN_ID],
        stderr=subprocess.PIPE,
    )


def _wait_gone(api: DemoApi, record_id: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while api.has_record(COMPANY, "customers", record_id):
        assert time.monotonic() < deadline, "the released DELETE never reached the records"
        time.sleep(0.01)


def _lock_rows(path: Path) -> list[tuple]:
    return snapshot(path, lambda c: c.execute("SELECT pid FROM rollback_lock").fetchall())


async def test_sigkill_between_delete_and_outcome_then_resume(tmp_path, api):
    path = tmp_path / f"{RUN_ID}.db"
    ids = rollback_ledger(path, api, 3)
    profiles_path = tmp_path / "profiles.toml"
    profiles = write_profiles(profiles_path, api.base_url)
    api.fault(ids[1], "hang", method="DELETE")  # the second DELETE sent (seq 2)

    proc = _start_rollback(path, profiles_path)
    try:
        await asyncio.to_thread(api.wait_for, "DELETE", ids[1], 20.0)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=20)
    assert proc.returncode == -signal.SIGKILL

    # What the killed process left: seq 3 confirmed, seq 2 in doubt, its lock behind.
    attempts = attempt_rows(path)
    assert [(a[3], a[4]) for a in attempts] == [(204, "rolled_back"), (None, None)]
    assert attempts[1][2] is None  # no outcome: in doubt
    assert step_rows(path) == {1: "committed", 2: "committed", 3: "rolled_back"}
    assert len(_lock_rows(path)) == 1
    detail = read_run(path, RUN_ID)
    assert [a.in_doubt for a in detail.attempts] == [False, True]

    # The DELETE the dead process sent lands after all (the server was only slow).
    api.clear_faults()
    api.release()
    await asyncio.to_thread(_wait_gone, api, ids[1])

    plan = rollback.preview(read_run(path, RUN_ID), profiles)
    assert plan.refusal is None
    assert [a.seq for a in plan.deletes] == [2, 1]
    assert "resume" in plan.deletes[0].reason
    result = await rollback.execute(plan, profiles)
    assert result.ok and result.run_stamped == "rolled_back"
    assert [(o.seq, o.http_status) for o in result.outcomes] == [(2, 404), (1, 204)]
    # Confirmed steps were never sent twice; the in-doubt one was sent again once.
    assert len(api.matching("DELETE", ids[2])) == 1
    assert len(api.matching("DELETE", ids[1])) == 2
    assert len(api.matching("DELETE", ids[0])) == 1
    assert step_rows(path) == {1: "rolled_back", 2: "rolled_back", 3: "rolled_back"}
    assert run_row(path)[0] == "rolled_back"
    assert _lock_rows(path) == []


async def test_second_rollback_from_another_process_is_refused(tmp_path, api):
    path = tmp_path / f"{RUN_ID}.db"
    ids = rollback_ledger(path, api, 3)
    profiles_path = tmp_path / "profiles.toml"
    profiles = write_profiles(profiles_path, api.base_url)
    api.fault(ids[2], "hang", method="DELETE")  # the first DELETE: process A holds the lock

    proc = _start_rollback(path, profiles_path)
    try:
        await asyncio.to_thread(api.wait_for, "DELETE", ids[2], 20.0)
        plan = rollback.preview(read_run(path, RUN_ID), profiles)
        sent_before = len(api.requests)
        with pytest.raises(RollbackRefused) as info:
            await rollback.execute(plan, profiles)
        assert info.value.code == "rollback_in_progress"
        assert str(proc.pid) in info.value.reason
        assert len(api.requests) == sent_before
    finally:
        api.release()
        proc.wait(timeout=20)
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    assert step_rows(path) == {1: "rolled_back", 2: "rolled_back", 3: "rolled_back"}
    assert all(len(api.matching("DELETE", rid)) == 1 for rid in ids)


async def test_second_rollback_in_the_same_process_is_refused(tmp_path, api):
    path = tmp_path / f"{RUN_ID}.db"
    ids = rollback_ledger(path, api, 2)
    profiles = write_profiles(tmp_path / "profiles.toml", api.base_url)
    api.fault(ids[1], "hang", method="DELETE")
    plan = rollback.preview(read_run(path, RUN_ID), profiles)
    first = asyncio.create_task(rollback.execute(plan, profiles))
    try:
        await asyncio.to_thread(api.wait_for, "DELETE", ids[1], 20.0)
        again = rollback.preview(read_run(path, RUN_ID), profiles)
        with pytest.raises(RollbackRefused) as info:
            await rollback.execute(again, profiles)
        assert info.value.code == "rollback_in_progress"
    finally:
        api.release()
    result = await first
    assert result.ok
    assert len(api.matching("DELETE")) == 2
