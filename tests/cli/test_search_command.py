"""`ledgerx search TEXT` as a real process: step and run fields, table and JSON, exit codes."""

from __future__ import annotations

import json

from conftest import run_cli
from ledger_factory import RunSpec, StepSpec, make_ledger, make_ledger_dir


def _ledgers(tmp_path):
    directory = tmp_path / "ledgers"
    url = "https://api.test/v2/companies(1)/salesOrders(" + "9" * 120 + ")"
    make_ledger_dir(
        directory,
        [
            RunSpec(
                "r-one",
                steps=[
                    StepSpec.committed(1, url=url),
                    StepSpec.failed(2, error_message="HTTP 409: Conflict\x1b[2J on 100%_done"),
                ],
            ),
        ],
    )
    make_ledger(directory / "twin.db", [RunSpec("r-one", company="TWIN CO")])
    return directory, url


def test_table_names_run_step_field_and_value_one_line_each(tmp_path):
    directory, url = _ledgers(tmp_path)
    result = run_cli("search", "SALESORDERS(999", "--ledger-dir", directory)
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["RUN", "SEQ", "METHOD", "FIELD", "VALUE"]
    # r-one is in two files: the hit names its file. The long URL stays on one line, whole.
    (line,) = lines[1:]
    assert line.startswith(f"{directory / 'r-one.db'}:r-one")
    assert line.split()[1:4] == ["1", "POST", "url"] and line.endswith(url)


def test_json_and_hostile_text(tmp_path):
    directory, _ = _ledgers(tmp_path)
    result = run_cli("search", "100%_", "--ledger-dir", directory, "--format", "json")
    assert result.code == 0, result.stderr
    (hit,) = json.loads(result.stdout)
    assert (hit["run_id"], hit["seq"], hit["field"]) == ("r-one", 2, "error")
    assert hit["ref"].endswith("r-one.db:r-one")
    table = run_cli("search", "Conflict", "--ledger-dir", directory)
    assert "\x1b" not in table.stdout and "\\x1b[2J" in table.stdout
    assert run_cli("search", "0%x", "--ledger-dir", directory).stdout == ""


def test_no_match_is_exit_0_with_a_sentence_and_usage_errors_exit_2(tmp_path):
    directory, _ = _ledgers(tmp_path)
    none = run_cli("search", "nothing-like-this", "--ledger-dir", directory)
    assert none.code == 0 and none.stdout == "" and "no run or step matches" in none.stderr
    assert (
        json.loads(run_cli("search", "zzz", "--ledger-dir", directory, "--format", "json").stdout)
        == []
    )
    assert run_cli("search", "", "--ledger-dir", directory).code == 2
    assert run_cli("search", "x", "--limit", "0", "--ledger-dir", directory).code == 2
    missing = run_cli("search", "x", "--ledger-dir", tmp_path / "nope")
    assert missing.code == 2 and "no such source" in missing.stderr
    limited = run_cli("search", "r-one", "--limit", "1", "--ledger-dir", directory)
    assert len(limited.stdout.splitlines()) == 2 and "--limit N shows more" in limited.stderr


def test_cache_off_and_help_examples(tmp_path):
    directory, _ = _ledgers(tmp_path)
    off = run_cli("search", "twin", "--ledger-dir", directory, env={"LEDGERX_CACHE_DIR": "off"})
    assert off.code == 0 and "TWIN CO" in off.stdout
    helped = run_cli("search", "--help")
    assert helped.code == 0 and "ledgerx search" in helped.stdout and "examples:" in helped.stdout


def test_a_file_name_that_is_not_utf8_is_reported_not_fatal(tmp_path):
    import os

    directory, _ = _ledgers(tmp_path)
    make_ledger(directory / "odd.db", [RunSpec("r-odd", company="ODD CO")])
    os.rename(os.fsencode(directory / "odd.db"), os.fsencode(directory) + b"/odd\xff.db")
    for _ in range(2):  # building the index, then with it
        result = run_cli("search", "twin", "--ledger-dir", directory)
        assert result.code == 0, result.stderr
        assert "TWIN CO" in result.stdout and "not valid UTF-8" in result.stderr
        assert "Traceback" not in result.stderr


def _dated(tmp_path):
    directory = tmp_path / "dated"
    make_ledger_dir(
        directory,
        [
            RunSpec(
                "r-may",
                started_at="2026-05-17T09:00:00.000000Z",
                company="ACME",
                steps=[StepSpec.committed(1, url="https://api.test/salesOrders(1)")],
            ),
            RunSpec(
                "r-june",
                started_at="2026-06-02T09:00:00.000000Z",
                company="Fabrikam",
                steps=[StepSpec.committed(1, url="https://api.test/salesOrders(2)")],
            ),
        ],
    )
    return directory


def _runs_of(result) -> set[str]:
    return {hit["run_id"] for hit in json.loads(result.stdout)}


def test_since_until_and_facets_narrow_the_matches_like_list(tmp_path):
    """Issue 10: every command that lists takes --since/--until; search keeps the matches of
    runs that started in the window (and of the companies named), before its limit."""
    directory = _dated(tmp_path)
    base = ["search", "salesOrders", "--ledger-dir", directory, "--format", "json", "--utc"]
    assert _runs_of(run_cli(*base)) == {"r-may", "r-june"}
    assert _runs_of(run_cli(*base, "--since", "2026-06-01")) == {"r-june"}
    assert _runs_of(run_cli(*base, "--until", "2026-06-01")) == {"r-may"}
    assert _runs_of(run_cli(*base, "--company", "acme")) == {"r-may"}
    # The limit applies after the narrowing: the one June match is not cut by May's.
    assert _runs_of(run_cli(*base, "--since", "2026-06-01", "--limit", "1")) == {"r-june"}
    none = run_cli(*base[:-3], "--since", "2026-07-01", "--company", "ACME")
    assert none.code == 0 and none.stdout == ""
    assert "among the runs started since 2026-07-01, company 'ACME'" in none.stderr


def test_a_bad_since_is_a_usage_error(tmp_path):
    directory = _dated(tmp_path)
    result = run_cli("search", "salesOrders", "--ledger-dir", directory, "--since", "soon")
    assert result.code == 2 and "--since" in result.stderr and "Traceback" not in result.stderr


def test_text_the_shell_could_not_decode_matches_nothing_without_an_error(tmp_path):
    directory, _ = _ledgers(tmp_path)
    # "\udcff": how Python hands over the byte 0xff of a command line that is not UTF-8.
    result = run_cli("search", "ab\udcff", "--ledger-dir", directory)
    assert result.code == 0 and result.stdout == ""
    assert "no run or step matches" in result.stderr and "unexpected" not in result.stderr


def test_a_text_of_spaces_is_searched_and_unreadable_links_are_named(tmp_path):
    directory = tmp_path / "ledgers"
    make_ledger_dir(directory, [RunSpec("r-nbsp", company="CRONUS\u00a0USA")])
    (directory / "loop-a.db").symlink_to("loop-b.db")
    (directory / "loop-b.db").symlink_to("loop-a.db")
    (directory / "dangling.db").symlink_to(tmp_path / "nowhere.db")
    result = run_cli("search", "\u00a0", "--ledger-dir", directory, "--format", "json")
    assert result.code == 0, result.stderr
    assert [hit["run_id"] for hit in json.loads(result.stdout)] == ["r-nbsp"]
    for name, why in (
        ("loop-a.db", "a symbolic link that never ends"),
        ("dangling.db", "a symbolic link to nothing"),
    ):
        assert f"{directory / name}: " in result.stderr and why in result.stderr, result.stderr
    assert run_cli("search", "", "--ledger-dir", directory).code == 2
