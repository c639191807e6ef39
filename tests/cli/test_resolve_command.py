"""``ledgerx resolve`` as a real subprocess: recorded, refused, and seen by ``state``."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from ledger_factory import RunSpec, StepSpec, make_ledger

REPO = Path(__file__).resolve().parents[2]


def _cli(tmp_path: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    environ = (
        os.environ
        | {
            "LEDGERX_STATE_DIR": str(tmp_path / "state"),
            "LEDGERX_CACHE_DIR": "off",
            "LEDGERX_PROFILES": str(tmp_path / "none.toml"),
            "LEDGERX_USER": "ada",
            "NO_COLOR": "1",
        }
        | (env or {})
    )
    return subprocess.run(
        [sys.executable, "-m", "tui.cli.main", "--ledger-dir", str(tmp_path / "ledgers"), *args],
        cwd=REPO,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def ledger(tmp_path):
    (tmp_path / "ledgers").mkdir()
    steps = [StepSpec.committed(1), StepSpec.in_doubt(2, bc_correlation_id="corr-2")]
    run = RunSpec("run-42", state="completed", finished_at="2026-05-17T09:05:00Z", steps=steps)
    return make_ledger(tmp_path / "ledgers" / "run-42.db", [run])


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_resolve_then_state_shows_it(tmp_path, ledger):
    done = _cli(
        tmp_path, "resolve", "run-4", "2", "--landed", "--note", "SO-42 is in BC",
        "--url", "https://api.example.test/x(42)", "--format", "json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert (record["outcome"], record["who"], record["seq"]) == ("landed", "ada", 2)
    state = _cli(tmp_path, "state", "run-42", "--format", "json")
    data = json.loads(state.stdout)
    assert data["verdict"] == "completed" and data["resolved"]["landed"] == 1
    assert data["resolutions"][0]["note"] == "SO-42 is in BC"
    table = _cli(tmp_path, "state", "run-42")
    assert "Resolutions" in table.stdout and "SO-42 is in BC" in table.stdout
    assert "1 landed" in table.stdout


@pytest.mark.parametrize(
    "args,code,words",
    [
        (["1", "--landed", "--note", "x"], 3, "not in doubt"),
        (["2", "--landed"], 2, "note is required"),
        (["2", "--note", "x"], 2, "--landed, --not-landed or --unknown"),
        (["2", "--landed", "--note", "x", "--url", "javascript:alert(1)"], 2, "http(s)"),
        (["2", "--landed", "--note", "x", "--url", "https://u:pw@h/x"], 2, "credentials"),
        (["9", "--landed", "--note", "x"], 2, "no step with seq 9"),
        (["2", "--landed", "--not-landed", "--note", "x"], 2, "not allowed with"),
    ],
)
def test_refusals(tmp_path, ledger, args, code, words):
    before = _digest(ledger)
    done = _cli(tmp_path, "resolve", "run-42", *args)
    assert done.returncode == code, done.stderr
    assert words in done.stderr and "Traceback" not in done.stderr
    assert _digest(ledger) == before


def test_readonly_refuses(tmp_path, ledger):
    before = _digest(ledger)
    done = _cli(tmp_path, "--readonly", "resolve", "run-42", "2", "--not-landed", "--note", "x")
    assert done.returncode == 3 and "read-only" in done.stderr
    assert _digest(ledger) == before


def test_unknown_run(tmp_path, ledger):
    done = _cli(tmp_path, "resolve", "nope", "2", "--landed", "--note", "x")
    assert done.returncode == 2 and "no run matches" in done.stderr


def test_disable_writes_does_not_refuse_a_resolution(tmp_path, ledger):
    profiles = tmp_path / "p.toml"
    profiles.write_text("[profiles.sandbox]\ndisable_writes = true\n")
    env = {"LEDGERX_PROFILES": str(profiles)}
    done = _cli(tmp_path, "resolve", "run-42", "2", "--not-landed", "--note", "x", env=env)
    assert done.returncode == 0, done.stderr
    ro = profiles.read_text().replace("[profiles", "[defaults]\nreadonly = true\n\n[profiles")
    profiles.write_text(ro)
    done = _cli(tmp_path, "resolve", "run-42", "2", "--landed", "--note", "y", env=env)
    assert done.returncode == 3 and "read-only" in done.stderr


@pytest.mark.parametrize(
    "defaults, said",
    [("readonly = true", "[defaults] readonly = true in "), ("read_only = true", "read_only")],
)
def test_a_read_only_refusal_names_what_made_the_session_read_only(
    tmp_path, ledger, defaults, said
):
    profiles = tmp_path / "p.toml"
    profiles.write_text(f"[defaults]\n{defaults}\n\n[profiles.sandbox]\n")
    env = {"LEDGERX_PROFILES": str(profiles)}
    before = _digest(ledger)
    done = _cli(tmp_path, "resolve", "run-42", "2", "--landed", "--note", "y", env=env)
    assert done.returncode == 3 and "read-only" in done.stderr, done.stderr
    assert said in done.stderr and str(profiles) in done.stderr
    assert "--readonly" not in done.stderr  # not the switch: nobody passed it
    flagged = _cli(tmp_path, "--readonly", "resolve", "run-42", "2", "--landed", "--note", "y")
    assert flagged.returncode == 3 and "(--readonly)" in flagged.stderr
    assert _digest(ledger) == before


def test_export_json_and_markdown(tmp_path, ledger):
    _cli(tmp_path, "resolve", "run-42", "2", "--not-landed", "--note", "no [link](https://x.y)")
    done = _cli(tmp_path, "export", "run-42")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["format"] == "ledgerx-incident" and data["run"]["run_id"] == "run-42"
    assert [s["seq"] for s in data["steps"]] == [1, 2]
    assert data["resolutions"][0]["outcome"] == "not_landed"
    assert data["plan"]["fingerprint"] and data["diagnosis"]
    md = _cli(tmp_path, "export", "run-42", "--format", "markdown")
    assert md.stdout.startswith("# Incident bundle: run `run-42`")
    assert "## Steps (2)" in md.stdout and "## Resolutions, oldest first (1)" in md.stdout
    assert "[link](https" not in md.stdout


def test_export_output_never_overwrites(tmp_path, ledger):
    out = tmp_path / "INC-1.md"
    done = _cli(tmp_path, "export", "run-42", "--format", "markdown", "--output", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_text().startswith("# Incident bundle") and done.stdout == ""
    out.write_text("my notes\n")
    again = _cli(tmp_path, "export", "run-42", "--output", str(out))
    assert again.returncode == 2 and "already exists" in again.stderr
    assert out.read_text() == "my notes\n"
    target = tmp_path / "elsewhere"
    target.write_text("keep")
    (tmp_path / "link.json").symlink_to(target)
    linked = _cli(tmp_path, "export", "run-42", "--output", str(tmp_path / "link.json"))
    assert linked.returncode == 2 and target.read_text() == "keep"


@pytest.mark.parametrize("name", ["run-42.db-wal", "run-42.db-shm", "INC-1.md-Journal"])
def test_export_output_never_creates_a_file_named_like_an_sqlite_side_file(tmp_path, ledger, name):
    out = tmp_path / "ledgers" / name
    done = _cli(tmp_path, "export", "run-42", "--output", str(out))
    assert done.returncode == 2 and "bundle was not written" in done.stderr, done.stderr
    assert "how SQLite names a database's side file" in done.stderr
    assert not out.exists()


def test_state_after_resolving_a_crash_no_longer_says_check_by_hand(tmp_path):
    from ledger_factory import add_writer

    (tmp_path / "ledgers").mkdir()
    path = make_ledger(
        tmp_path / "ledgers" / "run-9.db",
        [RunSpec("run-9", steps=[StepSpec.committed(1), StepSpec.in_doubt(2)])],
    )
    add_writer(path, "run-9")  # a dead pid on this host: the writer crashed
    before = json.loads(_cli(tmp_path, "state", "run-9", "--format", "json").stdout)
    assert any("check the server by hand" in s for s in before["diagnosis"])
    done = _cli(tmp_path, "resolve", "run-9", "2", "--not-landed", "--note", "not in BC")
    assert done.returncode == 0, done.stderr
    after = json.loads(_cli(tmp_path, "state", "run-9", "--format", "json").stdout)
    assert not any("check the server by hand" in s for s in after["diagnosis"])
    assert any("did not land (by ada at" in s for s in after["diagnosis"])
    table = _cli(tmp_path, "state", "run-9").stdout
    assert "nothing to check" in table and "check the server by hand" not in table
