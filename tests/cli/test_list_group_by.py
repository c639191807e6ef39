"""`ledgerx list --group-by FACET`: sections in tables, one object per group in JSON, a leading
group column in csv/tsv; real processes on real ledger files."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import run_cli
from ledger_factory import RunSpec, StepSpec, make_ledger_dir


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory) -> Path:
    now = datetime.now(UTC)
    directory = tmp_path_factory.mktemp("grouped")

    def done(run_id: str, minutes_ago: int, **kw) -> RunSpec:
        at = _iso(now - timedelta(minutes=minutes_ago))
        return RunSpec(
            run_id,
            state="completed",
            started_at=at,
            finished_at=at,
            steps=[StepSpec.committed(1)],
            **kw,
        )

    def doubt(run_id: str, minutes_ago: int, **kw) -> RunSpec:
        at = _iso(now - timedelta(minutes=minutes_ago))
        return RunSpec(
            run_id,
            state="partially_committed",
            started_at=at,
            finished_at=at,
            steps=[StepSpec.committed(1), StepSpec.in_doubt(2)],
            **kw,
        )

    make_ledger_dir(
        directory,
        [
            done("big-1", 10, company="Big"),
            done("big-2", 20, company="Big"),
            done("big-3", 30, company="Big"),
            doubt("hot-recent", 40, company="Hot"),
            doubt("hot-old", 60 * 24 * 3, company="Hot"),
            # Ledger text is data: a company name that looks like markup and holds a newline.
            done("odd-1", 50, company="[bold]x\nEVIL"),
            doubt("none-1", 70, company=None),
        ],
    )
    return directory


def _list(runs_dir: Path, *flags: str, env: dict[str, str] | None = None):
    result = run_cli("list", "--ledger-dir", runs_dir, *flags, env=env)
    assert result.code == 0, result.stderr
    return result


def test_json_one_object_per_group_most_attention_first_none_last(runs_dir):
    data = _list(runs_dir, "--group-by", "company", "--format", "json").json()
    assert [g["group"]["value"] for g in data] == ["Hot", "Big", "[bold]x\nEVIL", None]
    hot = data[0]
    assert hot["group"] == {
        "facet": "company",
        "value": "Hot",
        "total": 2,
        "attention": 2,
        "counts": {"in_doubt": 2},
    }
    # Each group's runs are the same run objects as without --group-by, newest first.
    assert [r["run_id"] for r in hot["runs"]] == ["hot-recent", "hot-old"]
    flat = {r["run_id"]: r for r in _list(runs_dir, "--format", "json").json()}
    assert hot["runs"][0] == flat["hot-recent"]
    assert [r["run_id"] for r in data[1]["runs"]] == ["big-1", "big-2", "big-3"]


def test_without_group_by_json_is_unchanged_a_list_of_runs(runs_dir):
    data = _list(runs_dir, "--format", "json").json()
    assert isinstance(data, list) and all("run_id" in r and "group" not in r for r in data)


def test_attention_narrowed_by_age_and_grouped(runs_dir):
    data = _list(
        runs_dir, "--attention", "--since", "2h", "--group-by", "company", "--format", "json"
    ).json()
    assert [(g["group"]["value"], [r["run_id"] for r in g["runs"]]) for g in data] == [
        ("Hot", ["hot-recent"]),
        (None, ["none-1"]),
    ]


def test_table_has_a_section_per_group_with_its_counts(runs_dir):
    out = _list(runs_dir, "--group-by", "company", env={"COLUMNS": "160"}).stdout
    lines = out.splitlines()
    assert lines[0].startswith("VERDICT")  # one column header for every section
    headings = [line for line in lines if line.startswith("company ")]
    assert headings == [
        "company Hot · 2 runs · attention 2 · in doubt 2",
        "company Big · 3 runs · completed 3",
        "company [bold]x\\x0aEVIL · 1 run · completed 1",  # literal, the newline escaped
        "company (none) · 1 run · attention 1 · in doubt 1",
    ]
    # The runs follow their heading, before the next blank line.
    hot = lines.index(headings[0])
    assert "hot-recent" in lines[hot + 1] and "hot-old" in lines[hot + 2]
    assert lines[hot + 3] == ""


def test_csv_and_tsv_lead_with_the_group(runs_dir):
    text = _list(
        runs_dir, "--group-by", "Company", "--format", "csv", "--fields", "run_id,verdict"
    ).stdout
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["group", "run_id", "verdict"]
    assert rows[1:3] == [["Hot", "hot-recent", "in_doubt"], ["Hot", "hot-old", "in_doubt"]]
    assert rows[-1] == ["", "none-1", "in_doubt"]
    tsv = _list(runs_dir, "--group-by", "verdict", "--format", "tsv", "--no-headers").stdout
    first = tsv.splitlines()[0].split("\t")
    assert first[:2] == ["in_doubt", "hot-recent"]
    assert "\t" not in "\n".join(line.split("\t")[0] for line in tsv.splitlines())


def test_unknown_facet_is_a_usage_error_naming_the_facets(runs_dir):
    result = run_cli("list", "--ledger-dir", runs_dir, "--group-by", "colour")
    assert result.code == 2
    assert "unknown facet 'colour'" in result.stderr
    assert "verdict, manifest, company, profile, environment, format" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_help_names_group_by():
    assert "--group-by" in run_cli("list", "--help").stdout
