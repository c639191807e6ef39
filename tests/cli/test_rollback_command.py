"""``ledgerx rollback`` as a real process against a real loopback DemoApi."""

from __future__ import annotations

import json
import os
import pty
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from ledger_factory import dir_state
from rollback_servers import RUN_ID, rollback_ledger, run_row, step_rows, write_profiles

from ledger_core.demo_api import DemoApi

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def api():
    with DemoApi() as server:
        yield server


@pytest.fixture
def world(tmp_path, api):
    ledgers = tmp_path / "ledgers"
    ledgers.mkdir()
    path = ledgers / f"{RUN_ID}.db"
    ids = rollback_ledger(path, api, 3)
    profiles = tmp_path / "profiles.toml"
    write_profiles(profiles, api.base_url)
    return ledgers, path, profiles, ids


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGERX_")}
    env["HOME"] = "/nonexistent-ledgerx-home"
    env.pop("FORCE_COLOR", None)
    return env


def ledgerx(ledgers: Path, profiles: Path, *args: str, stdin=subprocess.DEVNULL):
    """Run the CLI with no terminal on stdin; returns the CompletedProcess (text)."""
    return subprocess.run(
        [sys.executable, "-m", "tui.cli.main", "--ledger-dir", str(ledgers)]
        + ["--profiles", str(profiles), "rollback", *args],
        cwd=REPO,
        env=_env(),
        stdin=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_dry_run_json(world, api):
    ledgers, path, profiles, _ = world
    before = dir_state(ledgers)
    proc = ledgerx(ledgers, profiles, RUN_ID[:6], "--dry-run", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    plan = json.loads(proc.stdout)
    assert plan["run_id"] == RUN_ID and plan["profile"] == "sandbox"
    assert plan["writes_enabled"] is True and plan["refusal"] is None
    assert len(plan["fingerprint"]) == 64
    keys = {"step_id", "seq", "method", "url", "action", "target", "reason"}
    assert all(keys <= set(a) for a in plan["actions"])
    assert [a["seq"] for a in plan["actions"]] == [3, 2, 1]
    assert {a["action"] for a in plan["actions"]} == {"delete"}
    assert api.connections == 0 and dir_state(ledgers) == before


def test_dry_run_markdown(world, api):
    ledgers, _, profiles, _ = world
    proc = ledgerx(ledgers, profiles, RUN_ID, "--dry-run", "--format", "markdown")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("# Rollback plan for run")
    assert "## Will undo (3)" in proc.stdout and "- [ ] step 3" in proc.stdout
    assert "correlation id `corr-2`" in proc.stdout
    assert api.connections == 0


def test_refused_on_write_disabled_profile(world, api, tmp_path):
    ledgers, path, _, _ = world
    disabled = tmp_path / "disabled.toml"
    write_profiles(disabled, api.base_url, disable_writes=True)
    before = dir_state(ledgers)
    proc = ledgerx(ledgers, disabled, RUN_ID, "--yes")
    assert proc.returncode == 3
    assert "disable_writes = true" in proc.stderr
    assert api.connections == 0 and dir_state(ledgers) == before
    dry = ledgerx(ledgers, disabled, RUN_ID, "--dry-run", "--format", "json")
    assert dry.returncode == 0 and json.loads(dry.stdout)["refusal"]


def test_readonly_flag_refuses(world, api):
    ledgers, _, profiles, _ = world
    proc = subprocess.run(
        [sys.executable, "-m", "tui.cli.main", "--readonly", "rollback", RUN_ID, "--yes"]
        + ["--ledger-dir", str(ledgers), "--profiles", str(profiles)],
        cwd=REPO,
        env=_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 3 and "read-only" in proc.stderr
    assert api.connections == 0


def test_yes_executes_with_progress(world, api):
    ledgers, path, profiles, ids = world
    proc = ledgerx(ledgers, profiles, RUN_ID, "--yes")
    assert proc.returncode == 0, proc.stderr
    assert "[1/3] step 3 DELETE" in proc.stderr and "[3/3] step 1 DELETE" in proc.stderr
    assert "run stamped rolled_back" in proc.stderr
    assert api.records == {}
    assert run_row(path)[0] == "rolled_back"
    # Nothing left to undo is what was asked for, not a refusal: exit 0 with a sentence.
    again = ledgerx(ledgers, profiles, RUN_ID, "--yes")
    assert again.returncode == 0, again.stderr
    assert "ledgerx: nothing left to undo" in again.stderr and len(api.matching("DELETE")) == 3
    dry = ledgerx(ledgers, profiles, RUN_ID, "--dry-run")
    assert dry.returncode == 0 and "Nothing left to undo" in dry.stdout
    assert "refused" not in dry.stdout.lower()


def test_yes_json_result_is_the_only_stdout(world, api):
    ledgers, _, profiles, _ = world
    proc = ledgerx(ledgers, profiles, RUN_ID, "--yes", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["ok"] is True and len(result["outcomes"]) == 3


def test_failures_exit_4(world, api):
    ledgers, path, profiles, ids = world
    api.fault(ids[0], "status", status=500, body="database is on fire")
    proc = ledgerx(ledgers, profiles, RUN_ID, "--yes")
    assert proc.returncode == 4
    assert "rollback_failed (500)" in proc.stderr and "database is on fire" in proc.stderr
    assert step_rows(path)[1] == "rollback_failed"


def test_plan_file_round_trip(world, api, tmp_path):
    ledgers, path, profiles, ids = world
    plan_file = tmp_path / "plan.json"
    saved = ledgerx(ledgers, profiles, RUN_ID, "--dry-run", "--save-plan", str(plan_file))
    assert saved.returncode == 0 and plan_file.exists()
    assert api.connections == 0
    proc = ledgerx(ledgers, profiles, "--plan", str(plan_file), "--yes")
    assert proc.returncode == 0, proc.stderr
    assert len(api.matching("DELETE")) == 3
    # Executing the same plan again: nothing is left to undo, and nothing is sent again.
    again = ledgerx(ledgers, profiles, "--plan", str(plan_file), "--yes")
    assert again.returncode == 0 and "nothing left to undo" in again.stderr, again.stderr
    assert len(api.matching("DELETE")) == 3


def test_plan_file_refused_when_ledger_changed(world, api, tmp_path):
    ledgers, path, profiles, _ = world
    plan_file = tmp_path / "plan.json"
    assert ledgerx(ledgers, profiles, RUN_ID, "--save-plan", str(plan_file)).returncode == 0
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("UPDATE step SET status = 'failed' WHERE seq = 1")
    conn.close()
    proc = ledgerx(ledgers, profiles, "--plan", str(plan_file), "--yes")
    assert proc.returncode == 3 and "fingerprint" in proc.stderr
    assert api.connections == 0


def test_bad_plan_file_is_usage_error(world, tmp_path):
    ledgers, _, profiles, _ = world
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": 99}')
    proc = ledgerx(ledgers, profiles, "--plan", str(bad), "--yes")
    assert proc.returncode == 2 and "not a ledgerx plan" in proc.stderr


def test_plan_file_of_wrong_shape_fifo_or_unwritable_is_usage_error(world, api, tmp_path):
    ledgers, _, profiles, _ = world
    plan_file = tmp_path / "plan.json"
    assert ledgerx(ledgers, profiles, RUN_ID, "--save-plan", str(plan_file)).returncode == 0
    data = json.loads(plan_file.read_text())
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps(data | {"profile": {"name": "sandbox"}}))
    proc = ledgerx(ledgers, profiles, "--plan", str(wrong), "--yes")
    assert proc.returncode == 2 and "malformed" in proc.stderr, proc.stderr
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)  # reading it used to wait forever for a writer
    proc = ledgerx(ledgers, profiles, "--plan", str(fifo), "--yes")
    assert proc.returncode == 2 and "not a regular file" in proc.stderr, proc.stderr
    proc = ledgerx(ledgers, profiles, RUN_ID, "--save-plan", str(tmp_path / "no" / "p.json"))
    assert proc.returncode == 2 and "the plan was not saved" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and api.connections == 0


def test_unknown_run_mentions_unreadable_files(world, api):
    # The run asked for may be in the file that could not be read: say so, as `state` does.
    ledgers, _, profiles, _ = world
    (ledgers / "broken.db").write_bytes(b"not a database at all")
    proc = ledgerx(ledgers, profiles, "no-such-run", "--dry-run")
    assert proc.returncode == 2 and "no run matches 'no-such-run'" in proc.stderr
    assert "1 source(s) could not be read" in proc.stderr, proc.stderr


@pytest.mark.parametrize("columns", ["abc", "-5", "0"])
def test_a_bad_columns_variable_is_ignored(world, api, monkeypatch, columns):
    # int("abc") was an "unexpected error"; a negative width printed an empty plan.
    ledgers, _, profiles, _ = world
    monkeypatch.setenv("COLUMNS", columns)
    proc = ledgerx(ledgers, profiles, RUN_ID, "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert "Rollback plan for run" in proc.stdout and "DELETE" in proc.stdout


def test_no_terminal_and_no_yes_is_refused(world, api):
    ledgers, path, profiles, _ = world
    before = dir_state(ledgers)
    proc = ledgerx(ledgers, profiles, RUN_ID)
    assert proc.returncode == 3 and "--yes" in proc.stderr
    assert api.connections == 0 and dir_state(ledgers) == before


@pytest.mark.parametrize("typed, code", [("nope00", 3), (RUN_ID[:6], 0)])
def test_terminal_confirmation(world, api, typed, code):
    ledgers, path, profiles, _ = world
    master, slave = pty.openpty()
    try:
        os.write(master, (typed + "\n").encode())
        proc = subprocess.run(
            [sys.executable, "-m", "tui.cli.main", "--ledger-dir", str(ledgers)]
            + ["--profiles", str(profiles), "rollback", RUN_ID],
            cwd=REPO,
            env=_env(),
            stdin=slave,
            stderr=slave,
            stdout=subprocess.PIPE,
            timeout=60,
        )
        os.set_blocking(master, False)
        try:
            said = os.read(master, 65536).decode("utf-8", "replace")
        except OSError:
            said = ""
    finally:
        os.close(slave)
        os.close(master)
    assert proc.returncode == code, said
    assert "first 6 characters" in said
    assert len(api.matching("DELETE")) == (3 if code == 0 else 0)
