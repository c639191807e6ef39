"""The demo keeps moving: DELETEs take a visible moment, new runs start, one is killed, and the
problems view has something to show. Real DemoApi, real writer subprocesses, real SIGKILLs."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import httpx
import pytest

from ledger_core.demo.api import DemoApi
from ledger_core.demo.data import build_demo
from ledger_core.demo.problems import PROBLEM_FILES, write_problem_files
from ledger_core.demo.world import DemoWorld, install_demo_faults
from ledger_core.ledgers.reader import read_run, scan
from ledger_core.ledgers.sources import Sources
from ledger_core.rollback import executor as rollback
from ledger_core.rollback.profiles import load_profiles


def _delete_takes(api: DemoApi) -> float:
    record = api.add_record("c", "customers")
    url = f"{api.base_url}/api/v2.0/companies(c)/customers({record})"
    started = time.monotonic()
    response = httpx.delete(url, trust_env=False)
    assert response.status_code == 204
    return time.monotonic() - started


def test_delete_delay_is_configurable_and_off_by_default():
    with DemoApi() as quick:
        assert quick.delete_delay == (0.0, 0.0)
    with DemoApi(delete_delay=(0.15, 0.2)) as slow:
        assert _delete_takes(slow) >= 0.15
        # Only DELETEs wait: the batches that build the demo stay fast.
        response = httpx.post(
            f"{slow.base_url}/api/v2.0/companies(c)/customers", json={}, trust_env=False
        )
        assert response.status_code == 201


@pytest.mark.parametrize("bad", [-0.1, (0.3, 0.1), float("nan")])
def test_delete_delay_rejects_nonsense(bad):
    with pytest.raises(ValueError):
        DemoApi(delete_delay=bad)


def test_problem_files_show_every_reason(tmp_path):
    made = write_problem_files(tmp_path)
    assert sorted(p.name for p in made) == sorted(PROBLEM_FILES)
    result = scan(Sources((tmp_path,)))
    kinds = {Path(p.path).name: p.kind for p in result.problems}
    assert kinds == PROBLEM_FILES


def test_problem_files_never_overwrite(tmp_path):
    (tmp_path / "notes.db").write_text("mine", encoding="utf-8")
    with pytest.raises(FileExistsError):
        write_problem_files(tmp_path)
    assert (tmp_path / "notes.db").read_text(encoding="utf-8") == "mine"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_world_starts_runs_and_kills_one_mid_request(tmp_path):
    ledgers = tmp_path / "ledgers"
    ledgers.mkdir()
    with DemoApi() as api:
        world = DemoWorld(
            ledgers, api.base_url, interval=(0.2, 0.3), pace=(0.02, 0.05), crash_every=2, seed=7
        ).start()
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                assert world.error is None, world.error
                runs = {r.run_id: r for r in scan(Sources((ledgers,))).runs}
                crashed = [runs.get(run_id) for run_id in world.crashed]
                done = [r for r in runs.values() if r.state == "completed" and r.finished_at]
                dead = [r for r in crashed if r is not None and r.liveness == "dead"]
                if len(world.started) >= 3 and dead and done:
                    break
                time.sleep(0.2)
            else:
                pytest.fail(f"the world did not move: {len(world.started)} started")
            # The killed run stopped after a request was answered and before its outcome.
            run = dead[0]
            assert run.counts.in_doubt == 1
            assert run.finished_at is None
            procs = list(world._procs)
        finally:
            world.stop()
        assert not any(_alive(p.pid) for p in procs)  # stop() leaves no writer behind


@pytest.fixture(scope="module")
def demo_with_faults(tmp_path_factory):
    directory = tmp_path_factory.mktemp("faults")
    with DemoApi() as api:
        demo = build_demo(directory, api.base_url, live=False)
        # A short timeout so the hanging DELETE is given up on quickly.
        profiles = directory / "profiles.toml"
        profiles.write_text(
            profiles.read_text(encoding="utf-8").replace("timeout = 5", "timeout = 0.5"),
            encoding="utf-8",
        )
        chosen = install_demo_faults(api, demo.ledger_dir, demo.runs, timeout=0.5)
        yield api, demo, load_profiles(profiles), chosen


def _roll_back(demo, role, profiles):
    run_id = demo.runs[role]
    detail = read_run(demo.ledger_dir / f"{run_id}.db", run_id)
    plan = rollback.preview(detail, profiles)
    assert plan.refusal is None, plan.refusal
    return asyncio.run(rollback.execute(plan, profiles))


def test_faults_fail_one_delete_then_a_retry_undoes_it(demo_with_faults):
    _, demo, profiles, chosen = demo_with_faults
    assert len(chosen) == 2
    first = _roll_back(demo, "partial_failure", profiles)
    assert [o.http_status for o in first.failed] == [500]
    assert first.rolled_back  # the DELETE before it landed
    again = _roll_back(demo, "partial_failure", profiles)
    assert again.ok and again.run_stamped == "rolled_back"


def test_faults_hang_one_delete_past_the_timeout_then_resume_finishes(demo_with_faults):
    api, demo, profiles, _ = demo_with_faults
    first = _roll_back(demo, "crashed_between", profiles)
    assert len(first.in_doubt) == 1 and not first.failed
    api.release()
    again = _roll_back(demo, "crashed_between", profiles)
    assert again.ok
