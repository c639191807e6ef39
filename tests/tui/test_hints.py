"""The first-time hint bar and the demo's opening view, used as a person would: keys pressed."""

from __future__ import annotations

import json
import time

from fixtures import IDS
from textual.pilot import Pilot

from tui.app import LedgerxApp
from tui.demo_session import DEMO_APP_OPTIONS
from tui.screens.help_screen import HelpScreen, key_table
from tui.screens.runs_screen import RunsScreen
from tui.settings import FILE_NAME
from tui.widgets.hint_bar import HintBar


async def _loaded(pilot: Pilot) -> RunsScreen:
    app = pilot.app
    assert isinstance(app, LedgerxApp)
    deadline = time.monotonic() + 20
    while not app.scan_done:
        assert time.monotonic() < deadline
        await pilot.pause(0.02)
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, RunsScreen)
    return screen


def _hint(screen: RunsScreen) -> str:
    bar = screen.query_one(HintBar)
    return str(bar.render()) if bar.display else ""


async def test_hint_follows_the_highlighted_run_and_x_hides_it_for_good(
    make_app, tmp_path, monkeypatch
):
    state = tmp_path / "state"
    monkeypatch.setenv("LEDGERX_STATE_DIR", str(state))
    app = make_app(hints=None)  # as remembered: nothing yet, so a first start shows hints
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _loaded(pilot)
        assert "x hides" in _hint(screen)
        # Move to the crashed run: the hint names what to do about a crash.
        while screen._table.cursor_value.run_id != IDS["crashed"]:
            await pilot.press("j")
        assert "Crashed: enter opens steps · r previews rollback" in _hint(screen)
        await pilot.press("x")
        await pilot.pause()
        assert not screen.query_one(HintBar).display
    assert json.loads((state / FILE_NAME).read_text())["hints"] is False

    again = make_app(hints=None)
    async with again.run_test(size=(120, 36)) as pilot:
        screen = await _loaded(pilot)
        assert not screen.query_one(HintBar).display, "dismissed hints stay dismissed"
        # The palette brings them back.
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Show hints")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert "? explains" in _hint(screen)
    assert json.loads((state / FILE_NAME).read_text())["hints"] is True


async def test_question_mark_explains_the_hint_bar_and_every_symbol(make_app):
    app = make_app(hints=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await _loaded(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
    words = "\n".join(str(cell) for column in key_table().columns for cell in column._cells)
    for symbol in ("Hint bar", "≠", "DEAD", "RO", "·", "…", "✗", "╌", "▲", "format badge"):
        assert symbol in words, symbol


async def test_the_demo_opens_on_needs_attention(make_app):
    app = make_app(**DEMO_APP_OPTIONS)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _loaded(pilot)
        assert screen.filter_key == "attention"
        shown = [run.run_id for run in screen._table.rows]
        assert IDS["crashed"] in shown and IDS["completed"] not in shown
        # f goes on from there, to the next preset, as from any filter.
        await pilot.press("f")
        assert screen.filter_key == "running"


async def test_an_unknown_initial_filter_falls_back_to_all_runs(make_app):
    app = make_app(initial_filter="no-such-filter")
    async with app.run_test() as pilot:
        screen = await _loaded(pilot)
        assert screen.filter_key == "all" and screen._table.row_count == len(app.runs)


def test_every_hint_fits_80_columns():
    from types import SimpleNamespace

    from ledger_core.vocabulary import VERDICTS
    from tui.widgets.hint_bar import hint_for

    texts = [hint_for(None), hint_for(None, any_runs=False)]
    for verdict in VERDICTS:  # hint_for reads only these three fields of a run
        run = SimpleNamespace(verdict=verdict, state=verdict, liveness="stale")
        texts.append(hint_for(run))  # type: ignore[arg-type]
    for text in texts:
        assert len("hint " + text) <= 78, text  # 80 columns less the bar's padding


async def test_no_ledgers_at_80_columns_says_where_and_suggests_the_demo(make_app, tui_dir):
    from pathlib import Path

    from ledger_core.ledgers.sources import Sources

    (tui_dir / "empty-ledgers").mkdir()
    app = make_app(sources=Sources((Path("empty-ledgers"),)))
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _loaded(pilot)
        table = screen._table
        lines = [table.render_line(y).text.rstrip() for y in range(1, 6)]
        text = " ".join(line.strip() for line in lines if line.strip())
        assert "Looked in: empty-ledgers" in text and "`ledgerx --demo`" in text
        assert "…" not in text  # wrapped, not cut at the edge
