"""The CLI at 80 columns on a terminal and piped: what matters stays, values stay whole."""

from __future__ import annotations

import csv
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, run_cli
from ledger_factory import RunSpec, StepSpec, make_ledger

SGR = re.compile(r"\x1b\[[0-9;]*m")
LONG_URL = "https://api.example.test/v2.0/companies(5f3c2a10-8b1e-4c55-9a0e-1d2c3b4a5f60)/x"
STAMP = "nightly-billing-import-2026-12-03T04:12"


def _run(n: int, **kw) -> RunSpec:
    return RunSpec(
        f"{STAMP}-{n:04d}",
        state="completed",
        finished_at="2026-05-17T09:05:00Z",
        started_at=f"2026-05-17T09:{n % 60:02d}:00Z",
        profile="sandbox-profile-with-a-long-name",
        environment="production-eu-west-with-a-long-name",
        company="CRONUS International Ltd. (long)",
        steps=[StepSpec.committed(1, url=LONG_URL)],
        **kw,
    )


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("narrow")
    make_ledger(directory / "a.db", [_run(n) for n in range(3)])
    hostile = RunSpec(
        '=HYPERLINK("http://evil")',
        profile="tab\there",
        company="-2+3",
        steps=[StepSpec.committed(1, url=LONG_URL + "\nsecond line")],
    )
    make_ledger(directory / "b.db", [hostile])
    return directory


def _pty(args: list[str], columns: int) -> str:
    """Like ``_run_on_pty`` but at ``columns`` wide; returns the text without styles."""
    import pty
    import select

    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGERX_")}
    env.update(COLUMNS=str(columns), TERM="xterm-256color", LEDGERX_CACHE_DIR="off")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui.cli.main", *args],
        cwd=REPO,
        stdout=slave,
        stderr=subprocess.DEVNULL,
        env=env,
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
    return SGR.sub("", b"".join(chunks).decode("utf-8", "replace")).replace("\r\n", "\n")


def test_list_at_80_columns_keeps_verdict_counts_start_and_a_middle_cut_id(runs_dir):
    out = _pty(["list", "--ledger", runs_dir / "a.db"], 80)
    lines = [line for line in out.splitlines() if line.strip()]
    assert all(len(line) <= 80 for line in lines), lines
    header = lines[0].split()
    assert header[:2] == ["VERDICT", "RUN"] and "STARTED" in header and "STEPS" in header
    assert "COMPANY" not in header and "PROFILE" not in header  # wide columns dropped first
    body = "\n".join(lines[2:])
    for n in range(3):
        line = next(line for line in lines if f"04:12-{n:04d}" in line)  # the end that differs
        assert "nightly-bill" in line and "…" in line  # shortened in its middle
    assert "completed" in body and "2026-05-17 09:01:00" in body and "1/0/0" in body
    assert "comp…" not in body and "commi…" not in body


def test_list_on_a_wide_terminal_shows_every_column_in_full(runs_dir):
    out = _pty(["list", "--ledger", runs_dir / "a.db"], 300)
    assert "COMPANY" in out and "ENVIRONMENT" in out and f"{STAMP}-0002" in out


def test_state_at_80_columns_is_readable(runs_dir):
    out = _pty(["state", f"{STAMP}-0001", "--ledger", runs_dir / "a.db"], 80)
    assert all(len(line) <= 80 for line in out.splitlines())
    assert "more chars]" not in out and "commi…" not in out
    assert "committed" in out and "correlation id corr-1" in out
    assert LONG_URL in out.replace("\n", "").replace(" ", "")  # folded at the edge, not cut


def test_piped_list_is_one_full_record_per_line_whatever_columns_says(runs_dir):
    result = run_cli("list", "--ledger", runs_dir / "a.db", env={"COLUMNS": "80"})
    assert result.code == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 2 + 3
    for n in range(3):
        assert sum(f"{STAMP}-{n:04d}" in line for line in lines) == 1
    assert "CRONUS International Ltd. (long)" in result.stdout


def test_piped_state_never_cuts_a_url(runs_dir):
    result = run_cli("state", f"{STAMP}-0001", "--ledger", runs_dir / "a.db", env={"COLUMNS": "80"})
    assert result.code == 0
    assert any(LONG_URL in line for line in result.stdout.splitlines())


@pytest.mark.parametrize("command", ["state", "list"])
def test_piped_lines_carry_no_padding_to_the_widest_row(runs_dir, command):
    args = ["state", f"{STAMP}-0001"] if command == "state" else ["list"]
    result = run_cli(*args, "--ledger", runs_dir / "a.db")
    assert result.code == 0
    lines = result.stdout.splitlines()
    assert len(lines) > 3
    assert [line for line in lines if line != line.rstrip()] == []


def test_list_csv_full_values_guarded_and_sanitised(runs_dir):
    result = run_cli("list", "--ledger-dir", runs_dir, "--format", "csv")
    assert result.code == 0 and result.stderr == ""
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 4
    by_id = {row["run_id"]: row for row in rows}
    assert f"{STAMP}-0002" in by_id
    assert by_id[f"{STAMP}-0002"]["company"] == "CRONUS International Ltd. (long)"
    # A cell a spreadsheet would run as a formula is kept as text, with a leading apostrophe.
    assert '\'=HYPERLINK("http://evil")' in by_id
    hostile = by_id['\'=HYPERLINK("http://evil")']
    assert hostile["company"] == "'-2+3"
    assert hostile["profile"] == "tab\\x09here"  # control characters become visible escapes
    assert hostile["committed"] == "1" and hostile["total"] == "1"


def test_list_tsv_fields_and_no_headers(runs_dir):
    result = run_cli(
        "list",
        "--ledger-dir",
        runs_dir,
        "--format",
        "tsv",
        "--fields",
        "run_id,PROFILE",
        "--no-headers",
    )
    assert result.code == 0
    lines = result.stdout.splitlines()
    assert len(lines) == 4 and all(line.count("\t") == 1 for line in lines)
    assert '=HYPERLINK("http://evil")\ttab\\x09here' in lines  # TSV keeps the value as is
    with_header = run_cli("list", "--ledger-dir", runs_dir, "--format", "tsv").stdout
    assert with_header.splitlines()[0].startswith("run_id\tverdict\tstate\t")


def test_table_no_headers(runs_dir):
    out = run_cli("list", "--ledger", runs_dir / "a.db", "--no-headers").stdout
    assert "VERDICT" not in out and len(out.splitlines()) == 3


@pytest.mark.parametrize(
    "args, message",
    [
        (["--format", "csv", "--fields", "run_id,nope"], "unknown field nope"),
        (["--fields", "run_id"], "--fields works with --format csv or tsv"),
        (["--format", "tsv", "--fields", ","], "unknown field"),
    ],
)
def test_bad_fields_exit_2(runs_dir, args, message):
    result = run_cli("list", "--ledger-dir", runs_dir, *args)
    assert result.code == 2 and message in result.stderr and result.stdout == ""


def _closed_early(args: list[str]) -> subprocess.CompletedProcess:
    """Run the CLI with stdout piped, read one line and close the pipe, as `| head -1` does."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGERX_")}
    env["LEDGERX_CACHE_DIR"] = "off"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui.cli.main", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()
    stderr = proc.stderr.read()
    proc.wait(timeout=60)
    return subprocess.CompletedProcess(args, proc.returncode, first, stderr)


@pytest.fixture(scope="module")
def big_run(tmp_path_factory) -> Path:
    """One run whose `state` output is far bigger than a pipe's buffer."""
    path = tmp_path_factory.mktemp("big") / "big.db"
    steps = [StepSpec.committed(i, url=f"{LONG_URL}/{i}" + "p" * 200) for i in range(1, 1500)]
    make_ledger(path, [RunSpec("big-run", steps=steps)])
    return path


@pytest.mark.parametrize("command", ["state", "list", "csv"])
def test_a_reader_that_leaves_early_is_not_an_error(big_run, tmp_path, command):
    if command == "state":
        args = ["state", "big-run", "--ledger", str(big_run)]
    else:
        many = tmp_path / "many.db"
        make_ledger(many, [_run(n) for n in range(2500)])
        args = ["list", "--ledger", str(many)] + (["--format", "csv"] if command == "csv" else [])
    result = _closed_early(args)
    assert result.stdout
    assert result.returncode == 0 and result.stderr == b""


@pytest.mark.parametrize("broken", [False, True])
def test_doctor_cut_short_keeps_its_meaning(tmp_path, broken):
    # Enough files that the report is far bigger than a pipe's buffer.
    directory = tmp_path / "many"
    directory.mkdir()
    make_ledger(directory / "seed.db", [_run(1)])
    seed = (directory / "seed.db").read_bytes()
    for n in range(300):
        (directory / f"{'ledger-with-a-long-name-' * 8}{n:03d}.db").write_bytes(seed)
    if broken:
        (directory / "broken.db").write_bytes(b"not a database at all" * 100)
    result = _closed_early(["doctor", "--ledger-dir", str(directory)])
    assert result.stdout and result.stderr == b""
    assert result.returncode == (1 if broken else 0)  # 1: a file has a problem, as unpiped
