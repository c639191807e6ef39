"""Recognising formats: by schema alone; unknown, ambiguous and foreign files; caching."""

from __future__ import annotations

import sqlite3

import pytest
from conftest import FIXED_NOW
from format_factories import make_ao, make_cr, make_events
from ledger_factory import RunSpec, StepSpec, make_ledger

from ledger_core import formats
from ledger_core.errors import AmbiguousRunId, SourceError
from ledger_core.ledgers.access import snapshot
from ledger_core.ledgers.reader import read_run, read_summaries, resolve_run, scan
from ledger_core.ledgers.scanner import scan_files
from ledger_core.ledgers.sources import Sources
from ledger_core.ledgers.summary_cache import SummaryCache


def _format_of(path):
    return snapshot(path, lambda conn: formats.detect(conn, path)[0].name)


def test_each_format_recognised_whatever_the_file_is_called(tmp_path):
    make_cr(tmp_path / "events.sqlite", [{"run_id": "c"}], [])
    make_events(tmp_path / "ledger.db", [{"run_id": "e", "kind": "run.started"}])
    make_ao(tmp_path / "cr.db", [{"id": "s"}], [])
    make_ledger(tmp_path / "x.db", [RunSpec("r", steps=[StepSpec.committed(1)])])
    assert _format_of(tmp_path / "events.sqlite") == "cr"
    assert _format_of(tmp_path / "ledger.db") == "event-ledger"
    assert _format_of(tmp_path / "cr.db") == "agent-orchestrator"
    assert _format_of(tmp_path / "x.db") == "bcli"


def test_unrelated_database_names_its_tables(tmp_path):
    path = tmp_path / "recipes.db"
    conn = sqlite3.connect(path)
    conn.executescript("CREATE TABLE recipes (x); CREATE TABLE cooks (y);")
    conn.close()
    with pytest.raises(SourceError) as info:
        read_summaries(path)
    assert info.value.kind == "not_a_ledger"
    assert "matches no known format" in info.value.reason
    assert "its tables: cooks, recipes" in info.value.reason


def test_database_without_tables(tmp_path):
    path = tmp_path / "empty.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 1")
    conn.close()
    with pytest.raises(SourceError) as info:
        read_summaries(path)
    assert "it has no tables" in info.value.reason


def test_a_file_matching_two_formats_is_ambiguous(tmp_path):
    path = make_cr(tmp_path / "both.db", [{"run_id": "c"}], [])
    conn = sqlite3.connect(path)
    conn.execute(
        'CREATE TABLE events ("offset" INTEGER PRIMARY KEY, id, run_id, turn, kind, actor)'
    )
    conn.close()
    with pytest.raises(SourceError) as info:
        read_summaries(path)
    assert info.value.kind == "ambiguous" and "cr, event-ledger" in info.value.reason


def test_runner_ledger_mistakes_keep_their_own_reason(tmp_path):
    path = tmp_path / "half.db"
    conn = sqlite3.connect(path)
    conn.executescript("CREATE TABLE run (run_id); CREATE TABLE step (step_id)")
    conn.close()
    with pytest.raises(SourceError) as info:
        read_summaries(path)
    assert "run/step tables lack" in info.value.reason


def test_all_formats_in_one_scan_with_problems_and_runner_runs(tmp_path):
    make_cr(tmp_path / "a.db", [{"run_id": "c1"}], [])
    make_events(tmp_path / "b.db", [{"run_id": "e1", "kind": "run.started"}])
    make_ao(tmp_path / "c.db", [{"id": "s1"}], [])
    make_ledger(tmp_path / "d.db", [RunSpec("r1", steps=[StepSpec.committed(1)])])
    (tmp_path / "junk.db").write_bytes(b"not sqlite at all" * 10)
    result = scan(Sources((tmp_path,)), now=FIXED_NOW)
    got = {(r.format, r.run_id) for r in result.runs}
    assert got == {
        ("cr", "c1"),
        ("event-ledger", "e1"),
        ("agent-orchestrator", "s1"),
        ("bcli", "r1"),
    }
    assert [p.kind for p in result.problems] == ["not_sqlite"]
    json_run = next(r for r in result.runs if r.format == "cr").to_dict()
    assert json_run["format"] == "cr" and json_run["extras"]["outcome"] == "(not finished)"


def test_cache_stores_tagged_raw_runs_and_serves_them(tmp_path):
    cr = make_cr(
        tmp_path / "a.db",
        [{"run_id": "c1"}],
        [{"action_id": "x", "run_id": "c1", "status": "posted"}],
    )
    cache = SummaryCache(tmp_path / "cache")
    first = scan_files([cr], now=FIXED_NOW, cache=cache, workers=1)[0]
    import os

    os.utime(cr, ns=(1, 1))  # out of the racy window, so the entry is stored
    first = scan_files([cr], now=FIXED_NOW, cache=cache, workers=1)[0]
    sig = __import__("ledger_core.ledgers.scanner", fromlist=["signature"]).signature(str(cr))
    entry = cache.lookup(cr, sig)
    assert entry is not None and entry[0][0] == "cr"  # the format tag
    assert all(isinstance(v, (str, int, float, tuple, type(None), bool)) for v in entry[0][1])
    second = scan_files([cr], now=FIXED_NOW, cache=cache, workers=1)[0]
    assert second == first and second[0].format == "cr"


def test_equal_run_ids_in_two_files_are_both_listed_and_openable(tmp_path):
    a = make_events(tmp_path / "a.db", [{"run_id": "same", "kind": "run.started"}])
    b = make_cr(tmp_path / "b.db", [{"run_id": "same"}], [])
    runs = scan(Sources((tmp_path,)), now=FIXED_NOW).runs
    assert sorted(r.source for r in runs if r.run_id == "same") == [str(a), str(b)]
    with pytest.raises(AmbiguousRunId) as info:
        resolve_run(runs, "sa")
    assert f"{a}:same" in str(info.value) and f"{b}:same" in str(info.value)
    assert resolve_run(runs, f"{a}:same").source == str(a)
    assert resolve_run(runs, "b.db:sa").format == "cr"  # file name and an id prefix
    detail = read_run(b, "same", now=FIXED_NOW)
    assert detail.summary.format == "cr"


def test_nine_digit_fraction_latency(tmp_path):
    path = make_cr(
        tmp_path / "a.db",
        [{"run_id": "c1"}],
        [
            {
                "action_id": "x",
                "run_id": "c1",
                "status": "posted",
                "attempted_at": "2026-05-17T09:00:00.000000001Z",
                "posted_at": "2026-05-17T09:00:00.250000999Z",
            }
        ],
    )
    (step,) = read_run(path, "c1", now=FIXED_NOW).steps
    assert step.latency_ms == 250.0


def test_watcher_follows_other_formats_many_runs_per_file(tmp_path):
    from ledger_core.ledgers.watch import SourceWatcher

    path = make_events(tmp_path / "events.db", [{"run_id": "e1", "kind": "run.started"}])
    watcher = SourceWatcher(Sources((tmp_path,)), now=lambda: FIXED_NOW, cache=False)
    first = watcher.refresh()
    assert [(r.format, r.run_id) for r in first.runs] == [("event-ledger", "e1")]
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO events (id, run_id, turn, kind, actor, payload, created_at) VALUES "
        "('x1', 'e2', 0, 'run.started', 'agent', '{}', '2026-05-17T09:30:00Z'), "
        "('x2', 'e1', 1, 'run.finished', 'agent', '{}', '2026-05-17T09:31:00Z')"
    )
    conn.commit()
    conn.close()
    second = watcher.refresh()
    assert str(path) in second.changed
    got = {r.run_id: r.state for r in second.runs}
    assert got == {"e1": "completed", "e2": "running"}


def test_a_mapped_format_that_also_matches_a_runner_ledger_stays_the_runners(tmp_path, monkeypatch):
    mapping = tmp_path / "m.toml"
    mapping.write_text(
        '[formats.greedy]\ntables = ["run"]\nruns = "SELECT run_id FROM run"\n'
        'steps = "SELECT seq FROM step WHERE run_id = :run_id"\n'
    )
    monkeypatch.setenv("LEDGERX_FORMATS", str(mapping))
    formats.forget_mappings()
    try:
        path = make_ledger(tmp_path / "x.db", [RunSpec("r", steps=[StepSpec.committed(1)])])
        assert _format_of(path) == "bcli"
        assert [r.format for r in read_summaries(path)] == ["bcli"]
    finally:
        formats.forget_mappings()
