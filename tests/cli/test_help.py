"""`--version` and `--help` as `gh`/`git` users expect: examples, exit codes, globals once."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_cli

COMMANDS = ("list", "state", "rollback", "doctor", "demo", "formats", "serve")


def test_version():
    result = run_cli("--version")
    assert result.code == 0
    assert result.stdout.startswith("ledgerx ")


@pytest.mark.parametrize("command", COMMANDS)
def test_command_help_has_examples_and_exit_codes(command):
    result = run_cli(command, "--help")
    assert result.code == 0
    assert "examples:" in result.stdout and f"ledgerx {command}" in result.stdout
    assert "exit codes:" in result.stdout and "3  refused" in result.stdout
    # Global options are described once, in `ledgerx --help`, not under every command...
    assert "--ledger-dir DIR" not in result.stdout
    assert "ledgerx --help` describes them" in result.stdout


def test_global_options_described_once_at_the_top():
    text = run_cli("--help").stdout
    assert text.count("  --ledger-dir DIR ") == 1  # one description (the usage line aside)
    assert "exit codes:" in text


def test_global_options_still_work_after_the_command(tmp_path):
    # ...and still accepted after the command, as before.
    result = run_cli("list", "--ledger-dir", tmp_path, "--format", "json")
    assert result.code == 0
    assert result.json() == []


@pytest.mark.parametrize("command", ["list", "rollback"])
def test_readme_gives_the_exit_codes_exactly_as_help_does(command):
    help_text = run_cli(command, "--help").stdout
    block = help_text[help_text.index("exit codes:") :].rstrip("\n")
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert block in readme
