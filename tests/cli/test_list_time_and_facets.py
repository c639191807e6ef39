"""`ledgerx list --since/--until`, the facet flags and `--utc`: real processes, fixed TZ."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import run_cli
from ledger_factory import RunSpec, StepSpec, make_ledger_dir

BERLIN = {"TZ": "Europe/Berlin"}


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory) -> Path:
    now = datetime.now(UTC)
    directory = tmp_path_factory.mktemp("timed")
    done = dict(
        state="completed", finished_at="2026-05-17T11:00:00.000000Z", steps=[StepSpec.committed(1)]
    )
    runs = [
        # 22:30 UTC on the 16th is 00:30 on the 17th in Berlin: the zone decides its day.
        RunSpec("r-late", started_at="2026-05-16T22:30:00.000000Z", **done),
        RunSpec("r-noon", started_at="2026-05-17T10:00:00.000000Z", company="Fabrikam", **done),
        RunSpec(
            "r-recent-doubt",
            started_at=_iso(now - timedelta(minutes=30)),
            finished_at=_iso(now - timedelta(minutes=20)),
            state="partially_committed",
            profile="prod",
            manifest_path="/manifests/Invoices-2026.yaml",
            steps=[StepSpec.committed(1), StepSpec.in_doubt(2)],
        ),
        RunSpec(
            "r-old-doubt",
            started_at=_iso(now - timedelta(days=3)),
            finished_at=_iso(now - timedelta(days=3)),
            state="partially_committed",
            environment="production",
            steps=[StepSpec.committed(1), StepSpec.in_doubt(2)],
        ),
    ]
    make_ledger_dir(directory, runs)
    return directory


def _ids(result) -> list[str]:
    assert result.code == 0, result.stderr
    return sorted(r["run_id"] for r in result.json())


def test_an_iso_date_is_the_local_day(runs_dir):
    day = ("--since", "2026-05-17", "--until", "2026-05-17", "--format", "json")
    berlin = run_cli("list", "--ledger-dir", runs_dir, *day, env=BERLIN)
    assert _ids(berlin) == ["r-late", "r-noon"]
    utc = run_cli("list", "--ledger-dir", runs_dir, *day, env={"TZ": "UTC"})
    assert _ids(utc) == ["r-noon"]


def test_attention_narrowed_by_age(runs_dir):
    both = run_cli("list", "--ledger-dir", runs_dir, "--attention", "--format", "json")
    assert _ids(both) == ["r-old-doubt", "r-recent-doubt"]
    recent = run_cli(
        "list", "--ledger-dir", runs_dir, "--attention", "--since", "24h", "--format", "json"
    )
    assert _ids(recent) == ["r-recent-doubt"]
    older = run_cli("list", "--ledger-dir", runs_dir, "--until", "1d", "--format", "json")
    assert _ids(older) == ["r-late", "r-noon", "r-old-doubt"]


def test_facet_flags(runs_dir):
    def ids(*flags):
        return _ids(run_cli("list", "--ledger-dir", runs_dir, *flags, "--format", "json"))

    assert ids("--company", "fabrikam") == ["r-noon"]
    assert ids("--company", "fabri") == []  # exact, any case
    assert ids("--manifest", "invoices") == ["r-recent-doubt"]  # a substring of the path
    assert ids("--profile", "prod", "--profile", "sandbox", "--environment", "production") == [
        "r-old-doubt"
    ]
    result = run_cli("list", "--ledger-dir", runs_dir, "--company", "nobody")
    assert result.code == 0 and "No matching runs" in result.stdout


@pytest.mark.parametrize(
    ("flag", "value", "words"),
    [
        ("--since", "soon", "--since: cannot read the time 'soon'"),
        ("--until", "2026-02-30", "--until: '2026-02-30' is not a real date"),
        ("--since", "5 fortnights", "unknown unit"),
    ],
)
def test_nonsense_is_a_usage_error_without_traceback(runs_dir, flag, value, words):
    result = run_cli("list", "--ledger-dir", runs_dir, flag, value)
    assert result.code == 2
    assert words in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_tables_show_local_time_with_the_zone_and_utc_on_request(runs_dir):
    env = {**BERLIN, "COLUMNS": "200"}
    local = run_cli("list", "--ledger-dir", runs_dir, "--company", "fabrikam", env=env)
    assert local.code == 0, local.stderr
    header = local.stdout.splitlines()[0]
    assert "STARTED (CET)" in header  # the zone of now (December)
    assert "2026-05-17 12:00:00 CEST" in local.stdout  # a summer time names its own zone
    utc = run_cli("--utc", "list", "--ledger-dir", runs_dir, "--company", "fabrikam", env=env)
    assert "STARTED (UTC)" in utc.stdout and "2026-05-17 10:00:00" in utc.stdout
    assert "CEST" not in utc.stdout
    after = run_cli("list", "--ledger-dir", runs_dir, "--company", "fabrikam", "--utc", env=env)
    assert after.stdout == utc.stdout  # a global option, before or after the command


def test_state_shows_local_times_json_stays_utc_as_stored(runs_dir):
    table = run_cli("state", "r-noon", "--ledger-dir", runs_dir, env=BERLIN)
    assert table.code == 0, table.stderr
    assert "2026-05-17 12:00:00 CEST" in table.stdout
    assert "INTENT (" in table.stdout
    data = run_cli("state", "r-noon", "--ledger-dir", runs_dir, "--format", "json", env=BERLIN)
    assert data.json()["started_at"] == "2026-05-17T10:00:00.000000Z"
    assert data.json()["steps"][0]["intent_ts"] == "2026-05-17T09:00:00.000000Z"
    listed = run_cli(
        "list", "--ledger-dir", runs_dir, "--company", "fabrikam", "--format", "json", env=BERLIN
    )
    assert listed.json()[0]["started_at"] == "2026-05-17T10:00:00.000000Z"


def test_help_describes_the_new_options_once():
    top = run_cli("--help")
    assert "--utc" in top.stdout
    listing = run_cli("list", "--help")
    for flag in ("--since", "--until", "--manifest", "--company", "--profile", "--environment"):
        assert flag in listing.stdout
    assert "--utc" in listing.stdout.split("global options")[1]  # named in the note only
