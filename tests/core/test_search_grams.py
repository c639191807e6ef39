"""The trigram index beside the search index: what it finds is exactly what a plain substring
search of every field finds, whatever the text holds, with or without FTS5, caught up or not."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger_core.triage import search_grams, search_index
from ledger_core.triage.search_index import (
    LAYOUT,
    SearchIndex,
    file_names,
    search_files,
)
from tests.ledger_factory import RunSpec, StepSpec, make_ledger


def _index(tmp_path: Path) -> SearchIndex:
    return SearchIndex(tmp_path / "cache" / f"search-v{LAYOUT}.sqlite")


def _errors_dir(directory: Path, errors: list[str], per_file: int = 3) -> list[str]:
    """Failed steps holding ``errors``, a run each, ``per_file`` runs to a ledger file."""
    directory.mkdir(parents=True, exist_ok=True)
    runs = [
        RunSpec(
            f"r-{n}",
            steps=[StepSpec.failed(1, error_message=text, url=f"https://api.test/v/x({n})")],
        )
        for n, text in enumerate(errors)
    ]
    for k in range(0, len(runs), per_file):
        make_ledger(directory / f"{k:04d}.db", runs[k : k + per_file])
    return file_names([directory], [])


def _expected(files: list[str], needle: str) -> set[tuple]:
    """Brute force over every run and step row, read with sqlite3 here: the documents with a
    field holding ``needle`` (any case)."""
    folded = needle.casefold()
    found = set()
    for path in files:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            for row in conn.execute(  # the run fields the README says search reads
                "SELECT run_id, run_id, manifest_path, profile, environment, company, state, "
                "started_at FROM run"
            ):
                if any(isinstance(v, str) and folded in v.casefold() for v in row[1:]):
                    found.add((path, row[0], None))
            for row in conn.execute(
                "SELECT run_id, seq, url, error_message, bc_correlation_id, body_hash, "
                "rollback_url, status, method, intent_ts FROM step"
            ):
                if any(isinstance(v, str) and folded in v.casefold() for v in row[2:]):
                    found.add((path, row[0], row[1]))
        finally:
            conn.close()
    return found


def _found(index: SearchIndex, files: list[str], needle: str) -> set[tuple]:
    index.update(files)
    rows = index.matching_rows(needle, files=files, max_rows=100_000).rows
    return {(row[0], row[1], row[3]) for row in rows}


def _runs_found(index: SearchIndex, files: list[str], needle: str) -> set[str]:
    hits = search_files(files, needle, index=index, limit=None).hits
    return {hit.run_id for hit in hits if hit.field == "error"}


ALPHABET = "ab*?[]%_\\\x1e\x1f\x00xß1fSsK\u212a é-\U0010ffff"


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    errors=st.lists(st.text(ALPHABET, min_size=1, max_size=12), min_size=1, max_size=9),
    picks=st.lists(st.tuples(st.integers(0, 8), st.integers(0, 11), st.integers(1, 6)), max_size=6),
)
def test_matches_are_those_of_a_plain_substring_search(tmp_path_factory, errors, picks):
    tmp = tmp_path_factory.mktemp("grams")
    files = _errors_dir(tmp / "ledgers", errors)
    index = _index(tmp)
    needles = ["a*b", "[a]", "?", "%_", "\\", "ss", "SS", "k", "\x1e", "é-"]
    for which, start, length in picks:
        text = errors[which % len(errors)]
        needle = text[start : start + length] or text
        assert _expected(files, needle), repr(needle)  # a piece of a value: never vacuous
        needles.append(needle)
    for needle in [*needles, "x1f", "x00", "\\x1f", "\x1f", "\x00"]:
        assert _found(index, files, needle) == _expected(files, needle), repr(needle)


def test_a_value_holding_the_document_separator_does_not_shift_the_next_documents(tmp_path):
    errors = ["one\x1etwo", "x", "three \x1e\x1e four", "needle here", "last needle"]
    files = _errors_dir(tmp_path / "ledgers", errors, per_file=5)
    index = _index(tmp_path)
    assert _runs_found(index, files, "needle") == {"r-3", "r-4"}
    assert _runs_found(index, files, "one\x1etwo") == {"r-0"}
    assert _runs_found(index, files, "\x1e\x1e f") == {"r-2"}


def test_without_fts5_the_scan_finds_the_same(tmp_path, monkeypatch):
    errors = ["BadRequest: items(42)", "Conflict on customer", "badrequest again", "zz top"]
    files = _errors_dir(tmp_path / "ledgers", errors)
    with_grams = _index(tmp_path)
    answers = {
        n: _runs_found(with_grams, files, n) for n in ("badrequest", "zz", "ms(4", "nothing")
    }
    assert answers["badrequest"] == {"r-0", "r-2"}
    monkeypatch.setattr(search_index, "create_grams", lambda conn: False)
    plain = SearchIndex(tmp_path / "other" / f"search-v{LAYOUT}.sqlite")
    assert {n: _runs_found(plain, files, n) for n in answers} == answers
    conn = plain._connect()
    assert conn.execute("SELECT value FROM meta WHERE key = 'grams'").fetchone() == ("0",)
    assert not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'grams'").fetchall()


def test_files_not_caught_up_are_scanned_then_caught_up(tmp_path, monkeypatch):
    errors = [f"error number {n} BadRequest" for n in range(6)]
    files = _errors_dir(tmp_path / "ledgers", errors)
    index = _index(tmp_path)
    monkeypatch.setattr(search_grams, "catch_up", lambda conn: None)  # cut short before it
    assert _runs_found(index, files, "badrequest") == {"r-0", "r-1", "r-2", "r-3", "r-4", "r-5"}
    conn = index._connect()
    assert search_grams.grams_upto(conn) == 0 and search_grams.needs_catch_up(conn)
    assert conn.execute("SELECT count(*) FROM grams WHERE text GLOB '*bad*'").fetchone() == (0,)
    monkeypatch.undo()
    assert _runs_found(index, files, "number 3 bad") == {"r-3"}  # the update caught up first
    assert not search_grams.needs_catch_up(conn)
    assert conn.execute("SELECT count(*) FROM grams WHERE text GLOB '*bad*'").fetchone() == (2,)


def test_replaced_and_deleted_files_leave_the_trigrams_in_step(tmp_path):
    ledgers = tmp_path / "ledgers"
    errors = ["alpha one", "beta two", "gamma three", "delta four"]
    files = _errors_dir(ledgers, errors, per_file=1)
    index = _index(tmp_path)
    assert _runs_found(index, files, "two") == {"r-1"}
    Path(files[1]).unlink()
    Path(files[2]).unlink()
    make_ledger(
        files[2], [RunSpec("r-new", steps=[StepSpec.failed(1, error_message="beta again")])]
    )
    files = file_names([ledgers], [])
    assert _runs_found(index, files, "beta") == {"r-new"}
    assert _runs_found(index, files, "gamma") == set()
    conn = index._connect()
    # FTS5's own check: every indexed trigram matches the text of the row it names.
    conn.execute("INSERT INTO grams (grams, rank) VALUES ('integrity-check', 1)")
    folded_ids = {r[0] for r in conn.execute("SELECT file_id FROM folded")}
    assert folded_ids == {r[0] for r in conn.execute("SELECT file_id FROM files")}


def test_a_new_layout_removes_older_index_files_beside_it(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    older = [cache / f"search-v{n}.sqlite{s}" for n in range(1, LAYOUT) for s in ("", "-wal")]
    for path in older:
        path.write_bytes(b"old")
    mine = cache / "summary-cache.sqlite"
    mine.write_bytes(b"other")
    errors = ["one"]
    files = _errors_dir(tmp_path / "ledgers", errors)
    assert _runs_found(_index(tmp_path), files, "one") == {"r-0"}
    assert not any(path.exists() for path in older)
    assert mine.read_bytes() == b"other"


@pytest.mark.parametrize(
    ("needle", "how"),
    [
        ("abc", "GLOB"),  # three literal characters: looked up, checked by GLOB
        ("a*bc", "MATCH"),  # wildcards to GLOB: looked up by its trigrams
        ("***", "MATCH"),
        ("er", "MATCH"),  # the trigrams that start with it
        ("zq", None),  # no trigram starts with it: only rows not caught up are scanned
        ("e", "scan"),  # more than MAX_PREFIX_TERMS trigrams start with it
    ],
)
def test_how_each_needle_is_looked_up(tmp_path, monkeypatch, needle, how):
    monkeypatch.setattr(search_grams, "MAX_PREFIX_TERMS", 8)
    errors = ["abc a*bc *** error", "every err here", "one more text", "zebra"]
    files = _errors_dir(tmp_path / "ledgers", errors)
    index = _index(tmp_path)
    index.update(files)
    conn = index._connect()
    queries = search_grams.candidate_queries(conn, needle, grams=True)
    first = queries[0][0]
    if how is None:
        assert len(queries) == 1 and "f.file_id > ?" in first
        assert queries[0][1][0] == search_grams.grams_upto(conn) > 0
    elif how == "scan":
        assert len(queries) == 1 and queries[0][1][0] == 0  # every row
    else:
        assert f"{how} ?" in first and "FROM grams" in first
    assert _found(index, files, needle) == _expected(files, needle)


def test_a_short_needle_at_the_very_end_of_a_file_is_found(tmp_path):
    # The last characters of a file's text are its last step's last field (intent_ts): two
    # separators after them make them start trigrams too.
    ledgers = tmp_path / "ledgers"
    ledgers.mkdir()
    make_ledger(
        ledgers / "one.db",
        [RunSpec("r-1", steps=[StepSpec.failed(1, error_message="x", intent_ts="2026-05-17 Qj")])],
    )
    files = file_names([ledgers], [])
    index = _index(tmp_path)
    for needle in ("qj", "j", " qj", "17 q"):
        assert _found(index, files, needle) == _expected(files, needle) != set(), needle


def test_a_short_needle_before_the_highest_character_is_found(tmp_path):
    errors = ["zz\U0010ffff", "q\U0010ffff\U0010ffffq"]
    files = _errors_dir(tmp_path / "ledgers", errors, per_file=1)
    index = _index(tmp_path)
    assert _runs_found(index, files, "zz") == {"r-0"}
    assert _runs_found(index, files, "q\U0010ffff") == {"r-1"}


def test_a_text_with_a_lone_surrogate_matches_nothing(tmp_path):
    from ledger_core.triage.search_index import SearchSession

    files = _errors_dir(tmp_path / "ledgers", ["abc"])
    index = _index(tmp_path)
    index.update(files)
    for needle in ("\udcff", "ab\udcff", "abc\udcff"):
        assert search_files(files, needle, index=index).hits == []
        assert index.matching_rows(needle, files=files, max_rows=10).rows == []
        session = SearchSession(index, files)
        session.load_corpus()
        assert len(session.find_runs(needle).hits) == 0
