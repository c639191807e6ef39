"""Grouping the runs list (``b`` / ``B``), folding groups (``space``, ``enter`` on a heading),
pressed as a person would, with filters, search, the time filter and sorting on top."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from fixtures import IDS
from textual.pilot import Pilot
from textual.widgets import Static

from tui.app import LedgerxApp
from tui.screens.run_screen import RunScreen
from tui.screens.runs_screen import RunsScreen
from tui.settings import FILE_NAME
from tui.widgets.group_heading import GroupHeading


async def _loaded(pilot: Pilot) -> RunsScreen:
    app = pilot.app
    assert isinstance(app, LedgerxApp)
    deadline = time.monotonic() + 20
    while not app.scan_done:
        assert time.monotonic() < deadline, "timed out waiting for the first scan"
        await pilot.pause(0.02)
    await pilot.pause()
    screen = app.screen
    assert isinstance(screen, RunsScreen)
    return screen


def _layout(screen: RunsScreen) -> list[str]:
    """The table's rows: ``# value`` for a heading (``+`` when folded), the run id otherwise."""
    out = []
    for row in screen.query_one("#runs-table").rows:
        if isinstance(row, GroupHeading):
            out.append(f"{'+' if row.collapsed else '#'} {row.group.label}")
        else:
            out.append(row.run_id)
    return out


def _status(screen: RunsScreen) -> str:
    return str(screen.query_one("#runs-status", Static).render())


def _cursor(screen: RunsScreen):
    return screen.query_one("#runs-table").cursor_value


@pytest.fixture
def state_dir(tmp_path, monkeypatch) -> Path:
    state = tmp_path / "state"
    monkeypatch.setenv("LEDGERX_STATE_DIR", str(state))
    return state


async def test_b_cycles_the_groupings_and_is_remembered(make_app, state_dir):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _loaded(pilot)
        flat = _layout(screen)
        assert not any(row.startswith("#") for row in flat)
        await pilot.press("b")
        assert screen.group_by == "verdict" and "group: verdict" in _status(screen)
        for expected in ("manifest", "company"):
            await pilot.press("b")
            assert screen.group_by == expected
        layout = _layout(screen)
        # Most runs needing attention first; the hostile company's value shown literally.
        assert layout[0] == "# CRONUS" and layout.count("# ACME Corp") == 1
        assert layout[layout.index("# ACME Corp") + 1] == IDS["production"]
        assert sorted(r for r in layout if not r.startswith("#")) == sorted(flat)
        # The counts still count runs, not headings.
        assert _status(screen).lstrip().startswith(f"{len(flat)} runs")
        await pilot.press("B")
        assert screen.group_by == "manifest"
        await pilot.press("b")
    assert json.loads((state_dir / FILE_NAME).read_text())["group_by"] == "company"

    again = make_app()
    async with again.run_test(size=(120, 36)) as pilot:
        screen = await _loaded(pilot)
        assert screen.group_by == "company" and _layout(screen)[0] == "# CRONUS"
        # Grouped from the start, the cursor is on the first run, not on a heading.
        assert _cursor(screen).run_id == IDS["live"]
        for _ in range(4):  # environment, profile… back to none
            await pilot.press("b")
        assert screen.group_by is None and "group:" not in _status(screen)
    assert json.loads((state_dir / FILE_NAME).read_text())["group_by"] is None


async def test_space_folds_a_group_enter_on_a_heading_unfolds_enter_on_a_run_opens(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _loaded(pilot)
        await pilot.press("b")  # by verdict: most urgent first
        layout = _layout(screen)
        assert layout[:2] == ["# in_doubt", IDS["crashed"]]
        assert layout.index("# partially_committed") < layout.index("# failed")
        assert layout[-3:] == ["# completed", IDS["patch"], IDS["completed"]]
        # space on a run folds its group; the cursor goes to the heading.
        assert _cursor(screen).run_id == IDS["live"]
        await pilot.press("space")
        assert "+ running" in _layout(screen)
        assert IDS["live"] not in _layout(screen)
        assert isinstance(_cursor(screen), GroupHeading)
        assert "1 folded" in _status(screen)
        pane = str(screen.query_one("#runs-diagnosis", Static).render())
        assert "verdict running · 1 run" in pane and "unfold" in pane
        # ] and [ go from heading to heading.
        await pilot.press("home", "right_square_bracket")
        assert _cursor(screen).group.value == "partially_committed"
        await pilot.press("right_square_bracket", "left_square_bracket", "left_square_bracket")
        assert _cursor(screen).group.value == "in_doubt"
        await pilot.press("left_square_bracket")  # none before the first: it stays
        assert _cursor(screen).group.value == "in_doubt"
        await pilot.press(*["right_square_bracket"] * 3)  # partial, failed, running
        assert _cursor(screen).group.value == "running" and _cursor(screen).collapsed
        await pilot.press("enter")  # on the heading: unfold, nothing opens
        assert isinstance(app.screen, RunsScreen)
        assert "# running" in _layout(screen)
        await pilot.press("j", "enter")  # the run below the heading opens
        assert isinstance(app.screen, RunScreen)
        assert app.screen.summary.run_id == IDS["live"]


async def test_keys_that_act_on_a_run_do_nothing_harmful_on_a_heading(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _loaded(pilot)
        await pilot.press("b", "b", "b", "home")  # company; the first heading
        assert isinstance(_cursor(screen), GroupHeading)
        await pilot.press("r", "Y")  # rollback and copy-run need a run: nothing happens
        await pilot.pause()
        assert isinstance(app.screen, RunsScreen)
        await pilot.press("y")  # copies the group's value
        assert app.clipboard == "CRONUS"


async def test_grouping_composes_with_filters_search_time_and_sort(make_app):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _loaded(pilot)
        await pilot.press("b", "b", "b", "1")  # by company, needs attention
        assert _layout(screen) == [
            "# CRONUS",
            IDS["partial"],
            IDS["crashed"],
            "# ACME Corp",
            IDS["production"],
            "# \u202eevil\x00nul",
            IDS["hostile"],
        ]
        # Ledger text in a heading is drawn literally, its control characters escaped.
        hostile = screen.query_one("#runs-table").render_line(6).text
        assert "company \\u202eevil\\x00nul · 1 run" in hostile
        # The time filter: needs attention, started in the last hour (the clock says 10:00).
        await pilot.press("T", *"1h", "enter")
        await pilot.pause()
        assert _layout(screen) == [
            "# ACME Corp",
            IDS["production"],
            "# \u202eevil\x00nul",
            IDS["hostile"],
        ]
        await pilot.press("T")
        await pilot.pause()
        await pilot.click("#clear")
        await pilot.press("0")  # all runs again
        await pilot.pause()
        # A sort orders runs inside each group; the groups stay where they are.
        await pilot.press("s")  # oldest first
        layout = _layout(screen)
        cronus = layout[1 : layout.index("# ACME Corp")]
        assert cronus[0] == IDS["rolled_back"] and cronus[-1] == IDS["live"]
        assert layout[0] == "# CRONUS"
        # Search narrows the groups: only ACME's run and its heading are left.
        await pilot.press("slash", *"acme", "enter")
        await pilot.pause()
        assert _layout(screen) == ["# ACME Corp", IDS["production"]]
        assert _cursor(screen).run_id == IDS["production"]  # the first match, not its heading


async def test_a_broken_remembered_grouping_is_ignored(make_app, state_dir):
    state_dir.mkdir()
    for value in ("colour", ["company"], 7):
        (state_dir / FILE_NAME).write_text(json.dumps({"group_by": value}))
        app = make_app()
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await _loaded(pilot)
            assert screen.group_by is None
            assert not any(row.startswith("#") for row in _layout(screen))


async def test_the_hint_bar_on_a_heading_names_the_group_keys(make_app):
    app = make_app(hints=True)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _loaded(pilot)
        await pilot.press("b", "k")  # by verdict; up from the newest run to its heading
        assert isinstance(_cursor(screen), GroupHeading)
        hint = str(screen.query_one("#runs-hints", Static).render())
        assert "space folds or unfolds this group" in hint
        await pilot.press("j")
        assert "space folds" not in str(screen.query_one("#runs-hints", Static).render())


async def test_the_palette_groups_and_ungroups_and_remembers(make_app, state_dir):
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await _loaded(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"group by company")
        await pilot.pause(0.3)  # the palette's search runs in a worker
        await pilot.press("enter")
        deadline = time.monotonic() + 10
        while screen.group_by != "company":
            assert time.monotonic() < deadline, "the palette never grouped by company"
            await pilot.pause(0.05)
        assert _layout(screen)[0].startswith("# ")
        assert json.loads((state_dir / FILE_NAME).read_text())["group_by"] == "company"
        app.runs_command("group", None)
        await pilot.pause()
        assert screen.group_by is None and not _layout(screen)[0].startswith("#")
    assert json.loads((state_dir / FILE_NAME).read_text())["group_by"] is None
