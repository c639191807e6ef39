"""Bad input (issue 2, SPEC §6): every unusable file gets a kind and a reason; others still list."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ledger_factory import (
    WRITER_DDL,
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

from ledger_core import (
    Plan,
    Profile,
    Profiles,
    RunNotFound,
    SourceError,
    Sources,
    read_run,
    read_steps_page,
    resolve_run,
    scan,
)
from ledger_core.rollback.executor import preview
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


# -- odd ids and numbers (issue 8): a reason for that run, never a crash -----------------------

_LOOSE_DDL = """
CREATE TABLE run (run_id, manifest_path, manifest_hash, profile, environment, company, state,
                  started_at, finished_at);
CREATE TABLE step (step_id, run_id, seq, intent_ts, method, url, body_hash, outcome_ts, status,
                   bc_correlation_id, error_message, rollback_url);
CREATE TABLE schema_version (version);
INSERT INTO schema_version VALUES (1);
INSERT INTO run (run_id, profile, state, started_at) VALUES
  ('r-odd', 'sandbox', 'running', '2026-05-17T09:00:00Z');
"""


def _loose_ledger(path: Path, steps: list[tuple], extra_sql: str = "") -> Path:
    """A ledger whose tables have no types or keys (as a hand-made or foreign file may):
    ``steps`` are (step_id, seq, status) committed POSTs with a rollback target."""
    conn = sqlite3.connect(path)
    conn.executescript(_LOOSE_DDL + extra_sql)
    for step_id, seq, status in steps:
        conn.execute(
            "INSERT INTO step VALUES (?, 'r-odd', ?, '2026-05-17T09:00:00Z', 'POST', "
            "'http://127.0.0.1:9/x', NULL, '2026-05-17T09:00:01Z', ?, NULL, NULL, "
            "'http://127.0.0.1:9/x(1)')",
            (step_id, seq, status),
        )
    conn.commit()
    conn.close()
    return path


def _sandbox() -> Profiles:
    return Profiles(None, {"sandbox": Profile("sandbox", base_url="http://127.0.0.1:9")})


@pytest.mark.parametrize(
    ("stored", "words"),
    [
        (None, "holds NULL"),
        ("abc", "holds the text 'abc'"),
        ("7", "holds the text '7'"),
        (2.5, "holds the REAL 2.5"),
        (b"\x00\xff", "holds a 2-byte BLOB"),
        (1, "the steps with seq 1 and 2 share step_id 1"),
    ],
)
def test_odd_step_ids_are_shown_named_and_refuse_rollback(tmp_path, stored, words):
    path = _loose_ledger(tmp_path / "odd.db", [(1, 1, "committed"), (stored, 2, "committed")])
    before = dir_state(tmp_path)
    result = scan(Sources((), (path,)), now=NOW)
    assert not result.problems and [r.run_id for r in result.runs] == ["r-odd"]
    detail = read_run(path, "r-odd", now=NOW)
    assert [s.seq for s in detail.steps] == [1, 2]
    assert detail.steps[1].step_id == (1 if stored == 1 else None)
    problem = detail.summary.diagnosis[-1]
    assert problem.startswith("table step, column step_id: ") and words in problem
    assert "will not roll it back" in problem
    assert [s.seq for s in read_steps_page(path, "r-odd", 0, 10)] == [1, 2]
    plan = preview(detail, _sandbox())
    assert plan.refusal_code == "bad_step_ids" and "step_id" in (plan.refusal or "")
    assert Plan.from_dict(json.loads(plan.to_json())) == plan
    assert "step_id" in plan.to_markdown()
    json.dumps(detail.to_dict(), allow_nan=False)  # what `state --format json` prints
    assert dir_state(tmp_path) == before


def test_unique_integer_step_ids_in_a_loose_table_are_fine(tmp_path):
    path = _loose_ledger(tmp_path / "ok.db", [(5, 1, "committed"), (9, 2, "committed")])
    detail = read_run(path, "r-odd", now=NOW)
    assert [s.step_id for s in detail.steps] == [5, 9]
    assert not any("step_id" in d for d in detail.summary.diagnosis)
    assert preview(detail, _sandbox()).refusal_code != "bad_step_ids"


def test_notable_steps_with_equal_seq_and_mixed_id_types_still_summarise(tmp_path):
    """The scanner orders failed/in-doubt steps by (seq, step_id): 'a' vs 1 must not raise."""
    path = _loose_ledger(tmp_path / "mixed.db", [(1, 3, "failed"), ("a", 3, "failed")])
    result = scan(Sources((), (path,)), now=NOW)
    assert not result.problems
    assert result.runs[0].counts.failed == 2


@pytest.mark.parametrize("attempt_id", [None, "first", 1.5, b"\x01"])
def test_odd_rollback_attempt_ids_are_shown_as_unknown(tmp_path, attempt_id):
    path = _loose_ledger(tmp_path / "att.db", [(1, 1, "rollback_failed")])
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE rollback_attempt (attempt_id, run_id, step_id, method, url, "
        "plan_fingerprint, pid, host, intent_ts, outcome_ts, http_status, result, error_message)"
    )
    conn.execute(
        "INSERT INTO rollback_attempt VALUES (?, 'r-odd', ?, 'DELETE', 'http://127.0.0.1:9/x(1)',"
        " NULL, 'pid?', 7, '2026-05-17T09:00:02Z', 3.5, 'five hundred', 'rollback_failed', NULL)",
        (attempt_id, attempt_id),
    )
    conn.commit()
    conn.close()
    detail = read_run(path, "r-odd", now=NOW)
    (attempt,) = detail.attempts
    assert attempt.attempt_id is None and attempt.step_id is None
    assert attempt.pid is None and attempt.http_status is None and attempt.host == "7"
    assert attempt.outcome_ts == "3.5"  # odd text-column values are shown as stored
    assert detail.attempts_for(1) == []  # an attempt without a usable step id is no step's
    json.dumps(detail.to_dict(), allow_nan=False)
    plan = preview(detail, _sandbox())
    assert Plan.from_dict(json.loads(plan.to_json())) == plan


def test_writer_pid_beyond_pid_t_is_not_alive(tmp_path):
    path = make_ledger(tmp_path / "w.db", [RunSpec("r-w", steps=[StepSpec.in_doubt(1)])])
    conn = sqlite3.connect(path)
    conn.executescript(WRITER_DDL)
    conn.execute(
        "INSERT INTO writer VALUES ('r-w', ?, ?, NULL, '2026-05-17T09:00:00Z', "
        "'2026-05-17T09:00:00Z', NULL)",
        (2**40, socket.gethostname()),
    )
    conn.commit()
    conn.close()
    (run,) = scan(Sources((), (path,)), now=NOW).runs
    assert run.liveness != "alive"


async def test_rollback_of_a_run_with_shared_step_ids_sends_nothing(tmp_path):
    """Two steps share a step_id: the executor would update both rows by that id. Even a plan
    without the refusal (made before the ids changed, or edited) is refused by execute, before
    any socket, with the ledger unchanged."""
    from rollback_servers import RUN_ID, rollback_ledger, write_profiles

    from ledger_core.demo.api import DemoApi
    from ledger_core.errors import RollbackRefused
    from ledger_core.rollback import executor as rollback

    ledgers = tmp_path / "ledgers"
    ledgers.mkdir()
    path = ledgers / "dup.db"
    with DemoApi() as api:
        rollback_ledger(path, api, 3)
        profiles = write_profiles(tmp_path / "p.toml", api.base_url)
        plan = preview(read_run(path, RUN_ID), profiles)
        assert plan.refusal is None and len(plan.deletes) == 3
        conn = sqlite3.connect(path)
        # The same rows in a step table without INTEGER PRIMARY KEY, two of them sharing id 2.
        conn.executescript(
            "CREATE TABLE loose AS SELECT * FROM step; DROP TABLE step; "
            "ALTER TABLE loose RENAME TO step; UPDATE step SET step_id = 2 WHERE seq = 3;"
        )
        conn.commit()
        conn.close()
        before = dir_state(ledgers)
        fresh = preview(read_run(path, RUN_ID), profiles)
        assert fresh.refusal_code == "bad_step_ids"
        assert "seq 2 and 3 share step_id 2" in (fresh.refusal or "")
        for attempt in (plan, replace(fresh, refusal=None, refusal_code=None)):
            with pytest.raises(RollbackRefused) as info:
                await rollback.execute(attempt, profiles)
            assert info.value.code == "bad_step_ids"
        assert api.connections == 0 and api.requests == []
        assert dir_state(ledgers) == before


@pytest.mark.parametrize("stored", [7, 7.5])
def test_run_id_stored_as_a_number_is_listed_and_explained_when_opened(tmp_path, stored):
    path = _loose_ledger(tmp_path / "num.db", [(1, 1, "committed")])
    conn = sqlite3.connect(path)
    conn.execute("UPDATE run SET run_id = ?", (stored,))
    conn.commit()
    conn.close()
    (run,) = scan(Sources((), (path,)), now=NOW).runs
    assert run.run_id == str(stored)
    with pytest.raises(RunNotFound) as info:
        read_run(path, run.run_id, now=NOW)
    kind = "INTEGER" if isinstance(stored, int) else "REAL"
    assert f"table run, column run_id: run {stored} in {path} is stored as {kind}" in str(
        info.value
    )


def test_a_run_id_in_two_run_rows_is_listed_but_not_opened(tmp_path):
    """Two rows for one run with different profiles: guessing one could roll back under the
    wrong profile (prod's disable_writes would be read from the other row)."""
    path = _loose_ledger(tmp_path / "twice.db", [(1, 1, "committed")])
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO run (run_id, profile, state) VALUES ('r-odd', 'prod', 'running')")
    conn.commit()
    conn.close()
    runs = scan(Sources((), (path,)), now=NOW).runs
    assert [r.profile for r in runs] == ["sandbox", "prod"]
    assert resolve_run(runs, "r-odd") is runs[0]  # one run id in one file: not "ambiguous"
    with pytest.raises(SourceError) as info:
        read_run(path, "r-odd", now=NOW)
    assert info.value.kind == "bad_rows"
    assert "table run, column run_id: run r-odd has 2 rows" in info.value.reason


def test_state_table_shows_odd_attempt_ids_as_question_marks(tmp_path):
    """`ledgerx state` (a real process): no 'None', and no seq borrowed from an id-less step."""
    path = _loose_ledger(tmp_path / "att.db", [(None, 4, "rollback_failed")])
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE rollback_attempt (attempt_id, run_id, step_id, method, url, "
        "plan_fingerprint, pid, host, intent_ts, outcome_ts, http_status, result, error_message)"
    )
    conn.execute(
        "INSERT INTO rollback_attempt VALUES ('x', 'r-odd', NULL, 'DELETE', 'http://h/x(1)', "
        "NULL, NULL, NULL, '2026-05-17T09:00:02Z', '2026-05-17T09:00:03Z', 500, "
        "'rollback_failed', 'HTTP 500')"
    )
    conn.commit()
    conn.close()
    proc = subprocess.run(
        [sys.executable, "-m", "tui.cli.main", "--ledger", str(path), "state", "r-odd"],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "LEDGERX_CACHE_DIR": "off", "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    attempts = proc.stdout.split("Rollback attempts", 1)[1]
    row = next(line for line in attempts.splitlines() if "http://h/x(1)" in line)
    assert row.split()[:3] == ["?", "?", "DELETE"]
    assert "None" not in proc.stdout
    assert "table step, column step_id" in proc.stdout  # the diagnosis names the problem


def test_a_run_whose_steps_cannot_all_be_read_is_not_opened(tmp_path):
    """Run and step ids stored as BLOBs: the list counts 2 committed steps, and reading by the
    id found none, so the rollback said "nothing to undo" (exit 0) while 2 POSTs had landed."""
    import sqlite3

    from ledger_factory import RunSpec, StepSpec, make_ledger

    from ledger_core.errors import SourceError
    from ledger_core.ledgers.reader import read_run, scan
    from ledger_core.ledgers.sources import Sources

    path = make_ledger(
        tmp_path / "blob.db",
        [RunSpec("blob0001", steps=[StepSpec.committed(1), StepSpec.committed(2)])],
    )
    conn = sqlite3.connect(path)
    conn.execute("UPDATE run SET run_id = CAST(run_id AS BLOB)")
    conn.execute("UPDATE step SET run_id = CAST(run_id AS BLOB)")
    conn.commit()
    conn.close()
    listed = scan(Sources((tmp_path,))).runs
    assert [r.counts.committed for r in listed] == [2]
    with pytest.raises(SourceError) as info:
        read_run(path, listed[0].run_id)
    assert info.value.kind == "bad_rows" and "cannot read whole" in info.value.reason


def test_a_foreign_rollback_attempt_table_is_a_clear_problem(tmp_path):
    """A table named like ledgerx's own but with other columns: `state` said "no such column:
    step_id" (exit 2) and the TUI said the run was "still loading"."""
    import sqlite3

    from ledger_factory import RunSpec, StepSpec, make_ledger

    from ledger_core.errors import SourceError
    from ledger_core.ledgers.reader import read_run

    path = make_ledger(tmp_path / "t.db", [RunSpec("r-foreign", steps=[StepSpec.committed(1)])])
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE rollback_attempt (attempt_id INTEGER PRIMARY KEY, x TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(SourceError) as info:
        read_run(path, "r-foreign")
    assert info.value.kind == "bad_rows" and str(path) in str(info.value)
    assert "rollback_attempt is not ledgerx's" in info.value.reason
