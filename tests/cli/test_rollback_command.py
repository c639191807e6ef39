"""``ledgerx rollback`` as a real process against a real loopback DemoApi."""

from __future__ import annotations

import json
import os
import pty
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_cli
from ledger_factory import RunSpec, StepSpec, dir_state, make_ledger
from rollback_servers import (
    RUN_ID,
    Behaviour,
    RawServer,
    append_step_from_another_process,
    attempt_rows,
    entity_url,
    rollback_ledger,
    run_row,
    step_rows,
    write_profiles,
)

from ledger_core.demo.api import DemoApi

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
    md = ledgerx(ledgers, profiles, RUN_ID, "--dry-run", "--format", "markdown")
    assert "**Nothing to do:** nothing left to undo" in md.stdout
    assert "refused" not in md.stdout.lower()


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


def test_plan_saved_with_relative_paths_runs_from_another_directory(world, api, tmp_path):
    """A plan names its ledger and profiles file absolutely: made in the directory that holds
    them (relative names), run from the repo, it is the same plan, not a refused one."""
    ledgers, path, profiles, _ = world
    plan_file = tmp_path / "plan.json"
    cmd = [sys.executable, "-m", "tui.cli.main", "--ledger-dir", "ledgers"]
    cmd += ["--profiles", "profiles.toml", "rollback", RUN_ID, "--dry-run"]
    env = _env() | {"PYTHONPATH": str(REPO)}
    made = subprocess.run(
        [*cmd, "--save-plan", str(plan_file)], cwd=tmp_path, env=env, capture_output=True
    )
    assert made.returncode == 0, made.stderr
    saved = json.loads(plan_file.read_text())
    assert saved["source"] == str(path)
    proc = ledgerx(ledgers, profiles, "--plan", str(plan_file), "--yes")
    assert proc.returncode == 0, proc.stderr
    assert len(api.matching("DELETE")) == 3


def test_plan_file_refused_when_ledger_changed(world, api, tmp_path):
    ledgers, path, profiles, _ = world
    plan_file = tmp_path / "plan.json"
    assert ledgerx(ledgers, profiles, RUN_ID, "--save-plan", str(plan_file)).returncode == 0
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("UPDATE step SET status = 'failed' WHERE seq = 1")
    conn.close()
    dry = ledgerx(ledgers, profiles, "--plan", str(plan_file), "--dry-run")
    assert dry.returncode == 0 and "Would be refused:" in dry.stdout, dry.stdout
    assert "fingerprint" in dry.stdout
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


# Anything but the right characters cancels: exit 1 "cancelled", not 3 (nothing refused it).
@pytest.mark.parametrize("typed, code", [("nope00", 1), ("", 1), (RUN_ID[:6], 0)])
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
    assert "first 6 characters of the run id shown above" in said
    # The prompt does not print the characters to type: reading them is the deliberate act.
    assert f"({RUN_ID[:6]})" not in said
    assert len(api.matching("DELETE")) == (3 if code == 0 else 0)
    if code == 1:
        assert "cancelled: nothing was sent" in said


# --- the dry run tells the truth -------------------------------------------------------------


def test_dry_run_table_names_its_columns_and_sets_in_doubt_apart(tmp_path, api):
    ledgers = tmp_path / "ledgers"
    ledgers.mkdir()
    url = entity_url(api.base_url, "items", "i1")
    extra = [StepSpec.committed(10, method="PATCH", url=url), StepSpec.in_doubt(11, url=url)]
    rollback_ledger(ledgers / f"{RUN_ID}.db", api, 1, extra=extra)
    profiles = tmp_path / "p.toml"
    write_profiles(profiles, api.base_url)
    proc = ledgerx(ledgers, profiles, RUN_ID, "--dry-run")
    assert proc.returncode == 0, proc.stderr
    header = next(line for line in proc.stdout.splitlines() if "seq" in line and "url" in line)
    assert header.split()[:3] == ["seq", "method", "action"]
    rows = {line.split()[0]: line for line in proc.stdout.splitlines() if line[:3].strip()}
    assert "in doubt — check by hand" in rows["11"]
    assert "cannot undo" in rows["10"] and "skip" not in rows["10"]
    assert "DELETE" in rows["1"]
    assert "Would not be refused: --yes would send the 1 DELETE(s) above" in proc.stdout


def test_dry_run_says_would_be_refused_for_a_missing_token(world, api, tmp_path):
    ledgers, _, _, _ = world
    profiles = tmp_path / "token.toml"
    write_profiles(profiles, api.base_url, token_env="LEDGERX_TEST_NO_SUCH_TOKEN")
    proc = ledgerx(ledgers, profiles, RUN_ID, "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert "Would be refused:" in proc.stdout and "not set" in proc.stdout
    assert "Would not be refused" not in proc.stdout
    md = ledgerx(ledgers, profiles, RUN_ID, "--dry-run", "--format", "markdown")
    assert "**Refused:**" in md.stdout and "not set" in md.stdout
    yes = ledgerx(ledgers, profiles, RUN_ID, "--yes")
    assert yes.returncode == 3 and "not set" in yes.stderr and api.connections == 0


def test_dry_run_says_would_be_refused_for_another_hosts_rollback_lock(world, api):
    ledgers, path, profiles, _ = world
    from ledger_core.ledgers.schema import ROLLBACK_DDL

    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(ROLLBACK_DDL)
    conn.execute(
        "INSERT INTO rollback_lock VALUES (?, 4242, 'another-host', NULL, '2026-05-17T09:00Z')",
        (RUN_ID,),
    )
    conn.close()
    proc = ledgerx(ledgers, profiles, RUN_ID, "--dry-run", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    plan = json.loads(proc.stdout)
    assert plan["refusal_code"] == "rollback_in_progress" and "another-host" in plan["refusal"]
    table = ledgerx(ledgers, profiles, RUN_ID, "--dry-run")
    assert "Would be refused: another rollback" in table.stdout
    yes = ledgerx(ledgers, profiles, RUN_ID, "--yes")
    assert yes.returncode == 3 and api.connections == 0


@pytest.mark.parametrize("token", ["tøken", "   ", "tok\x01en"])
def test_a_token_no_header_can_carry_exits_3_before_any_row(world, api, tmp_path, token):
    ledgers, path, _, _ = world
    profiles = tmp_path / "token.toml"
    write_profiles(profiles, api.base_url, token_env="LEDGERX_TEST_TOKEN")
    before = dir_state(ledgers)
    env = _env() | {"LEDGERX_TEST_TOKEN": token}
    proc = subprocess.run(
        [sys.executable, "-m", "tui.cli.main", "--ledger-dir", str(ledgers)]
        + ["--profiles", str(profiles), "rollback", RUN_ID, "--yes"],
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 3, proc.stderr
    assert "an HTTP header cannot carry" in proc.stderr and "Traceback" not in proc.stderr
    assert api.connections == 0 and dir_state(ledgers) == before  # no false in-doubt attempt


# --- credentials ------------------------------------------------------------------------------

SECRET = "hunter2-S3cret"


def test_a_password_in_base_url_or_a_step_url_is_never_shown_or_saved(tmp_path, api):
    ledgers = tmp_path / "ledgers"
    ledgers.mkdir()
    leaky = api.base_url.replace("http://", f"http://svc:{SECRET}@") + "/api/x"
    rollback_ledger(ledgers / f"{RUN_ID}.db", api, 1, extra=[StepSpec.committed(5, url=leaky)])
    profiles = tmp_path / "p.toml"
    write_profiles(profiles, api.base_url.replace("http://", f"http://user:{SECRET}@"))
    plan_file = tmp_path / "plan.json"
    outputs = []
    for args in (
        ["--dry-run"],
        ["--dry-run", "--format", "json"],
        ["--dry-run", "--format", "markdown", "--save-plan", str(plan_file)],
        ["--yes"],
        ["--yes", "--format", "json"],
    ):
        proc = ledgerx(ledgers, profiles, RUN_ID, *args)
        outputs.append(proc.stdout + proc.stderr)
    for args in (["state", RUN_ID], ["state", RUN_ID, "--format", "json"], ["list"]):
        proc = subprocess.run(
            [sys.executable, "-m", "tui.cli.main", "--ledger-dir", str(ledgers), *args],
            cwd=REPO,
            env=_env(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        outputs.append(proc.stdout + proc.stderr)
    outputs.append(plan_file.read_text())
    for text in outputs:
        assert SECRET not in text
    assert "user:***@127.0.0.1" in outputs[0]  # the refusal names the URL, masked
    assert "svc:***@" in outputs[-2] or "svc:***@" in outputs[-3]
    assert api.connections == 0


# --- nothing of the user's is overwritten -------------------------------------------------------


def test_save_plan_never_replaces_an_existing_file_without_force(world, api):
    ledgers, path, profiles, _ = world
    before = dir_state(ledgers)
    proc = ledgerx(ledgers, profiles, RUN_ID, "--dry-run", "--save-plan", str(path))
    assert proc.returncode == 2, proc.stderr
    assert "already exists" in proc.stderr and "--force" in proc.stderr
    assert "plan was not saved" in proc.stderr
    assert dir_state(ledgers) == before  # the ledger named by mistake is intact
    forced = ledgerx(ledgers, profiles, RUN_ID, "--dry-run", "--save-plan", str(path), "--force")
    assert forced.returncode == 2 and "not a rollback plan" in forced.stderr, forced.stderr
    assert dir_state(ledgers) == before  # not even --force replaces a ledger with JSON


def _crashed_with_wal(tmp_path):
    """A ledger whose writer was SIGKILLed: its last committed step lives only in the -wal."""
    ledgers = tmp_path / "wal"
    ledgers.mkdir()
    path = make_ledger(ledgers / "r-wal.db", [RunSpec("r-wal", steps=[StepSpec.committed(1)])])
    code = (
        "import os, signal, sqlite3, sys\n"
        "c = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "c.execute('PRAGMA journal_mode=WAL')\n"
        'c.execute("INSERT INTO step (run_id, seq, intent_ts, method, url, outcome_ts, status) '
        "VALUES ('r-wal', 2, '2026-05-17T09:00:00.000000Z', 'POST', 'http://h/x', "
        "'2026-05-17T09:00:01.000000Z', 'committed')\")\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    subprocess.run([sys.executable, "-c", code, str(path)], check=False)
    assert (ledgers / "r-wal.db-wal").exists()
    return ledgers, path


@pytest.mark.parametrize("sidecar", ["-wal", "-shm"])
def test_force_never_replaces_a_ledgers_wal_or_shm(tmp_path, sidecar):
    """--force over a crashed ledger's -wal once replaced it: its committed step was lost."""
    ledgers, path = _crashed_with_wal(tmp_path)
    before = dir_state(ledgers)
    target = Path(str(path) + sidecar)
    proc = run_cli(
        "--ledger-dir", ledgers, "rollback", "r-wal", "--dry-run",
        "--save-plan", target, "--force",
    )  # fmt: skip
    assert proc.code == 2 and "how SQLite names a database's side file" in proc.stderr

    def data(state: dict) -> dict:  # the -shm is SQLite's lock index, not data
        return {name: value for name, value in state.items() if not name.endswith("-shm")}

    assert data(dir_state(ledgers)) == data(before)
    listed = run_cli("--ledger-dir", ledgers, "list", "--format", "json").json()
    assert listed[0]["step_count"] == 2  # the step in the -wal is still there


@pytest.mark.parametrize("name", ["ledger.db-wal", "ledger.db-SHM", "plan-journal"])
def test_save_plan_never_creates_a_file_named_like_an_sqlite_side_file(world, api, name):
    """SQLite deletes such a file, or replays it into the database beside it as its journal."""
    ledgers, _, profiles, _ = world
    before = dir_state(ledgers)
    proc = ledgerx(ledgers, profiles, RUN_ID, "--dry-run", "--save-plan", str(ledgers / name))
    assert proc.returncode == 2, proc.stderr
    assert "plan was not saved" in proc.stderr and "SQLite" in proc.stderr
    assert f"ending in {name[name.rindex('-') :]}" in proc.stderr
    assert dir_state(ledgers) == before and not (ledgers / name).exists()


def test_save_plan_with_force_replaces_only_an_earlier_plan(world, api, tmp_path):
    ledgers, _, profiles, _ = world
    notes = tmp_path / "notes.json"
    notes.write_text("my notes, not a plan")
    proc = ledgerx(ledgers, profiles, RUN_ID, "--dry-run", "--save-plan", str(notes), "--force")
    assert proc.returncode == 2 and "not a rollback plan" in proc.stderr, proc.stderr
    assert notes.read_text() == "my notes, not a plan"
    old = tmp_path / "old-plan.json"
    first = ledgerx(ledgers, profiles, RUN_ID, "--dry-run", "--save-plan", str(old))
    assert first.returncode == 0, first.stderr
    proc = ledgerx(ledgers, profiles, RUN_ID, "--dry-run", "--save-plan", str(old), "--force")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(old.read_text())["run_id"] == RUN_ID
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".old")) == []


@pytest.mark.parametrize("kind", ["fifo", "directory", "symlink"])
@pytest.mark.parametrize("force", [False, True])
def test_save_plan_to_anything_but_a_regular_file_is_a_usage_error(
    world, api, tmp_path, kind, force
):
    ledgers, path, profiles, _ = world
    target = tmp_path / f"target-{kind}"
    if kind == "fifo":
        os.mkfifo(target)  # writing used to block until a reader came
    elif kind == "directory":
        target.mkdir()
    else:
        target.symlink_to(path)
    before = dir_state(ledgers)
    extra = ["--force"] if force else []
    proc = ledgerx(ledgers, profiles, RUN_ID, "--dry-run", "--save-plan", str(target), *extra)
    assert proc.returncode == 2, proc.stderr
    assert "plan was not saved" in proc.stderr and "Traceback" not in proc.stderr
    assert dir_state(ledgers) == before
    assert (kind == "symlink") == target.is_symlink()


# --- exit codes of an interrupted or stopped rollback -------------------------------------------


def _popen(ledgers: Path, profiles: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "tui.cli.main", "--ledger-dir", str(ledgers)]
        + ["--profiles", str(profiles), "rollback", *args],
        cwd=REPO,
        env=_env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_sigint_during_a_delete_records_it_in_doubt_and_exits_4(world, api):
    ledgers, path, profiles, ids = world
    api.fault(ids[2], "hang", seconds=None)  # the first DELETE (step 3) gets no answer
    proc = _popen(ledgers, profiles, RUN_ID, "--yes")
    try:
        api.wait_for("DELETE", timeout=30)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        api.release()
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 4, err
    assert "interrupted" in err and "0 rolled back, 0 failed, 1 in doubt" in err
    assert "[1/3] step 3 DELETE" in err and "in_doubt" in err and "Traceback" not in err
    # What was sent is recorded: one intent without outcome; nothing after it was sent.
    assert [(a[2], a[4]) for a in attempt_rows(path)] == [(None, None)]
    assert step_rows(path) == {1: "committed", 2: "committed", 3: "committed"}
    assert len(api.matching("DELETE")) == 1
    conn = sqlite3.connect(path, isolation_level=None)
    assert conn.execute("SELECT COUNT(*) FROM rollback_lock").fetchone()[0] == 0
    conn.close()


def test_a_ledger_locked_mid_rollback_exits_4(tmp_path):
    """SQLite busy while an answer is recorded: requests in doubt (4), not a usage error (2)."""
    import threading

    ledgers = tmp_path / "ledgers"
    ledgers.mkdir()
    path = ledgers / f"{RUN_ID}.db"
    let_go = threading.Event()
    holding = threading.Event()

    def hold_write_lock() -> None:
        def hold() -> None:
            conn = sqlite3.connect(path, isolation_level=None)
            conn.execute("BEGIN IMMEDIATE")
            holding.set()
            let_go.wait(60)
            conn.execute("ROLLBACK")
            conn.close()

        threading.Thread(target=hold, daemon=True).start()
        holding.wait(30)

    with RawServer() as server:
        rollback_ledger(path, server, 2, record_ids=["r-1", "r-2"])  # type: ignore[arg-type]
        server.on("r-2", Behaviour("answer", hook=hold_write_lock))
        profiles = tmp_path / "p.toml"
        write_profiles(profiles, server.base_url)
        proc = _popen(ledgers, profiles, RUN_ID, "--yes")
        lines = []
        try:
            for line in proc.stderr:  # the rollback waits for the lock, then reports
                lines.append(line)
                if "in_doubt" in line:
                    let_go.set()
            proc.wait(timeout=60)
        finally:
            let_go.set()
            if proc.poll() is None:
                proc.kill()
        err = "".join(lines)
        assert proc.returncode == 4, err
        assert "could not be recorded" in err and "ledgerx: stopped:" in err
        assert len(server.deletes()) == 1
    assert [(a[2], a[4]) for a in attempt_rows(path)] == [(None, None)]


def test_steps_added_during_the_rollback_exit_4_without_stamp(tmp_path):
    ledgers = tmp_path / "ledgers"
    ledgers.mkdir()
    path = ledgers / f"{RUN_ID}.db"
    with RawServer() as server:
        rollback_ledger(path, server, 2, record_ids=["r-1", "r-2"])  # type: ignore[arg-type]
        server.on("r-2", Behaviour("answer", hook=lambda: append_step_from_another_process(path)))
        profiles = tmp_path / "p.toml"
        write_profiles(profiles, server.base_url)
        proc = ledgerx(ledgers, profiles, RUN_ID, "--yes")
    assert proc.returncode == 4, proc.stderr
    assert "2 rolled back, 0 failed, 0 in doubt" in proc.stderr
    assert "ledgerx: not stamped: 1 step(s) were added" in proc.stderr
    assert "run stamped" not in proc.stderr and run_row(path)[0] == "completed"


@pytest.mark.parametrize("name", ["", "somewhere/"])
def test_save_plan_to_no_file_name_is_a_usage_error(world, api, name):
    ledgers, _, profiles, _ = world
    proc = ledgerx(ledgers, profiles, RUN_ID, "--dry-run", "--save-plan", name)
    assert proc.returncode == 2 and "not a file name" in proc.stderr, proc.stderr
