"""Mapping files: an unknown ledger (seed 004's Rust event store) read without code, and
every mapping mistake a clear message naming the file, the format and the key or column."""

from __future__ import annotations

import sqlite3

import pytest
from conftest import FIXED_NOW
from ledger_factory import dir_state

from ledger_core import formats
from ledger_core.errors import MappingError, SourceError
from ledger_core.formats.base import SchemaInfo
from ledger_core.formats.mapping import MappedFormat, load_mappings
from ledger_core.ledgers.access import snapshot
from ledger_core.ledgers.reader import read_run, read_summaries
from ledger_core.rollback import executor as rollback
from ledger_core.rollback.profiles import Profiles

SEED_004_DDL = """
CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT);
CREATE TABLE events (sequence INTEGER PRIMARY KEY AUTOINCREMENT, event_type TEXT NOT NULL,
  payload TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE projection_threads (id TEXT PRIMARY KEY, title TEXT);
CREATE TABLE projection_turns (id TEXT PRIMARY KEY, thread_id TEXT);
"""

MAPPING = '''
[formats.rust-events]
title = "Rust event store (seed 004)"
tables = ["events", "_sqlx_migrations"]
columns = { events = ["sequence", "event_type"] }
runs = """
SELECT json_extract(payload, '$.thread_id') AS run_id, min(created_at) AS started_at,
       max(CASE WHEN event_type = 'ThreadClosed' THEN created_at END) AS finished_at,
       max(CASE WHEN event_type = 'ThreadClosed' THEN 'completed' END) AS state,
       count(*) AS x_events
FROM events GROUP BY 1
"""
steps = """
SELECT sequence AS seq, created_at AS intent_ts,
       CASE WHEN event_type = 'TurnStarted' THEN NULL ELSE created_at END AS outcome_ts,
       CASE WHEN event_type = 'TurnStarted' THEN NULL ELSE 'committed' END AS status,
       event_type AS method, json_extract(payload, '$.type') AS x_type
FROM events WHERE json_extract(payload, '$.thread_id') = :run_id ORDER BY sequence
"""
'''


def _seed004(path):
    conn = sqlite3.connect(path)
    conn.executescript(SEED_004_DDL)
    rows = [
        ("ThreadCreated", "t1", "2026-05-17T09:00:00Z"),
        ("TurnCompleted", "t1", "2026-05-17T09:00:01Z"),
        ("ThreadClosed", "t1", "2026-05-17T09:00:02Z"),
        ("ThreadCreated", "t2", "2026-05-17T09:01:00Z"),
        ("TurnStarted", "t2", "2026-05-17T09:01:01Z"),
    ]
    for kind, thread, at in rows:
        payload = f'{{"type": "{kind}", "thread_id": "{thread}"}}'
        conn.execute(
            "INSERT INTO events (event_type, payload, created_at) VALUES (?, ?, ?)",
            (kind, payload, at),
        )
    conn.commit()
    conn.close()
    return path


@pytest.fixture
def mapped(tmp_path, monkeypatch):
    mapping = tmp_path / "formats.toml"
    mapping.write_text(MAPPING)
    monkeypatch.setenv("LEDGERX_FORMATS", str(mapping))
    formats.forget_mappings()
    yield mapping
    formats.forget_mappings()


def test_seed_004_is_not_a_ledger_without_a_mapping(tmp_path, monkeypatch):
    monkeypatch.delenv("LEDGERX_FORMATS", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    formats.forget_mappings()
    with pytest.raises(SourceError) as info:
        read_summaries(_seed004(tmp_path / "store.db"))
    assert info.value.kind == "not_a_ledger" and "_sqlx_migrations, events" in info.value.reason


def test_seed_004_read_through_its_mapping(tmp_path, mapped):
    path = _seed004(tmp_path / "store.db")
    before = dir_state(tmp_path)
    runs = {r.run_id: r for r in read_summaries(path, now=FIXED_NOW)}
    assert runs["t1"].format == "rust-events" and runs["t1"].state == "completed"
    assert runs["t1"].liveness == "finished" and dict(runs["t1"].extras) == {"events": "3"}
    assert runs["t2"].state == "partially_committed" and runs["t2"].counts.in_doubt == 1
    steps = read_run(path, "t2", now=FIXED_NOW).steps
    assert [s.derived_status for s in steps] == ["committed", "in_doubt"]
    assert dict(steps[1].extras) == {"type": "TurnStarted"}
    assert [f.name for f in formats.all_formats()][-1] == "rust-events"
    plan = rollback.preview(read_run(path, "t1", now=FIXED_NOW), Profiles(None))
    assert plan.refusal_code == "no_rollback_for_format" and "mapping file" in plan.refusal
    assert dir_state(tmp_path) == before


def _broken(tmp_path, text: str) -> str:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(MappingError) as info:
        load_mappings(path, set(formats.BUILTIN_NAMES))
    message = str(info.value)
    assert str(path) in message
    return message


GOOD = {
    "tables": '["events"]',
    "runs": '"SELECT 1 AS run_id"',
    "steps": '"SELECT 1 AS seq WHERE :run_id IS NOT NULL"',
}


def _spec(name="x", **changes) -> str:
    fields = GOOD | changes
    body = "\n".join(f"{k} = {v}" for k, v in fields.items() if v is not None)
    return f"[formats.{name}]\n{body}\n"


@pytest.mark.parametrize(
    "text,words",
    [
        ("[formats.x\n", "not valid TOML"),
        ("title = 1\n", "no [formats.NAME] table"),
        (_spec(name="cr"), "format 'cr': this name is a built-in format's"),
        (_spec(tables=None), "format 'x': missing key 'tables'"),
        (_spec(runs=None), "format 'x': missing key 'runs'"),
        (_spec(tables='"events"'), "'tables' must be a non-empty list"),
        (_spec(colums='{ events = ["a"] }'), "unknown key 'colums'"),
        (_spec(columns='{ events = "a" }'), "columns.events must be a list"),
        (_spec(runs='"DELETE FROM events"'), "'runs' must be a SELECT (it starts with 'DELETE')"),
        (_spec(runs='"SELECT 1 AS run_id; DROP TABLE events"'), "one single SELECT"),
        (_spec(steps='"SELECT 1 AS seq"'), "parameter :run_id"),
        (_spec(runs="3"), "'runs' must be one SELECT statement, as text"),
    ],
)
def test_every_mapping_file_mistake_is_named(tmp_path, text, words):
    message = _broken(tmp_path, text)
    assert words in message
    assert "Traceback" not in message


@pytest.mark.parametrize(
    "runs,steps,words",
    [
        (
            "SELECT 1 AS id",
            "SELECT 1 AS seq WHERE :run_id",
            "runs query: no result column 'run_id'",
        ),
        (
            "SELECT 't1' AS run_id, 2 AS colour",
            "SELECT 1 AS seq WHERE :run_id",
            "runs query: result column 'colour' is not one of ledgerx's names",
        ),
        (
            "SELECT nope AS run_id FROM events",
            "SELECT 1 AS seq WHERE :run_id",
            "no such column: nope",
        ),
        ("SELECT (1 AS run_id", "SELECT 1 AS seq WHERE :run_id", "runs query fails: near"),
        (
            "SELECT 't1' AS run_id",
            "SELECT 1 AS seq, 2 AS step WHERE :run_id IS NOT NULL",
            "steps query: result column 'step'",
        ),
    ],
)
def test_mapping_mistakes_found_when_reading_name_file_format_and_column(
    tmp_path, monkeypatch, runs, steps, words
):
    mapping = tmp_path / "m.toml"
    mapping.write_text(f'[formats.mine]\ntables = ["events"]\nruns = "{runs}"\nsteps = "{steps}"\n')
    monkeypatch.setenv("LEDGERX_FORMATS", str(mapping))
    formats.forget_mappings()
    try:
        with pytest.raises(SourceError) as info:
            read_summaries(_seed004(tmp_path / "store.db"), now=FIXED_NOW)
    finally:
        formats.forget_mappings()
    assert info.value.kind == "mapping_error"
    assert str(mapping) in info.value.reason and "format 'mine'" in info.value.reason
    assert words in info.value.reason


def test_the_authorizer_allows_nothing_but_reading(tmp_path):
    """Even a query that slipped past the file checks cannot write: defence in depth."""
    path = _seed004(tmp_path / "store.db")
    before = dir_state(tmp_path)
    spec = {"tables": ["events"], "runs": "DELETE FROM events", "steps": "x :run_id"}
    fmt = MappedFormat("m.toml", "mine", spec)

    def attempt(conn):
        return fmt.read_raw(conn, SchemaInfo.read(conn))

    with pytest.raises(MappingError) as info:
        snapshot(path, attempt)
    assert "only reading is allowed" in str(info.value)
    assert dir_state(tmp_path) == before


def test_an_endless_mapping_query_is_stopped_not_a_hang(tmp_path, monkeypatch):
    from ledger_core.formats import mapping as mapping_module

    monkeypatch.setattr(mapping_module, "QUERY_SECONDS", 0.2)
    mapping = tmp_path / "m.toml"
    mapping.write_text(
        '[formats.mine]\ntables = ["events"]\n'
        'runs = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) '
        'SELECT x AS run_id FROM c WHERE x < 0"\n'
        'steps = "SELECT 1 AS seq WHERE :run_id"\n'
    )
    monkeypatch.setenv("LEDGERX_FORMATS", str(mapping))
    formats.forget_mappings()
    try:
        with pytest.raises(SourceError) as info:
            read_summaries(_seed004(tmp_path / "store.db"), now=FIXED_NOW)
    finally:
        formats.forget_mappings()
    assert info.value.kind == "mapping_error" and "stopped after 0.2s" in info.value.reason
