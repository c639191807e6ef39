"""build_demo against a real DemoApi: the promised runs, states and liveness; a real rollback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ledger_core.demo.api import DemoApi
from ledger_core.demo.data import build_demo
from ledger_core.derive import pid_alive
from ledger_core.ledgers.reader import read_run, scan
from ledger_core.ledgers.sources import Sources
from ledger_core.rollback import executor as rollback
from ledger_core.rollback.profiles import load_profiles


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    directory = tmp_path_factory.mktemp("demo")
    with DemoApi() as api:
        built = build_demo(directory, api.base_url)
        try:
            yield api, built
        finally:
            built.stop()


def _runs(built):
    result = scan(Sources((built.ledger_dir,)))
    assert result.problems == []
    return {r.run_id: r for r in result.runs}


def _detail(built, role):
    run_id = built.runs[role]
    return read_run(built.ledger_dir / f"{run_id}.db", run_id)


def test_files_and_profiles(demo):
    api, built = demo
    assert built.base_url == api.base_url
    files = sorted(p.name for p in built.ledger_dir.glob("*.db"))
    others = {name for name, _run in built.format_runs.values()}
    assert others == {"codereview-ledger.db", "agent-events.db", "orchestrator.db"}
    assert sorted(set(files) - others) == sorted(f"{run_id}.db" for run_id in built.runs.values())
    profiles = load_profiles(built.profiles_path)
    assert profiles.profiles["sandbox"].base_url == api.base_url
    assert profiles.profiles["sandbox"].writes_enabled
    assert profiles.profiles["production"].disable_writes


def test_promised_runs_and_derived_states(demo):
    _, built = demo
    runs = _runs(built)
    assert 20 <= len(runs) <= 40
    by_role = {role: runs[run_id] for role, run_id in built.runs.items()}
    expect = {
        "completed": ("completed", "finished"),
        "crashed_in_doubt": ("partially_committed", "dead"),
        "partial_failure": ("partially_committed", "finished"),
        "cannot_undo": ("completed", "finished"),
        "rolled_back": ("rolled_back", "finished"),
        "production": ("partially_committed", "finished"),
        "running": (None, "alive"),
    }
    for role, (state, live) in expect.items():
        run = by_role[role]
        assert run.liveness == live, role
        if state:
            assert run.state == state, role
    assert by_role["crashed_in_doubt"].counts.in_doubt == 1
    assert by_role["crashed_in_doubt"].stamped_state == "running"  # the stale stamp
    assert by_role["crashed_between"].liveness == "dead"
    assert by_role["crashed_between"].counts.in_doubt == 0
    assert by_role["partial_failure"].counts.failed == 1
    assert by_role["production"].profile == "production"
    for role, run in by_role.items():
        if role != "running":
            assert 5 <= run.step_count <= 40, role
    entities = {s.url.split("/")[-1].split("(")[0] for s in _detail(built, "cannot_undo").steps}
    assert {"items", "vendors", "customers"} <= entities


def test_live_writer_is_a_real_process(demo):
    _, built = demo
    assert built.live_pid is not None and pid_alive(built.live_pid, None)
    plan = rollback.preview(_detail(built, "running"), load_profiles(built.profiles_path))
    assert plan.refusal_code == "run_alive"


def test_plans_of_the_demo_runs(demo):
    _, built = demo
    profiles = load_profiles(built.profiles_path)

    def plan(role):
        return rollback.preview(_detail(built, role), profiles)

    assert plan("production").refusal_code == "writes_disabled"
    assert plan("unknown_profile").refusal_code == "unknown_profile"
    assert plan("rolled_back").refusal_code == "nothing_to_do"
    cannot = plan("cannot_undo")
    assert {a.method for a in cannot.cannot_undo} == {"PATCH", "DELETE"}
    assert cannot.refusal is None and cannot.will_undo
    crashed = plan("crashed_in_doubt")
    assert crashed.refusal is None and len(crashed.in_doubt) == 1
    attempts = _detail(built, "rolled_back").attempts
    assert attempts and all(a.result == "rolled_back" for a in attempts)


async def test_roll_back_the_crash_run_for_real(demo):
    api, built = demo
    profiles = load_profiles(built.profiles_path)
    detail = _detail(built, "crashed_in_doubt")
    plan = rollback.preview(detail, profiles)
    targets = [a.target for a in plan.deletes]
    before = len(api.matching("DELETE"))
    result = await rollback.execute(plan, profiles)
    assert result.ok and result.run_stamped == "rolled_back"
    assert len(api.matching("DELETE")) - before == len(targets)
    assert all(o.http_status == 204 for o in result.outcomes)  # the records really existed
    after = _detail(built, "crashed_in_doubt")
    assert after.summary.state == "rolled_back"


def test_stop_ends_the_live_writer(demo):
    _, built = demo
    pid = built.live_pid
    built.stop()
    built.stop()  # idempotent
    assert pid is not None and not pid_alive(pid, None)
    assert _runs(built)[built.runs["running"]].liveness == "dead"


def test_other_formats_beside_the_runners_runs(demo):
    _, built = demo
    result = scan(Sources((built.ledger_dir,)))
    assert result.problems == []
    by_ref = {(Path(r.source).name, r.run_id): r for r in result.runs}
    expect = {
        "cr_completed": ("cr", "completed", "finished"),
        "cr_failed": ("cr", "partially_committed", "finished"),
        "cr_crashed_in_doubt": ("cr", "partially_committed", "stale"),
        "events_completed": ("event-ledger", "completed", "finished"),
        "events_cut_short": ("event-ledger", "running", "stale"),
        "orchestrator_merged": ("agent-orchestrator", "completed", "stale"),
        "orchestrator_in_doubt": ("agent-orchestrator", "partially_committed", "stale"),
    }
    for role, (fmt, state, live) in expect.items():
        run = by_ref[built.format_runs[role]]
        assert (run.format, run.state, run.liveness) == (fmt, state, live), role
    crashed = read_run(built.ledger_dir / "codereview-ledger.db", "cr-20260518-crashed")
    assert [s.derived_status for s in crashed.steps].count("in_doubt") == 1
    assert {r.format for r in result.runs} == {
        "bcli", "cr", "event-ledger", "agent-orchestrator"
    }  # fmt: skip


def test_same_seed_same_content(tmp_path: Path):
    with DemoApi() as api:
        one = build_demo(tmp_path / "a", api.base_url, live=False, now=1_779_012_000.0)
        two = build_demo(tmp_path / "b", api.base_url, live=False, now=1_779_012_000.0)
    assert one.live_pid is None and one.runs == two.runs

    def shape(built):
        return [
            (s.seq, s.method, s.status, s.intent_ts)
            for run_id in sorted(built.runs.values())
            for s in read_run(built.ledger_dir / f"{run_id}.db", run_id).steps
        ]

    assert shape(one) == shape(two)
    assert os.path.getsize(one.profiles_path) > 0
