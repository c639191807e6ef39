"""The search box's queries: one answer per run, a cap on matches read, a stopped scan, and
the run-docs index behind ``files_of_runs``."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

from ledger_core.triage import search_index
from ledger_core.triage.search_index import LAYOUT, SearchIndex, SearchSession, file_names
from tests.ledger_factory import RunSpec, StepSpec, make_ledger_dir


def _index(tmp_path: Path) -> SearchIndex:
    return SearchIndex(tmp_path / "cache" / f"search-v{LAYOUT}.sqlite")


def _ledgers(tmp_path: Path, runs: int = 3, steps: int = 4) -> tuple[SearchIndex, list[str]]:
    ledgers = tmp_path / "ledgers"
    make_ledger_dir(
        ledgers,
        [
            RunSpec(
                f"r-{r}",
                company="ORDERCO" if r == 0 else "ACME",
                manifest_path="/manifests/batch.yaml",
                steps=[
                    StepSpec.committed(s, url=f"https://x.test/orders({r}-{s})")
                    for s in range(1, steps + 1)
                ],
            )
            for r in range(runs)
        ],
    )
    index = _index(tmp_path)
    files = file_names([ledgers], [])
    index.update(files)
    return index, files


def test_find_runs_gives_each_run_once_with_a_step_hit_before_its_own_fields(tmp_path):
    index, files = _ledgers(tmp_path)
    answer = SearchSession(index, files).find_runs("ORDER")
    assert sorted(run for _, run in answer.hits) == ["r-0", "r-1", "r-2"]
    assert not answer.truncated and answer.rows == 3 * 4 + 1  # r-0's company matches too
    first = next(hit for (_, run), hit in answer.hits.items() if run == "r-0")
    assert (first.seq, first.field) == (1, "url")  # the step, not the run's company
    assert first.value == "https://x.test/orders(0-1)"


def test_find_runs_reads_at_most_keep_max_matches_and_says_so(tmp_path):
    index, files = _ledgers(tmp_path)
    capped = SearchSession(index, files, keep_max=5).find_runs("x.test/orders")
    assert capped.truncated and capped.rows == 5
    assert sorted(run for _, run in capped.hits) == ["r-0", "r-1"]  # 4 steps of r-0, 1 of r-1
    whole = SearchSession(index, files, keep_max=12).find_runs("x.test/orders")
    assert not whole.truncated and whole.rows == 12 and len(whole.hits) == 3


def test_a_capped_answer_is_not_narrowed_in_memory_a_complete_one_is(tmp_path, monkeypatch):
    index, files = _ledgers(tmp_path)
    scans: list[str] = []
    original = SearchIndex.matching_rows
    monkeypatch.setattr(
        SearchIndex,
        "matching_rows",
        lambda self, text, **kw: scans.append(text) or original(self, text, **kw),
    )
    session = SearchSession(index, files, keep_max=5)
    session.find_runs("orders")  # 12 matches: capped
    narrowed = session.find_runs("orders(2-")  # so the index is asked again, and finds r-2
    assert scans == ["orders", "orders(2-"]
    assert [run for _, run in narrowed.hits] == ["r-2"] and not narrowed.truncated
    again = session.find_runs("orders(2-3")  # complete before: filtered in memory
    assert scans == ["orders", "orders(2-"]
    assert [(run, hit.seq) for (_, run), hit in again.hits.items()] == [("r-2", 3)]


def test_a_stopped_scan_is_cancelled_and_returns_nothing(tmp_path, monkeypatch):
    # SQLite asks every so many instructions; a small index is scanned before the first ask.
    # Two characters: too short for the trigram index, so every file's text is scanned.
    monkeypatch.setattr(search_index, "_PROGRESS_STEPS", 10)
    index, files = _ledgers(tmp_path, runs=40, steps=60)
    calls = []

    def stop_after_first_check() -> bool:
        calls.append(1)
        return len(calls) > 1  # asked before the scan starts, then by SQLite while it runs

    scan = index.matching_rows("q~", files=files, max_rows=10, should_stop=stop_after_first_check)
    assert scan.cancelled and scan.rows == []
    assert len(calls) >= 2  # SQLite asked while scanning: the scan itself was abandoned
    answer = SearchSession(index, files).find_runs("orders", should_stop=lambda: True)
    assert answer.cancelled and answer.hits == {}
    # The connection is left as it was: the next search runs to the end.
    assert len(SearchSession(index, files).find_runs("orders").hits) == 40


def test_a_newer_query_cancels_an_older_one_running_in_another_thread(tmp_path, monkeypatch):
    # "zz" is too short for the trigram index: the scan of every file's text, which SQLite
    # interrupts between rows.
    monkeypatch.setattr(search_index, "_PROGRESS_STEPS", 10)
    index, files = _ledgers(tmp_path, runs=40, steps=60)
    newer_typed = threading.Event()
    asked = threading.Event()
    results = {}

    def older_should_stop() -> bool:
        if not asked.is_set():
            asked.set()
            return False  # the check before the scan: let it start
        newer_typed.wait(10)  # SQLite asks mid-scan: by then the user typed on
        return True

    older = threading.Thread(
        target=lambda: results.setdefault(
            "old", SearchSession(index, files).find_runs("zz", should_stop=older_should_stop)
        )
    )
    older.start()
    assert asked.wait(10)
    newer_typed.set()
    older.join(10)
    newer = SearchSession(index, files).find_runs("orders(3-")
    assert results["old"].cancelled and results["old"].hits == {}
    assert not newer.cancelled and [run for _, run in newer.hits] == ["r-3"]


def test_files_of_runs_reads_the_run_docs_index(tmp_path):
    index, files = _ledgers(tmp_path)
    conn = index._connect()
    plan = " ".join(
        row[3]
        for row in conn.execute(
            "EXPLAIN QUERY PLAN SELECT DISTINCT d.run_id, f.path FROM doc AS d JOIN files AS f "
            "ON f.file_id = d.file_id WHERE d.run_id IN (?) AND d.seq IS NULL "
            "AND d.step_id IS NULL",
            ("r-1",),
        )
    )
    assert "doc_run" in plan
    assert {run: len(paths) for run, paths in index.files_of_runs(["r-1", "r-9"]).items()} == {
        "r-1": 1
    }


def test_an_index_made_before_the_run_docs_index_gets_it(tmp_path):
    index, files = _ledgers(tmp_path)
    index.close()
    with sqlite3.connect(index.path) as conn:
        conn.execute("DROP INDEX doc_run")
    reopened = SearchIndex(index.path)
    assert reopened.files_of_runs(["r-2"]) == {"r-2": {files[2]}}
    names = {r[0] for r in reopened._connect().execute("SELECT name FROM sqlite_master")}
    assert "doc_run" in names
    assert reopened.notes == []  # kept, not rebuilt


def test_a_needle_holding_the_field_separator_matches_nothing_even_when_narrowing(tmp_path):
    index, files = _ledgers(tmp_path)
    session = SearchSession(index, files)
    assert len(session.find_runs("x.test").hits) == 3  # complete: kept for narrowing
    # Across two fields of one step's document: never a match, in memory or in SQL.
    answer = session.find_runs("x.test/orders(0-1)\x1f")  # the URL's end, then a separator
    assert answer.hits == {} and answer.rows == 0
    scan = index.matching_rows("orders(0-1)\x1f", files=files, max_rows=10)
    assert scan.rows == [] and scan.complete


# -- the in-memory corpus ------------------------------------------------------------------


def _answers(session: SearchSession, needles: list[str]) -> list[tuple]:
    out = []
    for needle in needles:
        answer = session.find_runs(needle)
        out.append((needle, answer.rows, answer.truncated, sorted(answer.hits.items())))
    return out


def test_the_corpus_answers_exactly_as_the_index_scan(tmp_path):
    ledgers = tmp_path / "ledgers"
    make_ledger_dir(
        ledgers,
        [
            RunSpec(
                "r-odd",
                company="Ärger GmbH",
                steps=[
                    StepSpec.committed(1, url="https://x.test/STRASSE(1)"),
                    StepSpec.failed(2, error_message="HTTP 409: Conflict\x00 on 100%_done"),
                ],
            ),
            RunSpec("r-two", steps=[StepSpec.committed(1, url="https://x.test/orders(2)")]),
        ],
    )
    index = _index(tmp_path)
    files = file_names([ledgers], [])
    index.update(files)
    needles = ["x.test", "ärger", "ÄRGER", "strasse", "conflict\\x00", "100%_", "%", "zz", "R-"]
    plain = _answers(SearchSession(index, files), needles)
    session = SearchSession(index, files)
    assert session.load_corpus() and session.has_corpus
    assert _answers(session, needles) == plain
    capped_plain = SearchSession(index, files, keep_max=1).find_runs("x.test")
    capped = SearchSession(index, files, keep_max=1)
    capped.load_corpus()
    answer = capped.find_runs("x.test")
    assert (
        (answer.rows, answer.truncated) == (capped_plain.rows, capped_plain.truncated) == (1, True)
    )
    assert answer.hits == capped_plain.hits


def test_a_corpus_too_big_or_stopped_is_not_kept(tmp_path, monkeypatch):
    index, files = _ledgers(tmp_path)
    monkeypatch.setattr(SearchSession, "CORPUS_MAX_CHARS", 100)
    session = SearchSession(index, files)
    assert not session.load_corpus() and not session.has_corpus
    assert len(session.find_runs("ORDER").hits) == 3  # the index answers alone
    monkeypatch.undo()
    assert not session.load_corpus(should_stop=lambda: True)
    assert session.load_corpus()


def test_a_document_rewritten_after_the_corpus_was_read_is_not_reported(tmp_path):
    index, files = _ledgers(tmp_path)
    session = SearchSession(index, files)
    session.load_corpus()
    conn = sqlite3.connect(index.path)
    conn.execute("UPDATE doc SET body = replace(body, 'orders(1-', 'gone(1-')")
    conn.commit()
    conn.close()
    answer = session.find_runs("orders(1-")
    assert answer.hits == {}  # read back and checked against the index as it is now


def _reference_first_field(needle, names, body):
    """The plain reading: the first field whose folded value holds the needle."""
    for name, value in zip(
        names.split(search_index.SEP), body.split(search_index.SEP), strict=True
    ):
        if needle in value.casefold():
            return name, value
    return None


def test_the_matching_field_is_found_as_the_plain_reading_finds_it():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    sep = search_index.SEP
    alphabet = st.sampled_from(list("abcßSSẞİıKk.-(") + [sep])

    @settings(max_examples=300, deadline=None)
    @given(
        st.lists(st.text(alphabet.filter(lambda c: c != sep), max_size=8), min_size=1, max_size=5),
        st.text(alphabet, min_size=1, max_size=3),
    )
    def check(values, typed):
        names = sep.join(f"f{n}" for n in range(len(values)))
        body = sep.join(values)
        needle = typed.casefold()
        hit = search_index._first_field(needle, "p", "r", 1, 1, "POST", names, body)
        want = None if sep in needle else _reference_first_field(needle, names, body)
        assert (None if hit is None else (hit.field, hit.value)) == want

    check()


def test_a_corpus_joined_in_pieces_finds_every_document_at_its_place():
    from ledger_core.triage.search_corpus import build_corpus
    from ledger_core.triage.search_grams import folded_text

    # 3,000 files of 1 to 5 documents, their ids consecutive per file as the index writes them.
    rows, docs, next_doc = [], [], 1
    for n in range(3_000):
        bodies = [f"Doc {n}-{k}\x1fvalue-{(n + k) % 97}" for k in range(1 + n % 5)]
        rows.append((n + 1, "f.db", next_doc, folded_text(bodies)))
        docs += [(next_doc + k, body) for k, body in enumerate(bodies)]
        next_doc += len(bodies)
    corpus = build_corpus(rows, None, 10_000_000, None)
    assert corpus is not None and len(corpus.file_ids) == 3_000
    for needle in ("\x1fvalue-5", "doc 2048-", "doc 2999-", "value-96", "doc 0-0", "-3\x1fv"):
        want = [doc_id for doc_id, body in docs if needle in body.casefold()]
        assert want, needle
        ids, complete, _ = corpus.find(needle, 100_000)
        assert complete and ids == want, needle
        # Looking only in the files that hold it finds the same.
        holding = {n for n, (_, _, first, text) in enumerate(rows) if needle in text}
        ids, complete, _ = corpus.find(needle, 100_000, rows=sorted(holding))
        assert complete and ids == want, needle
        ids, complete, _ = corpus.find(needle, 3)
        assert complete == (len(want) <= 3) and ids == want[:3]


def _age(files: list[str]) -> None:
    past = time.time() - 3600
    for name in files:
        os.utime(name, (past, past))


def test_the_corpus_looks_only_in_the_files_the_trigrams_name(tmp_path, monkeypatch):
    from ledger_core.triage import search_grams

    index, files = _ledgers(tmp_path, runs=12, steps=3)
    _age(files)
    index.update(files)  # files written this second are read again: now they are not
    # One of twelve files holds it (r-0's company): only that one is searched, and the
    # answer is the index's.
    plain = SearchSession(index, files).find_runs("orderco")
    session = SearchSession(index, files)
    assert session.load_corpus()
    searched = []
    original = search_index.Corpus.find

    def spy(self, needle, max_docs, should_stop=None, rows=None):
        searched.append(rows)
        return original(self, needle, max_docs, should_stop, rows)

    monkeypatch.setattr(search_index.Corpus, "find", spy)
    answer = session.find_runs("orderco")
    assert list(answer.hits) == list(plain.hits) and len(answer.hits) == 1
    assert dict(answer.hits) == dict(plain.hits)
    assert searched[-1] is not None and len(searched[-1]) == 1
    # Everywhere: one pass over everything, stopped by the cap.
    assert len(session.find_runs("x.test").hits) == 12 and searched[-1] is None
    # A file indexed after the trigrams were caught up is searched too.
    monkeypatch.setattr(search_grams, "catch_up", lambda conn: None)
    extra = tmp_path / "ledgers" / "zz-late.db"
    from tests.ledger_factory import make_ledger

    make_ledger(
        extra,
        [RunSpec("r-late", steps=[StepSpec.committed(1, url="https://x.test/orders(1-late)")])],
    )
    _age([str(extra)])  # (the others keep their signatures: they are not read again)
    files = file_names([tmp_path / "ledgers"], [])
    index.update(files)
    late = SearchSession(index, files)
    assert late.load_corpus()
    assert sorted(run for _, run in late.find_runs("1-late)").hits) == ["r-late"]
    assert searched[-1] is not None and len(searched[-1]) == 1
