"""The run is stamped ``rolled_back`` only over the steps the plan saw, and a locked ledger
mid-rollback stops it cleanly.

A runner that was still at work (seen: a runner stuck on one slow request looked stale) can
commit a step while the rollback runs; stamping over it would bury a committed POST under
"rolled back". Here a real second process appends a step while the first DELETE is in flight.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from rollback_servers import (
    RUN_ID,
    Behaviour,
    RawServer,
    append_step_from_another_process,
    attempt_rows,
    rollback_ledger,
    run_row,
    step_rows,
    write_profiles,
)

from ledger_core.ledgers.reader import read_run
from ledger_core.rollback import executor as rollback


@pytest.fixture
def server():
    with RawServer() as raw:
        yield raw


def _ledger(tmp_path: Path, server: RawServer, n: int = 3) -> Path:
    path = tmp_path / "ledgers" / f"{RUN_ID}.db"
    path.parent.mkdir()
    rollback_ledger(path, server, n, record_ids=[f"r-{i}" for i in range(1, n + 1)])  # type: ignore[arg-type]
    return path


async def test_a_step_added_during_the_rollback_prevents_the_stamp(tmp_path, server):
    path = _ledger(tmp_path, server)
    # When the first DELETE (step 3's) arrives, a second process commits a new step.
    server.on("r-3", Behaviour("answer", hook=lambda: append_step_from_another_process(path)))
    profiles = write_profiles(tmp_path / "p.toml", server.base_url)
    plan = rollback.preview(read_run(path, RUN_ID), profiles)
    result = await rollback.execute(plan, profiles)
    # Every DELETE went through and is recorded ...
    assert [o.result for o in result.outcomes] == ["rolled_back"] * 3
    assert step_rows(path) == {
        1: "rolled_back",
        2: "rolled_back",
        3: "rolled_back",
        99: "committed",
    }
    # ... but the run is not stamped over the new committed step, and the result says why.
    assert result.run_stamped is None and not result.ok
    assert result.not_stamped and "1 step(s) were added" in result.not_stamped
    assert "not stamped rolled_back" in result.not_stamped
    assert run_row(path) == ("completed", "2026-05-17T09:01:00.000000Z")


async def test_without_new_steps_the_run_is_stamped(tmp_path, server):
    path = _ledger(tmp_path, server)
    profiles = write_profiles(tmp_path / "p.toml", server.base_url)
    plan = rollback.preview(read_run(path, RUN_ID), profiles)
    result = await rollback.execute(plan, profiles)
    assert result.ok and result.run_stamped == "rolled_back" and result.not_stamped is None
    assert run_row(path)[0] == "rolled_back"


async def test_a_ledger_locked_while_an_answer_is_recorded_stops_the_rollback(
    tmp_path, server, monkeypatch
):
    monkeypatch.setattr(rollback, "_BUSY_TIMEOUT", 0.2)
    path = _ledger(tmp_path, server)
    holding = threading.Event()
    let_go = threading.Event()

    def hold_write_lock() -> None:
        # Another connection takes the write lock while the DELETE is answered, and keeps it
        # until the rollback has reported that step.
        def hold() -> None:
            conn = sqlite3.connect(path, isolation_level=None)
            conn.execute("BEGIN IMMEDIATE")
            holding.set()
            let_go.wait(30)
            conn.execute("ROLLBACK")
            conn.close()

        threading.Thread(target=hold, daemon=True).start()
        holding.wait(30)

    server.on("r-3", Behaviour("answer", hook=hold_write_lock))
    profiles = write_profiles(tmp_path / "p.toml", server.base_url)
    plan = rollback.preview(read_run(path, RUN_ID), profiles)

    def progress(item: rollback.RollbackProgress) -> None:
        if item.phase == "done":
            let_go.set()

    result = await rollback.execute(plan, profiles, on_progress=progress)
    [doubt] = result.outcomes
    assert doubt.result == "in_doubt" and doubt.http_status == 204
    assert "could not be recorded" in doubt.message and "in doubt" in doubt.message
    assert result.stopped and "stopped there" in result.stopped and not result.ok
    assert len(server.deletes()) == 1  # nothing after the unrecorded answer was sent
    # The ledger keeps that DELETE in doubt: intent, no outcome; the step untouched.
    assert [(a[2], a[4]) for a in attempt_rows(path)] == [(None, None)]
    assert step_rows(path) == {1: "committed", 2: "committed", 3: "committed"}
    # The run's lock was released: a second rollback resumes and re-sends step 3's DELETE.
    again = await rollback.execute(rollback.preview(read_run(path, RUN_ID), profiles), profiles)
    assert again.ok and again.run_stamped == "rolled_back"
    assert sum("r-3" in p for p in server.deletes()) == 2
