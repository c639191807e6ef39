"""Executing rollbacks against a real server on 127.0.0.1: every answer and every fault."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from ledger_factory import DEAD_PID, dir_state
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
from ledger_core.ledgers.reader import read_run
from ledger_core.ledgers.schema import ROLLBACK_DDL
from ledger_core.rollback import executor as rollback

TOKEN = "s3cr3t-Tok3n-do-not-leak-4242"


@pytest.fixture
def api():
    with DemoApi() as server:
        yield server


def _ledger(tmp_path: Path, api: DemoApi, n: int = 3, **kw) -> tuple[Path, list[str]]:
    path = tmp_path / "ledgers" / f"{RUN_ID}.db"
    path.parent.mkdir(exist_ok=True)
    return path, rollback_ledger(path, api, n, **kw)


async def _run(path: Path, profiles, progress: list | None = None):
    plan = rollback.preview(read_run(path, RUN_ID), profiles)
    assert plan.refusal is None, plan.refusal
    return await rollback.execute(
        plan, profiles, on_progress=None if progress is None else progress.append
    )


async def test_all_deleted_newest_first_and_run_stamped(tmp_path, api):
    path, ids = _ledger(tmp_path, api, 3)
    profiles = write_profiles(tmp_path / "p.toml", api.base_url)
    progress: list[rollback.RollbackProgress] = []
    result = await _run(path, profiles, progress)
    assert result.ok and result.run_stamped == "rolled_back"
    deletes = api.matching("DELETE")
    assert [r.path.rsplit("(", 1)[1].rstrip(")") for r in deletes] == ids[::-1]
    assert api.records == {}
    assert step_rows(path) == {1: "rolled_back", 2: "rolled_back", 3: "rolled_back"}
    assert [a[3:5] for a in attempt_rows(path)] == [(204, "rolled_back")] * 3
    assert run_row(path)[0] == "rolled_back"
    assert read_run(path, RUN_ID).summary.state == "rolled_back"
    # Progress: "sending" then "done" for each step, counted 1..total.
    assert [(p.phase, p.index, p.total) for p in progress] == [
        ("sending", 1, 3),
        ("done", 1, 3),
        ("sending", 2, 3),
        ("done", 2, 3),
        ("sending", 3, 3),
        ("done", 3, 3),
    ]
    assert [p.seq for p in progress if p.phase == "done"] == [3, 2, 1]
    assert {r.headers.get("Authorization") for r in deletes} == {None}


async def test_404_counts_as_rolled_back(tmp_path, api):
    path, ids = _ledger(tmp_path, api, 2)
    del api.records[(COMPANY, "customers", ids[0])]
    profiles = write_profiles(tmp_path / "p.toml", api.base_url)
    result = await _run(path, profiles)
    assert result.ok
    assert [o.http_status for o in result.outcomes] == [204, 404]
    assert step_rows(path) == {1: "rolled_back", 2: "rolled_back"}
    assert result.run_stamped == "rolled_back"


async def test_500_is_rollback_failed_with_trimmed_sanitised_body(tmp_path, api):
    path, ids = _ledger(tmp_path, api, 3)
    body = "\x1b]8;;http://evil\x07boom\u202e" + "x" * 5000
    api.fault(ids[1], "status", status=500, body=body)
    profiles = write_profiles(tmp_path / "p.toml", api.base_url)
    result = await _run(path, profiles)
    assert not result.ok and len(result.failed) == 1 and len(result.rolled_back) == 2
    assert result.run_stamped is None
    assert step_rows(path) == {1: "rolled_back", 2: "rollback_failed", 3: "rolled_back"}
    failed = [a for a in attempt_rows(path) if a[4] == "rollback_failed"][0]
    assert failed[3] == 500
    error = failed[5]
    assert error.startswith("HTTP 500") and "\x1b" not in error and "\u202e" not in error
    assert "\\x1b" in error and len(error) < 700
    assert run_row(path)[0] == "completed"  # not stamped: a step is still not undone


async def test_307_is_not_followed(tmp_path, api):
    with DemoApi() as elsewhere:
        path, ids = _ledger(tmp_path, api, 2)
        api.fault(ids[0], "redirect", status=307, location=elsewhere.base_url + "/steal")
        profiles = write_profiles(tmp_path / "p.toml", api.base_url)
        result = await _run(path, profiles)
        assert elsewhere.connections == 0
        [failed] = result.failed
        assert failed.http_status == 307 and "not followed" in failed.message
        assert step_rows(path)[1] == "rollback_failed"
        assert len(api.matching("DELETE")) == 2


async def test_slow_server_timeout_leaves_step_in_doubt(tmp_path, api):
    path, ids = _ledger(tmp_path, api, 2)
    api.fault(ids[1], "hang", seconds=None)
    profiles = write_profiles(tmp_path / "p.toml", api.base_url, timeout=0.3)
    try:
        result = await _run(path, profiles)
    finally:
        api.release()
    [doubt] = result.in_doubt
    assert doubt.seq == 2 and doubt.http_status is None and not result.ok
    assert step_rows(path) == {1: "rolled_back", 2: "committed"}  # untouched, never "done"
    attempts = attempt_rows(path)
    assert [(a[2] is None, a[4]) for a in attempts] == [(True, None), (False, "rolled_back")]
    assert result.run_stamped is None
    # The next plan sends it again (the server did delete it once released: 404 = done).
    plan = rollback.preview(read_run(path, RUN_ID), profiles)
    assert [a.seq for a in plan.deletes] == [2] and "resume" in plan.deletes[0].reason


async def test_connection_closed_leaves_step_in_doubt(tmp_path, api):
    path, ids = _ledger(tmp_path, api, 2)
    api.fault(ids[0], "close")
    profiles = write_profiles(tmp_path / "p.toml", api.base_url)
    result = await _run(path, profiles)
    [doubt] = result.in_doubt
    assert doubt.seq == 1 and "connection lost" in doubt.message
    assert step_rows(path) == {1: "committed", 2: "rolled_back"}
    assert attempt_rows(path)[-1][2:5] == (None, None, None)


async def test_server_down_is_failed_not_in_doubt(tmp_path, api):
    path, ids = _ledger(tmp_path, api, 1)
    profiles = write_profiles(tmp_path / "p.toml", api.base_url)
    plan = rollback.preview(read_run(path, RUN_ID), profiles)
    api.stop()
    result = await rollback.execute(plan, profiles)
    [failed] = result.failed
    assert "not sent" in failed.message
    assert step_rows(path) == {1: "rollback_failed"}


async def test_token_sent_as_bearer_and_never_stored_or_shown(tmp_path, api, monkeypatch):
    monkeypatch.setenv("LEDGERX_TEST_TOKEN", TOKEN)
    path, ids = _ledger(tmp_path, api, 2)
    # A hostile server echoes the token back in its error body and a redirect target.
    api.fault(ids[1], "status", status=403, body=f"denied for Bearer {TOKEN}")
    api.fault(ids[0], "redirect", location=f"http://127.0.0.1:1/?t={TOKEN}")
    profiles = write_profiles(tmp_path / "p.toml", api.base_url, token_env="LEDGERX_TEST_TOKEN")
    progress: list = []
    result = await _run(path, profiles, progress)
    assert {r.headers.get("Authorization") for r in api.matching("DELETE")} == {f"Bearer {TOKEN}"}
    shown = repr(result) + repr(progress)
    assert TOKEN not in shown and "[token]" in shown
    for name, data in dir_state(path.parent).items():
        assert TOKEN.encode() not in data, name


async def test_resume_after_partial_run(tmp_path, api):
    path, ids = _ledger(tmp_path, api, 4)
    api.fault(ids[1], "status", status=503, body="try later")
    profiles = write_profiles(tmp_path / "p.toml", api.base_url)
    first = await _run(path, profiles)
    assert len(first.rolled_back) == 3 and len(first.failed) == 1
    api.clear_faults()
    second = await _run(path, profiles)
    assert second.ok and [o.seq for o in second.outcomes] == [2]
    assert second.run_stamped == "rolled_back"
    # Each record was deleted by exactly one successful DELETE; the failed one was retried.
    for index, rid in enumerate(ids):
        assert len(api.matching("DELETE", rid)) == (2 if index == 1 else 1)
    assert step_rows(path) == {i: "rolled_back" for i in range(1, 5)}
    assert run_row(path)[0] == "rolled_back"


async def test_unfinished_crashed_run_gets_finished_at(tmp_path, api):
    path, _ = _ledger(tmp_path, api, 2, finished=False)  # old timestamps, no writer: stale
    assert read_run(path, RUN_ID).summary.liveness == "stale"
    profiles = write_profiles(tmp_path / "p.toml", api.base_url)
    result = await _run(path, profiles)
    assert result.run_stamped == "rolled_back"
    state, finished_at = run_row(path)
    assert state == "rolled_back" and finished_at is not None


async def test_lock_of_dead_process_is_taken_over_and_released(tmp_path, api):
    path, _ = _ledger(tmp_path, api, 2)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(ROLLBACK_DDL)
    conn.execute(
        "INSERT INTO rollback_lock VALUES (?,?,?,NULL,?)",
        (RUN_ID, DEAD_PID, os.uname().nodename, "2026-05-17T09:00:00Z"),
    )
    conn.close()
    profiles = write_profiles(tmp_path / "p.toml", api.base_url)
    result = await _run(path, profiles)
    assert result.ok
    conn = sqlite3.connect(path, isolation_level=None)
    assert conn.execute("SELECT COUNT(*) FROM rollback_lock").fetchone()[0] == 0
    conn.close()


async def test_steps_that_cannot_be_undone_keep_their_status(tmp_path, api):
    from ledger_factory import StepSpec
    from rollback_servers import entity_url

    url = entity_url(api.base_url, "items", "i1")
    extra = [StepSpec.committed(10, method="PATCH", url=url), StepSpec.in_doubt(11, url=url)]
    path, _ = _ledger(tmp_path, api, 2, extra=extra)
    profiles = write_profiles(tmp_path / "p.toml", api.base_url)
    result = await _run(path, profiles)
    assert result.ok and result.run_stamped == "rolled_back"
    assert step_rows(path) == {1: "rolled_back", 2: "rolled_back", 10: "committed", 11: None}
    assert api.matching("PATCH") == [] and len(api.matching("DELETE")) == 2


async def test_rollback_journal_ledger_and_many_runs_in_one_file(tmp_path, api):
    """A runner file in rollback-journal mode holding two runs: only the asked run changes."""
    from ledger_factory import RunSpec, StepSpec, make_ledger
    from rollback_servers import entity_url

    ids = [api.add_record(COMPANY, "customers") for _ in range(2)]

    def run(run_id: str, rid: str) -> RunSpec:
        step = StepSpec.committed(
            1, url=entity_url(api.base_url), rollback_url=entity_url(api.base_url, "customers", rid)
        )
        return RunSpec(run_id, state="completed", finished_at="2026-05-17T09:01:00Z", steps=[step])

    path = tmp_path / "many.db"
    make_ledger(path, [run("run-a", ids[0]), run("run-b", ids[1])], journal="delete")
    profiles = write_profiles(tmp_path / "p.toml", api.base_url)
    plan = rollback.preview(read_run(path, "run-b"), profiles)
    result = await rollback.execute(plan, profiles)
    assert result.ok and result.run_stamped == "rolled_back"
    assert read_run(path, "run-b").summary.state == "rolled_back"
    assert read_run(path, "run-a").summary.state == "completed"
    assert api.has_record(COMPANY, "customers", ids[0])
    assert not api.has_record(COMPANY, "customers", ids[1])
