"""The CLI and the profiles file: read at each decision; a malformed file never stops browsing.

Real ``ledgerx`` processes against real files and a real loopback DemoApi.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from ledger_factory import dir_state
from rollback_servers import RUN_ID, rollback_ledger, write_profiles

from ledger_core.demo.api import DemoApi

REPO = Path(__file__).resolve().parents[2]
BROKEN = '[profiles.sandbox]\nbase_url = "http://unterminated\n'


@pytest.fixture
def api():
    with DemoApi() as server:
        yield server


@pytest.fixture
def world(tmp_path, api):
    ledgers = tmp_path / "ledgers"
    ledgers.mkdir()
    rollback_ledger(ledgers / f"{RUN_ID}.db", api, 2)
    return ledgers, tmp_path / "profiles.toml"


def ledgerx(ledgers: Path, profiles: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGERX_")}
    env["HOME"] = "/nonexistent-ledgerx-home"
    return subprocess.run(
        [sys.executable, "-m", "tui.cli.main", "--ledger-dir", str(ledgers)]
        + ["--profiles", str(profiles), *args],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_malformed_profiles_file_does_not_stop_browsing(world, api):
    ledgers, profiles = world
    profiles.write_text(BROKEN)
    listed = ledgerx(ledgers, profiles, "list", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    assert [r["run_id"] for r in json.loads(listed.stdout)] == [RUN_ID]
    state = ledgerx(ledgers, profiles, "state", RUN_ID[:6])
    assert state.returncode == 0, state.stderr and RUN_ID in state.stdout


def test_a_malformed_profiles_file_refuses_the_rollback_with_its_error(world, api):
    ledgers, profiles = world
    profiles.write_text(BROKEN)
    before = dir_state(ledgers)
    dry = ledgerx(ledgers, profiles, "rollback", RUN_ID, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "refused" in dry.stdout.lower() and "not valid TOML" in dry.stdout
    assert str(profiles) in dry.stdout.replace("\n", "")
    # The profile's own setting is unknown (the file cannot be read): not "writes DISABLED".
    assert "writes DISABLED" not in dry.stdout and "writes refused: see below" in dry.stdout
    as_json = ledgerx(ledgers, profiles, "rollback", RUN_ID, "--dry-run", "--format", "json")
    plan = json.loads(as_json.stdout)
    assert plan["refusal_code"] == "profiles_error" and "not valid TOML" in plan["refusal"]
    yes = ledgerx(ledgers, profiles, "rollback", RUN_ID, "--yes")
    assert yes.returncode == 3, yes.stderr
    assert "not valid TOML" in yes.stderr
    assert api.connections == 0 and dir_state(ledgers) == before


def test_a_saved_plan_is_refused_when_the_profile_changed_since(world, api, tmp_path):
    ledgers, profiles = world
    write_profiles(profiles, api.base_url)
    saved = tmp_path / "plan.json"
    made = ledgerx(ledgers, profiles, "rollback", RUN_ID, "--save-plan", str(saved))
    assert made.returncode == 0, made.stderr
    write_profiles(profiles, api.base_url, disable_writes=True)
    run = ledgerx(ledgers, profiles, "rollback", "--plan", str(saved), "--yes")
    assert run.returncode == 3, run.stderr
    assert "profile 'sandbox' now has disable_writes = true" in run.stderr.replace("\n", " ")
    assert api.connections == 0


@pytest.mark.parametrize(
    ("before", "extra", "words"),
    [
        ("[defaults]\ndisable_writes = true\n", "", "[defaults] disable_writes = true (line 2)"),
        ("", "writes = false\n", "[profiles.sandbox] writes = false (line 3)"),
    ],
)
def test_a_misplaced_write_blocking_key_stops_rollback_yes(world, api, before, extra, words):
    # Both files once let `rollback --yes` send its DELETEs and exit 0.
    ledgers, profiles = world
    profiles.write_text(f'{before}[profiles.sandbox]\nbase_url = "{api.base_url}"\n{extra}')
    state = dir_state(ledgers)
    yes = ledgerx(ledgers, profiles, "rollback", RUN_ID, "--yes")
    assert yes.returncode == 3, (yes.stdout, yes.stderr)
    said = " ".join(yes.stderr.split())
    assert words in said and "whatever its value" in said, said
    assert api.connections == 0 and api.requests == [] and dir_state(ledgers) == state
