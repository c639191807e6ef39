"""`ledgerx list --verdict/--state/--attention`: one vocabulary with the TUI, verdict first."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_cli, sample_runs
from ledger_factory import RunSpec, StepSpec, make_ledger_dir

from ledger_core.derive import needs_attention
from ledger_core.ledgers.reader import scan
from ledger_core.ledgers.sources import Sources
from ledger_core.vocabulary import FILTERS


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("verdicts")
    crashed = RunSpec(
        "r-crashed-0005",
        state="running",
        started_at="2026-05-17T08:40:00.000000Z",
        steps=[StepSpec.committed(1), StepSpec.committed(2)],  # quiet for months, unfinished
    )
    make_ledger_dir(directory, [*sample_runs(), crashed])
    return directory


def _ids(result) -> set[str]:
    assert result.code == 0, result.stderr
    return {r["run_id"] for r in result.json()}


def test_json_carries_the_verdict_and_the_liveness_reason(runs_dir):
    runs = {
        r["run_id"]: r for r in run_cli("list", "--ledger-dir", runs_dir, "--format", "json").json()
    }
    assert runs["r-crashed-0005"]["verdict"] == "crashed"
    assert runs["r-crashed-0005"]["state"] == "completed"  # the runner's rules, unchanged
    assert runs["r-crashed-0005"]["liveness"] == "stale"
    assert "no -shm" in runs["r-crashed-0005"]["liveness_reason"]
    assert runs["r-crash-0003"]["verdict"] == "in_doubt"
    assert runs["r-done-0001"]["verdict"] == "completed"
    assert runs["r-done-0001"]["holder"] is None
    for run in runs.values():
        assert not any("RUN" in s.split() or "`ledgerx rollback RUN" in s for s in run["diagnosis"])
    partial = runs["r-partial-0004"]
    assert any("`ledgerx rollback r-partial-0004 --dry-run`" in s for s in partial["diagnosis"])
    assert partial["advice"][0]["kind"] == "preview_rollback"


@pytest.mark.parametrize("spelling", ["crashed", "CRASHED", "Crashed", " crashed "])
def test_verdict_filter_accepts_values_and_labels_any_case(runs_dir, spelling):
    result = run_cli("list", "--ledger-dir", runs_dir, "--verdict", spelling, "--format", "json")
    assert _ids(result) == {"r-crashed-0005"}


def test_state_filter_accepts_the_tui_label(runs_dir):
    by_value = run_cli(
        "list", "--ledger-dir", runs_dir, "--state", "partially_committed", "--format", "json"
    )
    by_label = run_cli("list", "--ledger-dir", runs_dir, "--state", "partial", "--format", "json")
    by_words = run_cli(
        "list", "--ledger-dir", runs_dir, "--state", "Partially Committed", "--format", "json"
    )
    assert _ids(by_value) == _ids(by_label) == _ids(by_words) == {"r-partial-0004", "r-crash-0003"}


def test_verdict_labels_with_spaces_and_commas(runs_dir):
    result = run_cli(
        "list", "--ledger-dir", runs_dir, "--verdict", "in doubt,RB INCOMPLETE", "--format", "json"
    )
    assert _ids(result) == {"r-crash-0003"}


def test_unknown_verdict_is_a_usage_error_listing_the_words(runs_dir):
    result = run_cli("list", "--ledger-dir", runs_dir, "--verdict", "exploded")
    assert result.code == 2 and result.stdout == ""
    assert "--verdict" in result.stderr and "rollback_incomplete" in result.stderr
    assert "Traceback" not in result.stderr


def test_attention_flag_is_the_core_function(runs_dir):
    result = run_cli("list", "--ledger-dir", runs_dir, "--attention", "--format", "json")
    expected = {r.run_id for r in scan(Sources((runs_dir,))).runs if needs_attention(r)}
    assert _ids(result) == expected
    assert expected == {"r-fail-0002", "r-crash-0003", "r-partial-0004", "r-crashed-0005"}


def test_every_tui_filter_has_a_cli_flag_finding_the_same_runs(runs_dir):
    everything = scan(Sources((runs_dir,))).runs
    for preset in FILTERS:
        if preset.axis == "all":
            continue
        args = ["list", "--ledger-dir", str(runs_dir), *preset.flag.split(), "--format", "json"]
        keep = preset.test()
        assert _ids(run_cli(*args)) == {r.run_id for r in everything if keep(r)}, preset.key


def test_table_shows_the_verdict_first(runs_dir):
    result = run_cli("list", "--ledger-dir", runs_dir)
    lines = result.stdout.splitlines()
    assert lines[0].split()[0] == "VERDICT"
    crashed = next(line for line in lines if "r-crashed-0005" in line)
    assert crashed.split()[:2] == ["crashed", "r-crashed-0005"]
    state = run_cli("state", "r-crashed-0005", "--ledger-dir", runs_dir)
    assert state.stdout.splitlines()[0].split() == ["verdict", "crashed"]
    assert "no -shm" in state.stdout


def test_the_doubt_count_includes_steps_of_an_unreadable_status(tmp_path):
    """A status nobody can read (``Committed``) may or may not have landed: the verdict says
    in doubt, so the Doubt count must not say 0 beside it (review finding)."""
    directory = tmp_path / "ledgers"
    steps = [StepSpec.committed(1), StepSpec.committed(2), StepSpec(3, status="Committed")]
    make_ledger_dir(directory, [RunSpec("r-odd", finished_at="2026-05-17T09:01:00Z", steps=steps)])
    table = run_cli("list", "--ledger-dir", directory)
    assert table.code == 0, table.stderr
    (line,) = [x for x in table.stdout.splitlines() if "r-odd" in x]
    assert "2/0/1  of 3" in line and "in_doubt" in line
    csv = run_cli(
        "list", "--ledger-dir", directory, "--format", "csv", "--fields", "in_doubt,unknown"
    )
    assert csv.stdout.splitlines()[1:] == ["0,1"]
