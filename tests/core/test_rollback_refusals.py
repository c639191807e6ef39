"""Every rollback refusal: raised by the core, before any socket, with zero bytes changed."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from ledger_factory import RunSpec, StepSpec, add_writer, dir_state, make_ledger
from rollback_servers import COMPANY, RUN_ID, entity_url, rollback_ledger, write_profiles

from ledger_core.demo.api import DemoApi
from ledger_core.derive import process_identity
from ledger_core.errors import RollbackRefused
from ledger_core.ledgers.reader import read_run
from ledger_core.ledgers.schema import ROLLBACK_DDL
from ledger_core.rollback import executor as rollback
from ledger_core.rollback.profiles import Profiles
from ledger_core.timeutil import now_iso


@pytest.fixture
def api():
    with DemoApi() as server:
        yield server


@pytest.fixture
def setup(tmp_path: Path, api: DemoApi):
    ledgers = tmp_path / "ledgers"
    ledgers.mkdir()
    path = ledgers / f"{RUN_ID}.db"
    rollback_ledger(path, api, 3)
    return ledgers, path


async def _assert_refused(
    plan, profiles: Profiles, ledgers: Path, api: DemoApi, code: str, **kw
) -> RollbackRefused:
    before = dir_state(ledgers)
    with pytest.raises(RollbackRefused) as info:
        await rollback.execute(plan, profiles, **kw)
    assert info.value.code == code
    assert info.value.reason and info.value.reason[0].islower()  # a sentence, not a code
    assert api.connections == 0 and api.requests == []
    assert dir_state(ledgers) == before
    return info.value


def _preview(path: Path, profiles: Profiles, **kw):
    return rollback.preview(read_run(path, RUN_ID), profiles, **kw)


async def test_readonly_flag(setup, api, tmp_path):
    ledgers, path = setup
    profiles = write_profiles(tmp_path / "p.toml", api.base_url)
    plan = _preview(path, profiles, readonly=True)
    assert plan.refusal_code == "readonly"
    refused = await _assert_refused(plan, profiles, ledgers, api, "readonly", readonly=True)
    assert "--readonly" in refused.reason
    # A plan made without --readonly is still refused when executed in a read-only session.
    plan = _preview(path, profiles)
    assert plan.refusal is None
    await _assert_refused(plan, profiles, ledgers, api, "readonly", readonly=True)


async def test_readonly_in_profiles_defaults(setup, api, tmp_path):
    ledgers, path = setup
    profiles = write_profiles(tmp_path / "p.toml", api.base_url, readonly=True)
    plan = _preview(path, profiles)
    assert plan.refusal_code == "readonly"
    refused = await _assert_refused(plan, profiles, ledgers, api, "readonly")
    assert "[defaults] readonly = true" in refused.reason


async def test_writes_disabled_has_no_override(setup, api, tmp_path):
    ledgers, path = setup
    profiles = write_profiles(tmp_path / "p.toml", api.base_url, disable_writes=True)
    plan = _preview(path, profiles)
    assert plan.refusal_code == "writes_disabled" and not plan.writes_enabled
    refused = await _assert_refused(plan, profiles, ledgers, api, "writes_disabled")
    assert "disable_writes = true" in refused.reason
    # A plan made while writes were enabled, executed after they were disabled: still refused,
    # and the refusal says what changed since the plan was made.
    enabled = write_profiles(tmp_path / "q.toml", api.base_url)
    plan = _preview(path, enabled)
    refused = await _assert_refused(plan, profiles, ledgers, api, "profiles_changed")
    assert "p.toml" in refused.reason and "q.toml" in refused.reason


async def test_unknown_profile(tmp_path, api):
    ledgers = tmp_path / "ledgers"
    ledgers.mkdir()
    path = ledgers / "r.db"
    rollback_ledger(path, api, 2, profile="staging")
    profiles = write_profiles(tmp_path / "p.toml", api.base_url)
    plan = _preview(path, profiles)
    assert plan.refusal_code == "unknown_profile"
    refused = await _assert_refused(plan, profiles, ledgers, api, "unknown_profile")
    assert "'staging'" in refused.reason
    empty = Profiles(path=None)  # the file gone since the plan: that change is what is said
    refused = await _assert_refused(plan, empty, ledgers, api, "profiles_changed")
    assert "now none" in refused.reason


async def test_run_without_profile(tmp_path, api):
    ledgers = tmp_path / "ledgers"
    ledgers.mkdir()
    path = ledgers / "r.db"
    rollback_ledger(path, api, 2, profile=None)
    profiles = write_profiles(tmp_path / "p.toml", api.base_url)
    plan = _preview(path, profiles)
    await _assert_refused(plan, profiles, ledgers, api, "unknown_profile")


async def test_no_base_url(setup, api, tmp_path):
    ledgers, path = setup
    profiles = write_profiles(tmp_path / "p.toml", None)
    plan = _preview(path, profiles)
    assert plan.refusal_code == "no_base_url"
    await _assert_refused(plan, profiles, ledgers, api, "no_base_url")


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.2:{port}/x(1)",  # another host
        "https://127.0.0.1:{port}/x(1)",  # another scheme
        "http://127.0.0.1:{other}/x(1)",  # another port
        "ftp://127.0.0.1:{port}/x(1)",
        "not-a-url",
    ],
)
async def test_foreign_origin(tmp_path, api, target):
    with DemoApi() as foreign:
        ledgers = tmp_path / "ledgers"
        ledgers.mkdir()
        path = ledgers / "r.db"
        bad = target.format(port=api.port, other=foreign.port)
        extra = [StepSpec.committed(9, url=entity_url(api.base_url), rollback_url=bad)]
        rollback_ledger(path, api, 2, extra=extra)
        profiles = write_profiles(tmp_path / "p.toml", api.base_url)
        plan = _preview(path, profiles)
        assert plan.refusal_code == "foreign_origin"
        await _assert_refused(plan, profiles, ledgers, api, "foreign_origin")
        assert foreign.connections == 0


@pytest.mark.parametrize(
    "tail",
    [
        "/companies(1)/salesOrderLines(abc)/../..",  # httpx would DELETE /api/v2.0's parent
        "/companies(1)/x(1)/%2e%2E/%2E%2e",  # the same, percent-encoded
        "/companies(1)/./x(1)",
        "/companies(1)/x(1)/..\\\\..",  # IIS reads a backslash as a slash
        "/companies(1)/x(1)/..%5C..",
        "/companies(1)/x(1)/..%2F..",
        "/companies(1)/x(1)/..;/..;",
        "/companies(1)/x(1)#@127.0.0.1:9/y",  # a fragment is never sent
        "/companies(1)/x(1)\x1b[2J",
        "/companies(1)/x(\u202e1)",  # a bidi override: shown one way, sent another
    ],
)
async def test_a_target_that_would_be_sent_elsewhere_than_shown(tmp_path, api, tail):
    """httpx resolves dot segments and drops fragments before it sends: the DELETE would go to
    another URL than the preview, the progress line and the audit row name (review finding)."""
    ledgers = tmp_path / "ledgers"
    ledgers.mkdir()
    path = ledgers / "r.db"
    bad = api.base_url + tail.encode().decode("unicode_escape")
    extra = [StepSpec.committed(9, url=entity_url(api.base_url), rollback_url=bad)]
    rollback_ledger(path, api, 2, extra=extra)
    profiles = write_profiles(tmp_path / "p.toml", api.base_url)
    plan = _preview(path, profiles)
    assert plan.refusal_code == "bad_target", plan.refusal
    refused = await _assert_refused(plan, profiles, ledgers, api, "bad_target")
    assert "step 9" in refused.reason and "\x1b" not in refused.reason.replace("\\x1b", "")


@pytest.mark.parametrize(
    "target",
    [
        "{base}/tenant/production/companies(1)/salesOrders(77)",  # the other environment
        "{base}/tenant/sandboxes/x(1)",  # a longer name is not below the path
        "{base}/tenant/sandbox",  # the base itself is no record
        "{base}/tenant/sandbox/",
        "{base}/",
    ],
)
async def test_a_target_outside_the_base_url_path_is_refused(tmp_path, api, target):
    """Environments share a host and differ by path (Business Central's /{tenant}/{env}): the
    sandbox profile's writes must never reach production's path (review finding)."""
    ledgers = tmp_path / "ledgers"
    ledgers.mkdir()
    path = ledgers / "r.db"
    rollback_ledger(
        path,
        api,
        0,
        extra=[
            StepSpec.committed(
                1, url=entity_url(api.base_url), rollback_url=target.format(base=api.base_url)
            ),
        ],
    )
    profiles = write_profiles(tmp_path / "p.toml", api.base_url + "/tenant/sandbox")
    plan = _preview(path, profiles)
    assert plan.refusal_code == "outside_base_url", plan.refusal
    refused = await _assert_refused(plan, profiles, ledgers, api, "outside_base_url")
    assert "/tenant/sandbox" in refused.reason


def test_targets_below_the_base_url_path_pass():
    from ledger_core.rollback.targets import outside_base, url_problem

    base = "https://api.example/v2.0/tenant/sandbox/"
    assert not outside_base("https://api.example/v2.0/tenant/sandbox/api/x(1)", base)
    assert not outside_base("https://api.example/v2.0/tenant/sand%62ox/api/x(1)", base)
    assert outside_base("https://api.example/v2.0/tenant/sandbox", base)
    assert outside_base("https://api.example/v2.0/tenant/sandbox2/x", base)
    assert not outside_base("https://api.example/x(1)", "https://api.example")
    assert outside_base("https://api.example/", "https://api.example")
    assert url_problem("https://api.example/customers('C 10000')") is None  # sent as %20
    assert url_problem("https://api.example/x(1)\u00a0") is not None  # a no-break space
    assert url_problem("https://api.example/x(1)?$filter=a%20eq%20'b'") is None
    assert url_problem("http://127.0.0.1:99999/x") and url_problem("http://h:1:2/x")


def test_origin_normalises_default_ports_and_case():
    assert rollback.origin_of("HTTP://Example.COM/a") == ("http", "example.com", 80)
    assert rollback.origin_of("http://example.com:80/b") == ("http", "example.com", 80)
    assert rollback.origin_of("https://example.com:443") == ("https", "example.com", 443)
    assert rollback.origin_of("https://example.com:8443") == ("https", "example.com", 8443)
    assert rollback.origin_of("http://u:p@example.com/") is None
    assert rollback.origin_of("") is None


async def test_run_alive(tmp_path, api):
    """A writer process that is alive on this host, with recent activity."""
    ledgers = tmp_path / "ledgers"
    ledgers.mkdir()
    path = ledgers / "r.db"
    now = now_iso()
    rid = api.add_record(COMPANY, "customers")
    extra = [
        StepSpec.committed(
            4,
            intent_ts=now,
            outcome_ts=now,
            rollback_url=entity_url(api.base_url, "customers", rid),
        )
    ]
    rollback_ledger(path, api, 2, finished=False, extra=extra)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        add_writer(path, RUN_ID, pid=sleeper.pid)
        profiles = write_profiles(tmp_path / "p.toml", api.base_url)
        plan = _preview(path, profiles)
        assert read_run(path, RUN_ID).summary.liveness in ("alive", "unknown")
        assert plan.refusal_code == "run_alive"
        await _assert_refused(plan, profiles, ledgers, api, "run_alive")
    finally:
        sleeper.kill()
        sleeper.wait()


async def test_run_unknown_liveness_is_refused(tmp_path, api):
    """Recent activity and no writer ledgerx can check: it may still be running."""
    ledgers = tmp_path / "ledgers"
    ledgers.mkdir()
    path = ledgers / "r.db"
    now = now_iso()
    rid = api.add_record(COMPANY, "customers")
    extra = [
        StepSpec.committed(
            4,
            intent_ts=now,
            outcome_ts=now,
            rollback_url=entity_url(api.base_url, "customers", rid),
        )
    ]
    rollback_ledger(path, api, 2, finished=False, extra=extra)
    profiles = write_profiles(tmp_path / "p.toml", api.base_url)
    assert read_run(path, RUN_ID).summary.liveness == "unknown"
    plan = _preview(path, profiles)
    assert plan.refusal_code == "run_alive"
    await _assert_refused(plan, profiles, ledgers, api, "run_alive")


async def test_stale_plan(setup, api, tmp_path):
    ledgers, path = setup
    profiles = write_profiles(tmp_path / "p.toml", api.base_url)
    plan = _preview(path, profiles)
    assert plan.refusal is None
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("UPDATE step SET status = 'failed' WHERE seq = 2")
    conn.close()
    refused = await _assert_refused(plan, profiles, ledgers, api, "stale_plan")
    assert "preview" in refused.reason


async def test_stale_plan_when_profile_changes(setup, api, tmp_path):
    ledgers, path = setup
    with DemoApi() as other:
        plan = _preview(path, write_profiles(tmp_path / "p.toml", api.base_url))
        moved = write_profiles(tmp_path / "p.toml", other.base_url)
        # The profile now points elsewhere: refused, saying so, before any socket.
        refused = await _assert_refused(plan, moved, ledgers, api, "profiles_changed")
        assert f"now has base_url = {other.base_url}" in refused.reason
        assert other.connections == 0


async def test_tampered_plan_target_is_stale(setup, api, tmp_path):
    """Editing a saved plan's DELETE target (same origin) keeps the fingerprint: still refused."""
    ledgers, path = setup
    profiles = write_profiles(tmp_path / "p.toml", api.base_url)
    plan = _preview(path, profiles)
    data = plan.to_dict()
    data["actions"][0]["target"] = entity_url(api.base_url, "customers", "someone-else")
    tampered = type(plan).from_dict(data)
    await _assert_refused(tampered, profiles, ledgers, api, "stale_plan")


async def test_rollback_in_progress_by_live_process(setup, api, tmp_path):
    ledgers, path = setup
    profiles = write_profiles(tmp_path / "p.toml", api.base_url)
    plan = _preview(path, profiles)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        conn = sqlite3.connect(path, isolation_level=None)
        conn.executescript(ROLLBACK_DDL)
        conn.execute(
            "INSERT INTO rollback_lock VALUES (?,?,?,NULL,?)",
            (RUN_ID, sleeper.pid, socket.gethostname(), now_iso()),
        )
        conn.close()
        refused = await _assert_refused(plan, profiles, ledgers, api, "rollback_in_progress")
        assert str(sleeper.pid) in refused.reason
    finally:
        sleeper.kill()
        sleeper.wait()


async def test_rollback_in_progress_on_another_host(setup, api, tmp_path):
    ledgers, path = setup
    profiles = write_profiles(tmp_path / "p.toml", api.base_url)
    plan = _preview(path, profiles)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(ROLLBACK_DDL)
    conn.execute(
        "INSERT INTO rollback_lock VALUES (?,?,?,NULL,?)",
        (RUN_ID, os.getpid(), "some-other-host.example", now_iso()),
    )
    conn.close()
    await _assert_refused(plan, profiles, ledgers, api, "rollback_in_progress")


async def test_rollback_in_progress_in_this_process(setup, api, tmp_path):
    ledgers, path = setup
    profiles = write_profiles(tmp_path / "p.toml", api.base_url)
    plan = _preview(path, profiles)
    pid, host, start = process_identity()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(ROLLBACK_DDL)
    conn.execute("INSERT INTO rollback_lock VALUES (?,?,?,?,?)", (RUN_ID, pid, host, start, "t"))
    conn.close()
    await _assert_refused(plan, profiles, ledgers, api, "rollback_in_progress")


async def test_nothing_to_undo(tmp_path, api):
    ledgers = tmp_path / "ledgers"
    ledgers.mkdir()
    path = ledgers / "r.db"
    url = entity_url(api.base_url)
    extra = [
        StepSpec.failed(1, url=url),
        StepSpec.committed(2, method="PATCH", url=url + "(x)"),
        StepSpec.committed(3, url=url, rollback_url=None),
        StepSpec.committed(4, method="GET", url=url),
    ]
    rollback_ledger(path, api, 0, extra=extra, record_ids=[])
    profiles = write_profiles(tmp_path / "p.toml", api.base_url)
    plan = _preview(path, profiles)
    assert plan.refusal_code == "nothing_to_do"
    await _assert_refused(plan, profiles, ledgers, api, "nothing_to_do")


async def test_missing_token(setup, api, tmp_path, monkeypatch):
    ledgers, path = setup
    monkeypatch.delenv("LEDGERX_TEST_TOKEN_UNSET", raising=False)
    profiles = write_profiles(
        tmp_path / "p.toml", api.base_url, token_env="LEDGERX_TEST_TOKEN_UNSET"
    )
    plan = _preview(path, profiles)
    refused = await _assert_refused(plan, profiles, ledgers, api, "missing_token")
    assert "LEDGERX_TEST_TOKEN_UNSET" in refused.reason


def test_check_refusal_matches_preview(setup, api, tmp_path):
    ledgers, path = setup
    profiles = write_profiles(tmp_path / "p.toml", api.base_url, disable_writes=True)
    plan = _preview(path, profiles)
    with pytest.raises(RollbackRefused) as info:
        rollback.check_refusal(plan, profiles)
    assert info.value.code == plan.refusal_code == "writes_disabled"
    ok = write_profiles(tmp_path / "q.toml", api.base_url)
    rollback.check_refusal(_preview(path, ok), ok)  # does not raise
    assert api.connections == 0
    assert len(api.records) == 3  # the fixture ledger's records are on the server, untouched


def test_refusal_shows_a_hostile_profile_name_escaped_once(tmp_path: Path):
    # The name was cleaned and then repr()'d: "\x1b" showed as "\\x1b", doubling every escape.
    path = tmp_path / "run.db"
    make_ledger(path, [RunSpec("r-1", profile="sand\x1b[2J'box", steps=[StepSpec.committed(1)])])
    plan = rollback.preview(read_run(path, "r-1"), Profiles(None))
    assert plan.refusal_code == "unknown_profile"
    assert "profile 'sand\\x1b[2J'box'" in plan.refusal and "\\\\" not in plan.refusal
