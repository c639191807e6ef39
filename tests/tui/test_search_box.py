"""The search box against the index: a newer key cancels the older query, a capped answer
says so, and an older answer never replaces a newer one."""

from __future__ import annotations

import threading
import time

from fixtures import IDS
from test_runs_screen import _step_hits, loaded, shown_ids

from ledger_core.triage.search_index import SearchIndex, SearchSession
from tui.screens import runs_screen


def _status(app) -> str:
    return str(app.screen.query_one("#runs-status").render())


async def _until(pilot, test, what: str, limit: float = 20.0) -> None:
    deadline = time.monotonic() + limit
    while not test():
        assert time.monotonic() < deadline, what
        await pilot.pause(0.02)
    await pilot.pause()


async def test_a_newer_key_cancels_the_older_query_and_only_its_answer_shows(
    make_app, monkeypatch
) -> None:
    typed_on = threading.Event()
    answers: list[tuple[str, bool]] = []
    original = SearchSession.find_runs

    def held_back(self, text, *, should_stop=None):
        if text == "c":  # the first key's query is still running when the next key comes
            typed_on.wait(10)
        answer = original(self, text, should_stop=should_stop)
        answers.append((text, answer.cancelled))
        return answer

    monkeypatch.setattr(SearchSession, "find_runs", held_back)
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot, app)
        await pilot.press("slash", "c")
        await pilot.press(*"orr-2")
        typed_on.set()
        await _until(pilot, lambda: ("corr-2", False) in answers, "corr-2 never answered")
        await _until(pilot, lambda: ("c", True) in answers, "the query for 'c' ran to its end")
        await _step_hits(pilot, app)
        assert ("c", False) not in answers  # it never reached the screen, nor was computed
        ids = set(shown_ids(app))
        assert IDS["completed"] in ids and IDS["crashed"] in ids
        assert app.screen._answer.text == "corr-2"


async def test_an_answer_capped_at_the_row_limit_says_so(make_app, monkeypatch) -> None:
    monkeypatch.setattr(runs_screen, "SEARCH_ROWS_MAX", 2)
    app = make_app()
    async with app.run_test(size=(160, 36)) as pilot:
        await loaded(pilot, app)
        await pilot.press("slash", *"corr-")
        await _step_hits(pilot, app)
        answer = app.screen._answer
        assert answer.truncated and answer.rows == 2
        assert "(first 2 matching steps; type more)" in _status(app)
        # Typing on to a text with fewer matches than the cap: complete, and the note goes.
        await pilot.press(*"a1")
        await _until(pilot, lambda: app.screen._answer.text == "corr-a1", "corr-a1 unanswered")
        assert not app.screen._answer.truncated
        assert "matching steps" not in _status(app)


async def test_opening_the_box_reads_the_index_into_memory_and_answers_from_it(
    make_app, monkeypatch
) -> None:
    """``/`` brings the index up to date and reads its text into memory in the background;
    then a key that cannot be narrowed from the last answer is found there, not by a scan."""
    scans: list[str] = []
    original = SearchIndex.matching_rows

    def counted(self, text, **kw):
        scans.append(text)
        return original(self, text, **kw)

    monkeypatch.setattr(SearchIndex, "matching_rows", counted)
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot, app)
        await pilot.press("slash")
        screen = app.screen
        await _until(
            pilot,
            lambda: screen._session is not None and screen._session.has_corpus,
            "the index text was never read into memory",
        )
        await pilot.press(*"corr-2")
        await _step_hits(pilot, app)
        ids = set(shown_ids(app))
        assert IDS["completed"] in ids and IDS["crashed"] in ids
        assert scans == []  # every key answered from memory
