"""`ledgerx list`, `state` and `doctor` as real processes on runner-written ledgers."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, run_cli, sample_runs
from ledger_factory import (
    ExclusiveLock,
    RunSpec,
    StepSpec,
    hostile_strings,
    make_corrupt,
    make_garbage,
    make_hot_journal,
    make_ledger,
    make_ledger_dir,
    make_schema_version,
    make_truncated,
    make_unrelated_db,
    make_zero_byte,
)

# Raw control bytes a terminal would act on; newlines are the only ones allowed in output.
CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
HOSTILE = hostile_strings()
BAD_FILES = {
    "zero.db": (make_zero_byte, "not_a_ledger"),
    "text.db": (make_garbage, "not_a_ledger"),
    "cut.db": (make_truncated, "corrupt"),
    "corrupt.db": (make_corrupt, "corrupt"),
    "recipes.db": (make_unrelated_db, "not_a_ledger"),
    "v2.db": (lambda p: make_schema_version(p, 2), "newer_schema"),
    "hot.db": (make_hot_journal, "needs_recovery"),
}


def _hostile_run() -> RunSpec:
    text = "".join(HOSTILE.values())
    return RunSpec(
        "r-hostile-[/]",
        state="running",
        started_at="2026-05-17T08:40:00Z",
        profile=HOSTILE["click_action"],
        environment=HOSTILE["bidi_override"],
        company=HOSTILE["osc52_clipboard"],
        manifest_path=HOSTILE["osc_title"],
        steps=[
            StepSpec.committed(1, url=text, bc_correlation_id=HOSTILE["clear_screen"]),
            StepSpec.failed(2, error_message=text + "E" * 1_000_000, method=HOSTILE["nul"]),
        ],
    )


@pytest.fixture(scope="module")
def messy(tmp_path_factory) -> Path:
    """Good runs, a hostile run in an oddly named file, and one of every bad file."""
    directory = tmp_path_factory.mktemp("messy") / "led gers"
    make_ledger_dir(directory, sample_runs())
    make_ledger(directory / "hostile #1 [x]?.db", [_hostile_run()])
    for name, (build, _status) in BAD_FILES.items():
        build(directory / name)
    return directory


@pytest.fixture(scope="module")
def clean_dir(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("clean")
    make_ledger_dir(directory, sample_runs())
    return directory


def _no_traceback(result) -> None:
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout


# -- list -----------------------------------------------------------------------------------


def test_list_json_is_pure_json_newest_first(clean_dir):
    result = run_cli("list", "--ledger-dir", clean_dir, "--format", "json")
    assert result.code == 0 and result.stderr == ""
    runs = result.json()
    assert [r["run_id"] for r in runs] == [
        "r-partial-0004",
        "r-crash-0003",
        "r-fail-0002",
        "r-done-0001",
    ]
    crash = runs[1]
    assert crash["state"] == "partially_committed" and crash["stamped_state"] == "running"
    assert crash["counts"]["in_doubt"] == 1 and crash["step_count"] == 3
    assert crash["diagnosis"]


def test_list_global_options_after_the_subcommand_and_before(clean_dir):
    before = run_cli("--ledger-dir", clean_dir, "list", "--format", "json")
    after = run_cli("list", "--format", "json", "--ledger-dir", clean_dir)
    assert before.code == after.code == 0 and before.json() == after.json()


def test_list_table_for_people(clean_dir):
    result = run_cli("list", "--ledger-dir", clean_dir)
    assert result.code == 0
    assert "r-crash-0003" in result.stdout and "partially_committed" in result.stdout
    assert "(stamped running)" in result.stdout  # a stale stamp is called out in words
    assert not CONTROL.search(result.stdout)


def test_list_state_filter_and_limit(clean_dir):
    one = run_cli("list", "--ledger-dir", clean_dir, "--state", "failed", "--format", "json")
    assert [r["run_id"] for r in one.json()] == ["r-fail-0002"]
    two = run_cli(
        "list",
        "--ledger-dir",
        clean_dir,
        "--state",
        "failed",
        "--state",
        "completed",
        "--format",
        "json",
    )
    assert {r["run_id"] for r in two.json()} == {"r-fail-0002", "r-done-0001"}
    limited = run_cli("list", "--ledger-dir", clean_dir, "--limit", "2", "--format", "json")
    assert [r["run_id"] for r in limited.json()] == ["r-partial-0004", "r-crash-0003"]
    none = run_cli("list", "--ledger-dir", clean_dir, "--state", "rolled_back")
    assert none.code == 0 and "No matching runs" in none.stdout


def test_list_unknown_state_is_a_usage_error(clean_dir):
    result = run_cli("list", "--ledger-dir", clean_dir, "--state", "exploded")
    assert result.code == 2 and result.stdout == ""
    assert "exploded" in result.stderr and "partially_committed" in result.stderr
    assert run_cli("list", "--ledger-dir", clean_dir, "--limit", "-1").code == 2
    _no_traceback(result)


@pytest.mark.parametrize("value", ["0", "-1"])
def test_list_limit_must_be_positive(clean_dir, value):
    """--limit 0 printed "No runs in DIR." while the directory holds runs."""
    result = run_cli("list", "--ledger-dir", clean_dir, "--limit", value)
    assert result.code == 2 and result.stdout == "", result.stdout
    assert "--limit must be a positive number" in result.stderr
    _no_traceback(result)
    one = run_cli("list", "--ledger-dir", clean_dir, "--limit", "1", "--format", "json")
    assert one.code == 0 and len(one.json()) == 1


@pytest.mark.parametrize("value", ["0", "-5", "nan", "inf", "abc"])
def test_stale_after_must_be_a_positive_finite_number(clean_dir, value):
    result = run_cli("list", "--ledger-dir", clean_dir, "--stale-after", value)
    assert result.code == 2 and result.stdout == "", value
    assert "--stale-after" in result.stderr
    _no_traceback(result)


def test_list_missing_source_is_not_found(tmp_path):
    result = run_cli("list", "--ledger-dir", tmp_path / "typo", "--format", "json")
    assert result.code == 2 and result.json() == []
    assert "typo" in result.stderr and "no such directory" in result.stderr
    assert not (tmp_path / "typo").exists()


def test_list_on_bad_input_names_each_file_and_still_lists(messy):
    for fmt in ("json", "table"):
        result = run_cli("list", "--ledger-dir", messy, "--format", fmt)
        assert result.code == 0, result.stderr
        _no_traceback(result)
        for name in BAD_FILES:
            assert f"{messy / name}:" in result.stderr, name
        assert not CONTROL.search(result.stdout), repr(CONTROL.search(result.stdout))
        assert not CONTROL.search(result.stderr.replace("\n", ""))
        assert "r-hostile-[/]" in result.stdout and "r-crash-0003" in result.stdout
    runs = json.loads(run_cli("list", "--ledger-dir", messy, "--format", "json").stdout)
    assert len(runs) == 5
    hostile = next(r for r in runs if r["run_id"] == "r-hostile-[/]")
    assert hostile["profile"] == HOSTILE["click_action"]  # JSON keeps data exact, escaped


def test_list_table_shows_markup_literally_and_escapes_controls(messy):
    out = run_cli("list", "--ledger-dir", messy).stdout
    assert "[@click=app.quit]click me[/]" in out
    assert "\\x1b]52;c;" in out  # the OSC 52 clipboard write is shown, not performed
    assert "\\u202e" in out and "\u202e" not in out


def _run_on_pty(args: list[str], env: dict[str, str]) -> str:
    """Run the CLI with stdout on a pseudo-terminal (as a person would) and return its bytes."""
    master, slave = pty.openpty()
    full_env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    full_env.update(env, COLUMNS="200", TERM="xterm-256color")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui.cli.main", *args],
        cwd=REPO,
        stdout=slave,
        stderr=subprocess.DEVNULL,
        env=full_env,
    )
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 30)
        if not ready:
            break
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=30)
    os.close(master)
    return b"".join(chunks).decode("utf-8", "replace")


SGR = re.compile(r"\x1b\[[0-9;]*m")
COLOUR_SGR = re.compile(r"\x1b\[(?:[0-9;]*;)?(?:3[0-9]|9[0-7]|38;[0-9;]+)m")


def test_terminal_output_has_only_rich_styles_and_honours_no_color(messy):
    args = ["list", "--ledger-dir", str(messy)]
    coloured = _run_on_pty(args, {})
    assert "r-hostile-[/]" in coloured
    assert COLOUR_SGR.search(coloured), "on a terminal, states are coloured"
    # The only escape sequences are Rich's own SGR styles: nothing from the ledger.
    leftover = SGR.sub("", coloured)
    assert "\x1b" not in leftover and "\x07" not in leftover and "\x00" not in leftover
    plain = _run_on_pty(args, {"NO_COLOR": "1"})
    assert "r-hostile-[/]" in plain and not COLOUR_SGR.search(plain)
    assert "partially_committed" in plain  # the state is a word, not only a colour


# -- state ----------------------------------------------------------------------------------


def test_state_by_unique_prefix_json(clean_dir):
    result = run_cli("state", "r-cr", "--ledger-dir", clean_dir, "--format", "json")
    assert result.code == 0 and result.stderr == ""
    data = result.json()
    assert data["run_id"] == "r-crash-0003" and data["state"] == "partially_committed"
    assert [s["derived_status"] for s in data["steps"]] == ["committed", "committed", "in_doubt"]
    assert data["rollback_attempts"] == []


def test_state_table(clean_dir):
    result = run_cli("state", "r-crash-0003", "--ledger-dir", clean_dir)
    assert result.code == 0
    out = result.stdout
    assert "partially_committed" in out and "stamped running" in out
    assert "Diagnosis" in out and "may or may not have landed" in out
    assert "in_doubt" in out and "corr-1" in out and "— none —" in out
    assert not CONTROL.search(out)


def test_state_ambiguous_and_unknown_are_exit_2(clean_dir):
    ambiguous = run_cli("state", "r-", "--ledger-dir", clean_dir)
    assert ambiguous.code == 2 and ambiguous.stdout == ""
    assert "matches 4 runs" in ambiguous.stderr and "r-done-0001" in ambiguous.stderr
    missing = run_cli("state", "zzz", "--ledger-dir", clean_dir, "--format", "json")
    assert missing.code == 2 and missing.stdout == ""
    assert "no run matches 'zzz'" in missing.stderr
    _no_traceback(missing)


def test_state_of_a_hostile_run(messy):
    table = run_cli("state", "r-hostile", "--ledger-dir", messy)
    assert table.code == 0, table.stderr
    _no_traceback(table)
    assert not CONTROL.search(table.stdout)
    assert "more chars]" in table.stdout  # the 1 MB error is cut
    assert len(table.stdout) < 100_000
    data = run_cli("state", "r-hostile", "--ledger-dir", messy, "--format", "json").json()
    assert data["steps"][1]["error_message"].endswith("E" * 1000)  # JSON keeps it whole


def test_unknown_run_mentions_unreadable_files(messy):
    result = run_cli("state", "nothing-like-this", "--ledger-dir", messy)
    assert result.code == 2 and "could not be read" in result.stderr


# -- doctor ---------------------------------------------------------------------------------


def test_doctor_reports_every_file(messy):
    result = run_cli("doctor", "--ledger-dir", messy, "--format", "json")
    assert result.code == 1, result.stderr  # every problem reported, and exit 1: some exist
    report = {Path(e["path"]).name: e for e in result.json()}
    for name, (_build, status) in BAD_FILES.items():
        assert report[name]["status"] == status, (name, report[name])
        assert report[name]["reason"] and report[name]["runs"] == 0
    assert report["hostile #1 [x]?.db"]["status"] == "ok"
    assert report["r-done-0001.db"] == {
        "path": str(messy / "r-done-0001.db"),
        "status": "ok",
        "kind": "ok",
        "reason": "schema-v1 ledger, 1 run(s)",
        "runs": 1,
        "format": "bcli",
        "version": "1",
    }
    table = run_cli("doctor", "--ledger-dir", messy)
    # Some files have problems: exit 1, so `ledgerx doctor && …` stops on a sick directory.
    assert table.code == 1 and "needs recovery" in table.stdout and "newer schema" in table.stdout
    assert "5 ok, 7 with problems" in table.stdout


def test_doctor_missing_source_exits_2(clean_dir, tmp_path):
    result = run_cli(
        "doctor", "--ledger-dir", clean_dir, "--ledger", tmp_path / "gone.db", "--format", "json"
    )
    assert result.code == 2
    statuses = {Path(e["path"]).name: e["status"] for e in result.json()}
    assert statuses["gone.db"] == "missing" and statuses["r-done-0001.db"] == "ok"
    assert not (tmp_path / "gone.db").exists()


def test_doctor_and_list_on_a_locked_file(tmp_path):
    good = make_ledger(tmp_path / "good.db", [RunSpec("r-good")])
    busy = make_ledger(tmp_path / "busy.db", [RunSpec("r-busy")], journal="delete")
    with ExclusiveLock(busy):
        doctor = run_cli("doctor", "--ledger", good, "--ledger", busy, "--format", "json")
        listed = run_cli("list", "--ledger-dir", tmp_path, "--format", "json")
    assert doctor.code == 1  # a locked file is a problem
    assert {Path(e["path"]).name: e["status"] for e in doctor.json()} == {
        "good.db": "ok",
        "busy.db": "locked",
    }
    assert [r["run_id"] for r in listed.json()] == ["r-good"]
    assert "busy.db" in listed.stderr and "locked" in listed.stderr


def test_console_script(clean_dir):
    script = REPO / ".venv" / "bin" / "ledgerx"
    if not script.exists():
        pytest.skip("no console script installed in .venv")
    proc = subprocess.run(
        [str(script), "list", "--ledger-dir", str(clean_dir), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)) == 4
