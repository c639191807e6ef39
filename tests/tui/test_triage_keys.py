"""Triage keys of the runs list and the run screen, pressed as a person would: ``t`` (UTC or
local time, remembered), ``T`` (time filter), ``F`` (facet picker), the summary line's digit
keys, and on the run screen the opening step, ``n`` / ``N`` and the error column."""

from __future__ import annotations

import dataclasses
import io
import json
import time
from pathlib import Path

import pytest
import run_ledgers as rl
from fixtures import IDS
from rich.console import Console
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Static

from ledger_core.ledgers.sources import Sources
from tui.app import LedgerxApp
from tui.screens.facet_picker_screen import FacetChoice, FacetPickerScreen
from tui.screens.run_screen import RunScreen
from tui.screens.runs_screen import RunsScreen
from tui.screens.time_filter_screen import TimeFilterScreen
from tui.settings import FILE_NAME
from tui.widgets.step_detail import StepDetail


async def _until(pilot: Pilot, condition, what: str) -> None:
    deadline = time.monotonic() + 20
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.02)


async def _loaded(pilot: Pilot) -> RunsScreen:
    app = pilot.app
    assert isinstance(app, LedgerxApp)
    await _until(pilot, lambda: app.scan_done, "the first scan")
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, RunsScreen)
    return screen


def _ids(screen: RunsScreen) -> set[str]:
    return {run.run_id for run in screen.query_one("#runs-table").rows}


def _text(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


def _header(screen: RunsScreen) -> str:
    return " ".join(column.label for column in screen.query_one("#runs-table").columns)


@pytest.fixture
def state_dir(tmp_path, monkeypatch) -> Path:
    state = tmp_path / "state"
    monkeypatch.setenv("LEDGERX_STATE_DIR", str(state))
    return state


async def test_t_toggles_utc_and_is_remembered(make_app, local_zone, state_dir):
    local_zone("Europe/Berlin")
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _loaded(pilot)
        assert "Started (CEST)" in _header(screen)  # May, by the app's clock
        table = screen.query_one("#runs-table")
        started = {run.run_id: run for run in table.rows}[IDS["completed"]]
        column = next(c for c in table.columns if c.key == "started")
        assert str(column.render(started)) == "2026-05-17 10:00"  # 08:00 UTC
        await pilot.press("t")
        await pilot.pause()
        assert "Started (UTC)" in _header(screen)
        column = next(c for c in table.columns if c.key == "started")
        assert str(column.render(started)) == "2026-05-17 08:00"
    assert json.loads((state_dir / FILE_NAME).read_text())["utc"] is True

    again = make_app()
    async with again.run_test(size=(120, 36)) as pilot:
        screen = await _loaded(pilot)
        assert "Started (UTC)" in _header(screen)
        await pilot.press("t")
        await pilot.pause()
        assert "Started (CEST)" in _header(screen)
    assert json.loads((state_dir / FILE_NAME).read_text())["utc"] is False


async def test_time_filter_keeps_runs_by_start_and_names_bad_input(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _loaded(pilot)
        everything = _ids(screen)
        await pilot.press("T")
        await pilot.pause()
        assert isinstance(app.screen, TimeFilterScreen)
        await pilot.press(*"soon", "enter")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, TimeFilterScreen)  # still open, saying why
        assert "cannot read the time 'soon'" in _text(dialog, "#problem")
        dialog.query_one("#since", Input).value = ""
        await pilot.press(*"1h", "enter")  # the fixture's clock is 10:00 UTC
        await pilot.pause()
        assert isinstance(app.screen, RunsScreen)
        kept = _ids(screen)
        assert kept and kept < everything
        assert IDS["patch"] in kept and IDS["live"] in kept  # 09:00 and 09:58
        assert IDS["completed"] not in kept  # 08:00
        assert "time: since 1h" in _text(screen, "#runs-status")
        # Escape in the dialog leaves the filter as it was; Clear removes it.
        await pilot.press("T", "escape")
        await pilot.pause()
        assert _ids(screen) == kept
        await pilot.press("T")
        await pilot.pause()
        await pilot.click("#clear")
        await pilot.pause()
        assert _ids(screen) == everything
        assert "time:" not in _text(screen, "#runs-status")


async def test_time_filter_combines_with_needs_attention(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _loaded(pilot)
        await pilot.press("1")  # needs attention
        await pilot.pause()
        attention = _ids(screen)
        await pilot.press("T", *"30m", "enter")
        await pilot.pause()
        narrowed = _ids(screen)
        assert narrowed < attention
        assert all(
            run.started_at >= "2026-05-17T09:30" for run in screen.query_one("#runs-table").rows
        )


async def test_facet_picker_filters_by_a_value_with_its_count(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _loaded(pilot)
        await pilot.press("F")
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, FacetPickerScreen)
        options = picker.query_one(OptionList)
        wanted = next(
            n
            for n in range(options.option_count)
            if picker._choices.get(options.get_option_at_index(n).id or "")
            == FacetChoice("environment", "production")
        )
        label = str(options.get_option_at_index(wanted).prompt)
        assert "production" in label and label.rstrip().endswith("1")
        while options.highlighted != wanted:
            await pilot.press("down")
        await pilot.press("enter")
        await pilot.pause()
        assert _ids(screen) == {IDS["production"]}
        assert "environment: production" in _text(screen, "#runs-status")
        # "any environment" drops that facet's filter again.
        await pilot.press("F")
        await pilot.pause()
        options = app.screen.query_one(OptionList)
        while options.highlighted is None or options.get_option_at_index(
            options.highlighted
        ).id != ("environment:any"):
            await pilot.press("down")
        await pilot.press("enter")
        await pilot.pause()
        assert len(_ids(screen)) > 1 and "environment:" not in _text(screen, "#runs-status")


@pytest.mark.parametrize("size", [(120, 36), (80, 24)])
async def test_facet_picker_keeps_a_long_value_and_its_count_on_one_line(make_app, size):
    # A cr run's manifest is a PR URL, short sha and attempt: 60 characters and a count
    # wrapped onto a second line that started at the dialog's edge.
    app = make_app()
    async with app.run_test(size=size) as pilot:
        screen = await _loaded(pilot)
        runs = list(screen.query_one("#runs-table").rows)
        long = "https://github.com/acme/billing/pull/415 230832a attempt 1 of the nightly review"
        runs[0] = dataclasses.replace(runs[0], manifest_path=long)
        app.push_screen(FacetPickerScreen(runs, {}))
        await pilot.pause()
        options = app.screen.query_one(OptionList)
        wanted = next(
            n
            for n in range(options.option_count)
            if app.screen._choices.get(options.get_option_at_index(n).id or "")
            == FacetChoice("manifest", long)
        )
        label = options.get_option_at_index(wanted).prompt
        assert isinstance(label, Text)
        shown = label.plain
        assert shown.startswith("  https://github.com/") and "…" in shown
        assert shown.endswith("nightly review  1")  # the end that differs, then the count
        assert label.cell_len <= options.scrollable_content_region.width - 2


async def test_summary_line_counts_verdicts_and_its_keys_filter(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _loaded(pilot)
        line = _text(screen, "#runs-verdicts")
        # key, word, count: the key is drawn in reverse video
        expected = "1 needs attention 4 · 4 in doubt 1 · 6 partially committed 2 · 2 running 1"
        assert " ".join(line.split()).startswith(expected)
        await pilot.press("6")
        await pilot.pause()
        rows = screen.query_one("#runs-table").rows
        assert len(rows) == 2 and all(run.verdict == "partially_committed" for run in rows)
        assert "filter: partially committed" in _text(screen, "#runs-status")
        assert "0 all" in _text(screen, "#runs-verdicts")
        await pilot.press("6")  # the same key again: back to all runs
        await pilot.pause()
        assert screen.filter_key == "all"
        await pilot.press("4")
        await pilot.pause()
        rows = screen.query_one("#runs-table").rows
        assert len(rows) == 1 and rows[0].verdict == "in_doubt"
        await pilot.press("0")
        await pilot.pause()
        assert screen.filter_key == "all"


# -- the run screen ----------------------------------------------------------------------------


@pytest.fixture
def run_app(make_app, tui_dir: Path):
    directory = tui_dir / "runledgers"
    directory.mkdir()
    for build in (rl.crashed_run, rl.partial_run, rl.hostile_run, rl.rolled_back_run):
        build(directory)

    def factory() -> LedgerxApp:
        return make_app(sources=Sources((Path("runledgers"),)), now=lambda: rl.NOW)

    return factory


async def _open(pilot: Pilot, needle: str) -> RunScreen:
    await _loaded(pilot)
    await pilot.press("slash", *needle, "enter", "enter")
    app = pilot.app
    await _until(
        pilot,
        lambda: isinstance(app.screen, RunScreen) and app.screen.detail is not None,
        "the run",
    )
    await pilot.pause()
    return app.screen


def _seq(screen: RunScreen) -> int:
    return screen.query_one("#run-steps").cursor_value.seq


async def test_run_opens_on_the_step_in_doubt_and_n_N_jump_between_problems(run_app):
    app = run_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _open(pilot, "crash7")
        assert _seq(screen) == 7  # in doubt, though step 4 failed earlier
        await pilot.press("N")
        await pilot.pause()
        assert _seq(screen) == 4  # the failed PATCH
        await pilot.press("N")
        await pilot.pause()
        assert _seq(screen) == 4  # none before: it stays, and says so
        assert any("No problem step before" in str(n.message) for n in app._notifications)
        await pilot.press("n")
        await pilot.pause()
        assert _seq(screen) == 7


async def test_an_explicitly_asked_step_wins_over_the_one_that_matters(run_app):
    app = run_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await _loaded(pilot)
        run = next(r for r in app.runs if r.run_id.endswith("crash7"))
        screen = RunScreen(run, focus_step_id=2)  # what a search result hands over (seq 2)

        app.push_screen(screen)
        await _until(pilot, lambda: screen.detail is not None, "the run")
        await pilot.pause()
        assert _seq(screen) == 2


@pytest.mark.parametrize("size", [(120, 36), (80, 24)])
async def test_error_column_shows_the_error_inert_and_cut(run_app, size):
    app = run_app()
    async with app.run_test(size=size) as pilot:
        screen = await _open(pilot, "crash7")
        table = screen.query_one("#run-steps")
        column = next(c for c in table.columns if c.key == "error")
        failed = next(row for row in table.rows if row.seq == 4)
        cell = column.render(failed)
        assert str(cell).startswith("HTTP 409")
        assert cell.cell_len <= column.width
        assert str(column.render(next(r for r in table.rows if r.seq == 1))) == "—"
        assert "HTTP&#160;409" in app.export_screenshot()  # drawn on screen


async def test_hostile_error_in_the_column_stays_inert(run_app):
    app = run_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _open(pilot, "hostile")
        table = screen.query_one("#run-steps")
        column = next(c for c in table.columns if c.key == "error")
        shown = [str(column.render(row)) for row in table.rows]
        assert all("\x1b" not in text and "\x07" not in text for text in shown)
        assert app.is_running and app.screen is screen


async def test_step_detail_shows_the_stored_time_and_the_local_one(run_app, local_zone):
    local_zone("Europe/Berlin")
    app = run_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _open(pilot, "crash7")
        table = screen.query_one("#run-steps")
        assert any(c.label == "intent CEST" for c in table.columns)
        console = Console(width=300, file=io.StringIO(), color_system=None, record=True)
        console.print(screen.query_one("#run-detail", StepDetail).shown)
        assert "2026-05-17T03:12:05.004000Z  (05:12:05 CEST)" in console.export_text()
        column = next(c for c in table.columns if c.key == "intent")
        assert str(column.render(table.cursor_value)) == "05:12:05.004"
