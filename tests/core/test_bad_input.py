"""Bad input (issue 2, SPEC §6): every unusable file gets a kind and a reason; others still list."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ledger_factory import (
    ExclusiveLock,
    RunSpec,
    StepSpec,
    dir_state,
    hostile_strings,
    make_corrupt,
    make_garbage,
    make_hot_journal,
    make_ledger,
    make_schema_version,
    make_truncated,
    make_unrelated_db,
    make_zero_byte,
)

from ledger_core import Sources, read_run, scan
from ledger_core.sanitize import clean, has_unsafe

NOW = 1_779_012_000.0
GOOD = RunSpec("r-good", state="completed", finished_at="2026-05-17T09:00:01Z")


def _scan_with(tmp_path: Path, name: str, build) -> tuple[object, Path]:
    """A directory holding one good ledger and the bad file ``name`` made by ``build``."""
    directory = tmp_path / "ledgers"
    directory.mkdir()
    make_ledger(directory / "good.db", [GOOD])
    bad = directory / name
    build(bad)
    return scan(Sources((directory,)), now=NOW, timeout=0.5), bad


def _only_problem(result, path: Path):
    assert [r.run_id for r in result.runs] == ["r-good"], "the other runs must still list"
    assert len(result.problems) == 1, result.problems
    problem = result.problems[0]
    assert problem.path == str(path)
    assert problem.reason and "Traceback" not in problem.reason
    return problem


@pytest.mark.parametrize(
    ("name", "build", "kind", "words"),
    [
        ("zero.db", make_zero_byte, "empty", "zero-byte"),
        ("text.db", make_garbage, "not_sqlite", "not an SQLite database"),
        ("cut.db", make_truncated, "corrupt", "truncated"),
        ("cut-pages.db", lambda p: make_truncated(p, keep=8192), "corrupt", "truncated"),
        ("corrupt.db", make_corrupt, "corrupt", "corrupt"),
        ("recipes.db", make_unrelated_db, "not_a_ledger", "not a ledger"),
        ("v2.db", lambda p: make_schema_version(p, 2), "newer_schema", "newer"),
        ("v0.db", lambda p: make_schema_version(p, 0), "missing_schema", "schema version"),
        ("noversion.db", lambda p: make_schema_version(p, None), "missing_schema", "empty"),
        ("hot.db", make_hot_journal, "needs_recovery", "hot journal"),
    ],
)
def test_bad_file_is_classified_and_the_rest_still_lists(tmp_path, name, build, kind, words):
    result, bad = _scan_with(tmp_path, name, build)
    problem = _only_problem(result, bad)
    assert problem.kind == kind
    assert words in problem.reason


def test_missing_schema_version_table(tmp_path):
    def build(path):
        make_ledger(path, [RunSpec("r-x")])
        conn = sqlite3.connect(path)
        conn.execute("DROP TABLE schema_version")
        conn.commit()
        conn.close()

    problem = _only_problem(*_scan_with(tmp_path, "old.db", build))
    assert problem.kind == "missing_schema"
    assert "schema_version" in problem.reason


def test_run_and_step_tables_without_ledger_columns(tmp_path):
    def build(path):
        conn = sqlite3.connect(path)
        conn.executescript("CREATE TABLE run (id); CREATE TABLE step (id);")
        conn.close()

    problem = _only_problem(*_scan_with(tmp_path, "lookalike.db", build))
    assert problem.kind == "not_a_ledger" and "run_id" in problem.reason


def test_directory_named_like_a_ledger(tmp_path):
    problem = _only_problem(*_scan_with(tmp_path, "dir.db", lambda p: p.mkdir()))
    assert problem.kind == "not_a_file"


def test_locked_file_reports_locked_within_the_timeout(tmp_path):
    directory = tmp_path / "ledgers"
    directory.mkdir()
    make_ledger(directory / "good.db", [GOOD])
    locked = make_ledger(directory / "busy.db", [RunSpec("r-busy")], journal="delete")
    with ExclusiveLock(locked):
        started = time.monotonic()
        result = scan(Sources((directory,)), now=NOW, timeout=0.5)
        elapsed = time.monotonic() - started
    problem = _only_problem(result, locked)
    assert problem.kind == "locked" and "locked" in problem.reason
    assert elapsed < 5, "a locked file must time out, never hang"
    # Once the other process lets go, the file reads normally.
    assert {r.run_id for r in scan(Sources((directory,)), now=NOW).runs} == {"r-good", "r-busy"}


def test_missing_path_is_reported_and_not_created(tmp_path):
    missing_file = tmp_path / "nope.db"
    missing_dir = tmp_path / "no-such-dir"
    good = make_ledger(tmp_path / "good.db", [GOOD])
    result = scan(Sources((missing_dir,), (missing_file, good)), now=NOW)
    assert [r.run_id for r in result.runs] == ["r-good"]
    kinds = {p.path: p.kind for p in result.problems}
    assert kinds == {str(missing_dir): "missing", str(missing_file): "missing"}
    assert not missing_file.exists() and not missing_dir.exists()


@pytest.mark.parametrize("name", ["with space.db", "hash#1.db", "what?.db", "br[ack]et.db"])
def test_odd_file_names(tmp_path, name):
    directory = tmp_path / "ledgers"
    make_ledger(tmp_path / "seed.db", [RunSpec("r-odd", steps=[StepSpec.committed(1)])])
    directory.mkdir()
    (tmp_path / "seed.db").rename(directory / name)
    before = dir_state(directory)
    result = scan(Sources((directory,)), now=NOW)
    assert [r.run_id for r in result.runs] == ["r-odd"] and not result.problems
    detail = read_run(directory / name, "r-odd", now=NOW)
    assert [s.seq for s in detail.steps] == [1]
    # '#' or '?' must not have cut the URI short and created a file named by the prefix.
    assert dir_state(directory) == before


def test_nulls_in_every_nullable_column(tmp_path):
    run = RunSpec(
        "r-nulls",
        state=None,
        started_at=None,
        finished_at=None,
        profile=None,
        environment=None,
        company=None,
        manifest_path=None,
        manifest_hash=None,
        steps=[
            StepSpec(
                1,
                status=None,
                outcome_ts=None,
                body_hash=None,
                bc_correlation_id=None,
                error_message=None,
                rollback_url=None,
            ),
            StepSpec(2, status=None, outcome_ts="2026-05-17T09:00:00Z"),
        ],
    )
    path = make_ledger(tmp_path / "nulls.db", [run, GOOD])
    conn = sqlite3.connect(path)
    # TEXT PRIMARY KEY admits NULL in SQLite: a run with no id at all.
    conn.execute("INSERT INTO run (run_id) VALUES (NULL)")
    conn.commit()
    conn.close()
    result = scan(Sources((), (path,)), now=NOW)
    assert not result.problems
    by_id = {r.run_id: r for r in result.runs}
    nulls = by_id["r-nulls"]
    assert nulls.state == "running" and nulls.stamped_state is None
    assert nulls.counts.in_doubt == 1 and nulls.counts.unknown == 1
    assert result.runs[-1].started_at is None  # runs without a start sort last
    detail = read_run(path, "r-nulls", now=NOW)
    assert [s.derived_status for s in detail.steps] == ["in_doubt", "unknown"]
    assert detail.to_dict()["started_at"] is None
    assert "" in by_id  # the id-less run is listed, not dropped


def test_nulls_in_not_null_columns_of_a_constraint_free_lookalike(tmp_path):
    """A tool that wrote the same columns without constraints: NULL seq, method, url, ts."""
    path = tmp_path / "loose.db"
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE run (run_id, manifest_path, manifest_hash, profile, environment, company,
                          state, started_at, finished_at);
        CREATE TABLE step (step_id INTEGER PRIMARY KEY, run_id, seq, intent_ts, method, url,
                           body_hash, outcome_ts, status, bc_correlation_id, error_message,
                           rollback_url);
        CREATE TABLE schema_version (version INTEGER PRIMARY KEY);
        INSERT INTO schema_version VALUES (1);
        INSERT INTO run (run_id, state) VALUES ('r-loose', 'exploded');
        INSERT INTO step (run_id) VALUES ('r-loose');
        INSERT INTO step (run_id, seq, status, outcome_ts) VALUES ('r-loose', 'two', 'committed',
                                                                   'x');
        """
    )
    conn.close()
    result = scan(Sources((), (path,)), now=NOW)
    assert not result.problems
    (run,) = result.runs
    assert run.stamped_state == "exploded" and run.state == "partially_committed"
    assert run.diagnosis  # says something, does not crash on the missing seq/method/url
    detail = read_run(path, "r-loose", now=NOW)
    assert detail.steps[0].seq is None and detail.steps[0].method is None
    assert detail.steps[1].seq is None  # 'two' is not a sequence number


@pytest.mark.parametrize(
    "stamp",
    ["yesterday", "", "2026-13-45T99:99:99Z", "0001-01-01T00:00:00+01:00", "9" * 500, "NaN"],
)
def test_unparseable_timestamps(tmp_path, stamp):
    run = RunSpec(
        "r-time",
        started_at=stamp,
        finished_at=None,
        steps=[
            StepSpec.committed(1, intent_ts=stamp, outcome_ts=stamp),
            StepSpec.in_doubt(2, intent_ts=stamp),
        ],
    )
    path = make_ledger(tmp_path / "time.db", [run, GOOD])
    result = scan(Sources((), (path,)), now=NOW)
    assert not result.problems
    got = {r.run_id: r for r in result.runs}["r-time"]
    assert got.started_at == stamp  # shown as stored, not guessed
    assert got.state == "partially_committed"
    assert got.liveness in ("stale", "unknown")
    detail = read_run(path, "r-time", now=NOW)
    assert detail.steps[0].latency_ms is None


def test_one_megabyte_error_message(tmp_path):
    huge = "E" * 1_000_000 + "\x1b[2J"
    run = RunSpec("r-huge", steps=[StepSpec.committed(1), StepSpec.failed(2, error_message=huge)])
    path = make_ledger(tmp_path / "huge.db", [run])
    (summary,) = scan(Sources((), (path,)), now=NOW).runs
    # The diagnosis quotes the error, but only a short, safe prefix of it.
    assert summary.state == "partially_committed"
    assert all(len(sentence) < 1000 for sentence in summary.diagnosis)
    detail = read_run(path, "r-huge", now=NOW)
    assert detail.steps[1].error_message == huge  # the data is kept whole ...
    shown = clean(detail.steps[1].error_message)
    assert len(shown) < 2100 and "more chars" in shown and not has_unsafe(shown)  # ... shown cut


def test_text_that_is_not_utf8(tmp_path):
    path = make_ledger(tmp_path / "latin1.db", [RunSpec("r-bytes", steps=[StepSpec.failed(1)])])
    conn = sqlite3.connect(path)
    conn.execute("UPDATE step SET error_message = CAST(x'4361666599' AS TEXT)")
    conn.execute("UPDATE run SET company = CAST(x'ff' AS TEXT)")
    conn.commit()
    conn.close()
    result = scan(Sources((), (path,)), now=NOW)
    assert not result.problems
    assert result.runs[0].company == "\ufffd"
    detail = read_run(path, "r-bytes", now=NOW)
    assert detail.steps[0].error_message.startswith("Caf")


HOSTILE = hostile_strings()


@pytest.mark.parametrize("label", sorted(HOSTILE))
def test_hostile_text_in_every_field_is_kept_literally(tmp_path, label):
    text = HOSTILE[label]
    run = RunSpec(
        f"r-{text}",
        state="running",
        started_at="2026-05-17T09:00:00Z",
        profile=text,
        environment=text,
        company=text,
        manifest_path=text,
        manifest_hash=text,
        steps=[
            StepSpec(
                1,
                method=text,
                url=text,
                body_hash=text,
                status=text,
                bc_correlation_id=text,
                error_message=text,
                rollback_url=text,
            ),
            StepSpec.in_doubt(2, method=text, url=text),
        ],
    )
    path = make_ledger(tmp_path / "hostile.db", [run, GOOD])
    result = scan(Sources((), (path,)), now=NOW)
    assert not result.problems and len(result.runs) == 2
    detail = read_run(path, run.run_id, now=NOW)
    data = detail.to_dict()
    for key in ("run_id", "profile", "environment", "company", "manifest_path"):
        assert data[key] in (text, f"r-{text}")
    step = data["steps"][0]
    for key in ("method", "url", "body_hash", "status", "bc_correlation_id", "error_message"):
        assert step[key] == text, key
    assert step["derived_status"] == "unknown"
    # Whatever a display layer shows passes through clean(): nothing left that acts on a terminal.
    for value in [*data.values(), *step.values(), *detail.summary.diagnosis]:
        if isinstance(value, str):
            assert not has_unsafe(clean(value))
            assert "\x1b" not in clean(value) and "\x00" not in clean(value)


@settings(max_examples=300, deadline=None)
@given(text=st.text(), limit=st.integers(min_value=1, max_value=80))
def test_clean_leaves_nothing_that_acts_on_a_terminal(text, limit):
    shown = clean(text, limit)
    assert not has_unsafe(shown)
    assert not any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in shown)
    assert len(shown) <= limit + len(f"… [{len(text):,} more chars]")
    if len(text) <= limit and not has_unsafe(text):
        assert shown == text  # ordinary text is shown exactly
