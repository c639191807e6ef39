"""The CLI over other formats: formats, doctor, list's format column and filter, FILE:RUN,
and a rollback refused with exit 3 and nothing written."""

from __future__ import annotations

import pytest
from conftest import FIXED_NOW
from format_factories import make_ao, make_cr, make_events
from ledger_factory import RunSpec, StepSpec, dir_state, make_ledger


@pytest.fixture
def mixed(tmp_path):
    d = tmp_path / "ledgers"
    d.mkdir()
    make_cr(
        d / "cr.db",
        [{"run_id": "same"}],
        [
            {
                "action_id": "a1",
                "run_id": "same",
                "status": "pending",
                "attempted_at": "2026-05-17T09:00:00Z",
            }
        ],
    )
    make_events(d / "events.db", [{"run_id": "same", "kind": "run.started"}])
    make_ao(d / "ao.db", [{"id": "s1"}], [{"session_id": "s1"}])
    make_ledger(d / "runner.db", [RunSpec("r-1", steps=[StepSpec.committed(1)])])
    (d / "other.db").write_bytes(b"")
    import sqlite3

    conn = sqlite3.connect(d / "recipes.db")
    conn.execute("CREATE TABLE recipes (name)")
    conn.close()
    return d


def test_formats_lists_builtin_formats_with_capabilities(cli):
    result = cli("formats", "--format", "json")
    assert result.code == 0
    by_name = {f["name"]: f for f in result.json()}
    assert set(by_name) == {"bcli", "cr", "agent-orchestrator", "event-ledger"}
    assert by_name["bcli"]["rollback"] is True
    assert (
        by_name["cr"]["rollback"] is False
        and "no safe automatic inverse" in by_name["cr"]["no_rollback_reason"]
    )
    assert by_name["event-ledger"]["in_doubt_possible"] is False
    table = cli("formats")
    assert table.code == 0 and "event-ledger" in table.stdout and "rollback:  none" in table.stdout


def test_doctor_names_each_files_format_and_version(cli, mixed):
    result = cli("doctor", "--ledger-dir", mixed, "--format", "json")
    # 1 when a file has a problem (the mixed directory holds unreadable ones too), else 0.
    problems = [e for e in result.json() if e["status"] != "ok"]
    assert result.code == (1 if problems else 0)
    got = {
        e["path"].rsplit("/", 1)[1]: (e["status"], e["format"], e["version"]) for e in result.json()
    }
    assert got["cr.db"] == ("ok", "cr", "2")
    assert got["events.db"] == ("ok", "event-ledger", "1")
    assert got["ao.db"][:2] == ("ok", "agent-orchestrator")
    assert got["runner.db"] == ("ok", "bcli", "1")
    assert got["recipes.db"] == ("not_a_ledger", None, None)
    recipes = next(e for e in result.json() if e["path"].endswith("recipes.db"))
    assert "its tables: recipes" in recipes["reason"]


def test_list_shows_and_filters_the_format(cli, mixed):
    table = cli("list", "--ledger-dir", mixed)
    assert table.code == 0 and "FORMAT" in table.stdout and "agent-orchestrator" in table.stdout
    only = cli(
        "list", "--ledger-dir", mixed, "--ledger-format", "cr,event-ledger", "--format", "json"
    )
    assert sorted((r["format"], r["run_id"]) for r in only.json()) == [
        ("cr", "same"),
        ("event-ledger", "same"),
    ]
    runner = cli("list", "--ledger-dir", mixed, "--ledger-format", "bcli", "--format", "json")
    assert [r["run_id"] for r in runner.json()] == ["r-1"]


def test_equal_ids_ambiguous_then_opened_as_file_run(cli, mixed):
    ambiguous = cli("state", "same", "--ledger-dir", mixed)
    assert ambiguous.code == 2
    assert (
        f"{mixed}/cr.db:same" in ambiguous.stderr and f"{mixed}/events.db:same" in ambiguous.stderr
    )
    cr = cli("state", "cr.db:same", "--ledger-dir", mixed, "--format", "json")
    assert cr.code == 0 and cr.json()["format"] == "cr"
    assert cr.json()["steps"][0]["extras"]["action_id"] == "a1"
    events = cli("state", f"{mixed}/events.db:sa", "--ledger-dir", mixed)
    assert events.code == 0 and "event-ledger" in events.stdout


def test_rollback_yes_exits_3_with_the_formats_reason_and_writes_nothing(cli, mixed):
    before = dir_state(mixed)
    result = cli("rollback", "cr.db:same", "--yes", "--ledger-dir", mixed)
    assert result.code == 3
    assert "no rollback for this format (cr)" in result.stderr
    assert "no safe automatic inverse" in result.stderr
    dry = cli("rollback", "events.db:same", "--dry-run", "--format", "json", "--ledger-dir", mixed)
    assert dry.code == 0 and dry.json()["refusal"].startswith("no rollback for this format")
    assert dir_state(mixed) == before


def test_a_broken_mapping_file_is_one_clear_error(cli, tmp_path, mixed):
    bad = tmp_path / "formats.toml"
    bad.write_text('[formats.mine]\ntables = ["x"]\nruns = "DELETE FROM x"\nsteps = "x"\n')
    result = cli("list", "--ledger-dir", mixed, "--formats", bad)
    assert result.code == 2 and result.stdout == ""
    assert (
        f"mapping file {bad}, format 'mine'" in result.stderr
        and "must be a SELECT" in result.stderr
    )
    assert "Traceback" not in result.stderr


def test_a_mapping_file_lists_in_formats_and_reads_its_ledger(cli, tmp_path, mixed):
    mapping = tmp_path / "formats.toml"
    mapping.write_text(
        "[formats.recipes]\n"
        'tables = ["recipes"]\n'
        "runs = \"SELECT name AS run_id, 'completed' AS state, "
        "'2026-05-17T09:00:00Z' AS finished_at FROM recipes\"\n"
        "steps = \"SELECT 1 AS seq, 'committed' AS status, '2026-05-17T09:00:00Z' AS intent_ts, "
        "'2026-05-17T09:00:01Z' AS outcome_ts FROM recipes WHERE name = :run_id\"\n"
    )
    import sqlite3

    conn = sqlite3.connect(mixed / "recipes.db")
    conn.execute("INSERT INTO recipes VALUES ('soup')")
    conn.commit()
    conn.close()
    names = [f["name"] for f in cli("formats", "--formats", mapping, "--format", "json").json()]
    assert names[-1] == "recipes"
    listed = cli("list", "--ledger-dir", mixed, "--ledger-format", "recipes", "--format", "json",
                 env={"LEDGERX_FORMATS": str(mapping)})  # fmt: skip
    assert [(r["run_id"], r["state"]) for r in listed.json()] == [("soup", "completed")]
    refused = cli("rollback", "soup", "--yes", "--ledger-dir", mixed, "--formats", mapping)
    assert refused.code == 3 and "no rollback for this format (recipes)" in refused.stderr


def test_hostile_text_in_another_format_is_shown_inert(cli, tmp_path):
    d = tmp_path / "hostile"
    d.mkdir()
    make_cr(
        d / "cr.db",
        [{"run_id": "h1", "profile": "[bold]p[/"}],
        [{"action_id": "a\x1b[31m1", "run_id": "h1", "status": "failed_terminal",
          "kind": "[@click=app.quit]x", "error": "boom\x07[/]\u202e"}],
    )  # fmt: skip
    result = cli("state", "h1", "--ledger-dir", d)
    assert result.code == 0, result.stderr
    assert (
        "\x1b" not in result.stdout
        and "\x07" not in result.stdout
        and "\u202e" not in result.stdout
    )
    assert "[@click=app.quit]x" in result.stdout and "[bold]p[/" in result.stdout


def test_a_quiet_event_log_run_is_stale_in_list_and_state(cli, tmp_path):
    d = tmp_path / "quiet"
    d.mkdir()
    old = "2020-01-01T00:00:00+00:00"  # long before any clock this runs at
    make_events(d / "events.db", [{"run_id": "ev-1", "kind": "run.started", "created_at": old}])
    import json

    listed = json.loads(cli("list", "--ledger-dir", d, "--format", "json").stdout)
    assert [r["verdict"] for r in listed] == ["stale"]
    assert (
        json.loads(cli("state", "ev-1", "--ledger-dir", d, "--format", "json").stdout)["verdict"]
        == "stale"
    )
    filtered = cli("list", "--ledger-dir", d, "--verdict", "stale", "--format", "json")
    assert [r["run_id"] for r in json.loads(filtered.stdout)] == ["ev-1"]
    table = cli("list", "--ledger-dir", d)
    row = table.stdout.splitlines()[-1]
    assert row.split()[0] == "stale"  # the verdict column; STATE stays the format's "running"


def test_dry_run_of_another_format_shows_its_steps_in_doubt_and_the_formats_reason(cli, tmp_path):
    from ledger_core.demo.other_formats import write_format_demos

    ledgers = tmp_path / "ledgers"
    ledgers.mkdir()
    roles = write_format_demos(ledgers, FIXED_NOW)
    profiles = tmp_path / "profiles.toml"
    profiles.write_text('[profiles.sandbox]\nbase_url = "http://127.0.0.1:9"\n')
    base = ("--ledger-dir", ledgers, "--profiles", profiles, "--utc")
    for role in ("cr_crashed_in_doubt", "orchestrator_in_doubt"):
        run_id = roles[role][1]
        dry = cli(*base, "rollback", run_id, "--dry-run")
        assert dry.code == 0, dry.stderr
        assert "(no rollback for this format)" in dry.stdout and "DISABLED" not in dry.stdout
        assert "1 in doubt" in dry.stdout and "0 to undo" in dry.stdout
        checklist = cli(*base, "rollback", run_id, "--dry-run", "--format", "markdown")
        assert "(no rollback for this format)" in checklist.stdout
        assert "## In doubt — needs a human" in checklist.stdout
        assert "DISABLED" not in checklist.stdout
        plan = cli(*base, "rollback", run_id, "--dry-run", "--format", "json").json()
        assert [a["group"] for a in plan["actions"]].count("in_doubt") == 1
        assert not [a for a in plan["actions"] if a["action"] == "delete"]
        before = dir_state(ledgers)
        refused = cli(*base, "rollback", run_id, "--yes")
        assert refused.code == 3 and "no rollback for this format" in refused.stderr
        assert dir_state(ledgers) == before
