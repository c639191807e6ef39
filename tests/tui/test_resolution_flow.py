"""Resolving an in-doubt step, exporting the incident bundle and copying, as a person does it:
keys pressed on the run screen, dialogs filled in, the ledger read back."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import run_ledgers as rl
from test_run_screen import RUN_DIR, _plain, _until, open_run
from textual.widgets import Input

from ledger_core.ledgers.reader import read_run
from ledger_core.ledgers.sources import Sources
from ledger_core.triage.resolutions import record
from tui.app import LedgerxApp
from tui.screens.resolution_screen import ResolutionScreen
from tui.screens.run_screen import RunScreen
from tui.screens.save_checklist_screen import SaveChecklistScreen
from tui.widgets.virtual_table import VirtualTable


@pytest.fixture
def run_dir(tui_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tui_dir / RUN_DIR
    directory.mkdir()
    rl.crashed_run(directory)
    monkeypatch.setenv("LEDGERX_STATE_DIR", str(tui_dir / "state"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tui_dir / "data"))
    monkeypatch.setenv("LEDGERX_USER", "ada")
    return directory


@pytest.fixture
def run_app(make_app, run_dir: Path):
    def factory(**kw: object) -> LedgerxApp:
        options: dict[str, object] = {"sources": Sources((Path(RUN_DIR),)), "now": lambda: rl.NOW}
        options.update(kw)
        return make_app(**options)

    return factory


def _runner_rows(path: Path) -> list:
    conn = sqlite3.connect(path)
    try:
        return (
            conn.execute("SELECT * FROM run").fetchall()
            + conn.execute("SELECT * FROM step ORDER BY step_id").fetchall()
        )
    finally:
        conn.close()


async def _press_record(pilot, dialog) -> None:
    """Tab to Record and press enter, as a person does (focus set directly: fewer keys)."""
    button = dialog.query_one("#record")
    # A button ignores a press during its 0.2 s press animation, as it does for a person.
    await _until(pilot, lambda: not button.has_class("-active"), "the button to be pressable")
    button.focus()
    await pilot.press("enter")
    await pilot.pause()


async def _on_step(pilot, screen: RunScreen, seq: int) -> None:
    table = screen.query_one("#run-steps", VirtualTable)
    await pilot.press("g")
    while table.cursor_value.seq != seq:
        await pilot.press("j")


async def test_resolve_landed_with_a_note(run_app, run_dir):
    app = run_app()
    ledger = run_dir / "crashed-0517.db"
    before = _runner_rows(ledger)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_run(pilot, "crash7")
        assert screen.summary.verdict == "in_doubt"
        assert "check the server by hand" in _plain(screen.query_one("#run-header").shown)
        await _on_step(pilot, screen, 7)
        await pilot.press("v")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ResolutionScreen)
        assert dialog.query_one("#who", Input).value == "ada"
        # Cancel has the focus: enter alone records nothing.
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen
        await pilot.press("v")
        await pilot.pause()
        dialog = app.screen
        await _press_record(pilot, dialog)
        assert "Choose one" in str(dialog.query_one("#problem").render())
        dialog.query_one("#outcome").focus()
        await pilot.press("enter")  # the first choice: landed
        await pilot.pause()
        assert dialog.query_one("#url", Input).display
        await _press_record(pilot, dialog)
        assert "note is required" in str(dialog.query_one("#problem").render())
        dialog.query_one("#note", Input).value = "SO-1007 found in BC [b]bold[/b]"
        dialog.query_one("#url", Input).value = "https://user:pw@bc.example/x"
        await _press_record(pilot, dialog)
        assert "credentials" in str(dialog.query_one("#problem").render())
        dialog.query_one("#url", Input).value = f"{rl.API}/salesOrders(1007)"
        await _press_record(pilot, dialog)
        await _until(pilot, lambda: screen.summary.verdict != "in_doubt", "the verdict to move")
        assert screen.summary.resolved == (1, 0, 0)
        assert [r.note for r in screen.detail.resolutions] == ["SO-1007 found in BC [b]bold[/b]"]
        shown = _plain(screen.query_one("#run-detail").shown)
        assert "Resolved as LANDED by ada" in shown and "[b]bold[/b]" in shown
        assert "Now: The rollback can undo it" in shown and "check the server" not in shown
        header = _plain(screen.query_one("#run-header").shown)
        assert "check the server by hand" not in header
        assert "resolved it as landed (by ada at" in header and "the rollback can undo" in header
    assert _runner_rows(ledger) == before


async def test_a_note_over_the_limit_keeps_the_dialog_and_what_was_typed(run_app, run_dir):
    from ledger_core.triage import NOTE_LIMIT

    app = run_app()
    ledger = run_dir / "crashed-0517.db"
    before = _runner_rows(ledger)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_run(pilot, "crash7")
        await _on_step(pilot, screen, 7)
        await pilot.press("v")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ResolutionScreen)
        dialog.query_one("#outcome").focus()
        await pilot.press("right", "enter")  # did not land
        await pilot.pause()
        long_note = "checked BC by hand: " + "x" * NOTE_LIMIT
        dialog.query_one("#note", Input).value = long_note
        await _press_record(pilot, dialog)
        assert app.screen is dialog  # still open: nothing typed is lost
        assert dialog.query_one("#note", Input).value == long_note
        problem = str(dialog.query_one("#problem").render())
        assert f"{len(long_note)} characters" in problem and str(NOTE_LIMIT) in problem
        dialog.query_one("#note", Input).value = long_note[:NOTE_LIMIT]
        await _press_record(pilot, dialog)
        await _until(pilot, lambda: screen.detail.resolutions, "the resolution to be recorded")
        assert [r.note for r in screen.detail.resolutions] == [long_note[:NOTE_LIMIT]]
    assert _runner_rows(ledger) == before


async def test_resolve_refuses_a_committed_step_and_a_read_only_session(run_app, run_dir):
    app = run_app(readonly=True)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_run(pilot, "crash7")
        await _on_step(pilot, screen, 1)
        await pilot.press("v")
        await pilot.pause()
        assert app.screen is screen
        assert any("not in doubt" in str(n.message) for n in app._notifications)
        await _on_step(pilot, screen, 7)
        await pilot.press("v")
        await pilot.pause()
        assert app.screen is screen
        assert any("read-only" in str(n.message) for n in app._notifications)
    assert screen.detail.resolutions == ()


async def test_copy_cycles_url_correlation_step_and_Y_copies_the_run(run_app, run_dir):
    app = run_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_run(pilot, "crash7")
        await _on_step(pilot, screen, 7)
        step = screen.query_one("#run-steps", VirtualTable).cursor_value
        await pilot.press("y")
        assert app.clipboard == step.url
        await pilot.press("y")
        assert app.clipboard == "corr-0007"
        await pilot.press("y")
        assert json.loads(app.clipboard)["seq"] == 7
        await pilot.press("y")
        assert app.clipboard == step.url
        await pilot.press("Y")
        data = json.loads(app.clipboard)
        assert data["run_id"] == "20260517-031000-crash7" and len(data["steps"]) == 7
        assert any("Copied run" in str(n.message) for n in app._notifications)


async def test_resolution_time_is_shown_in_the_local_zone_too(run_app, run_dir, local_zone):
    # Like the intent and outcome above it: as stored (UTC), then the local time and zone.
    local_zone("Europe/Berlin")
    detail = read_run(run_dir / "crashed-0517.db", "20260517-031000-crash7")
    record(detail, 7, "not_landed", note="no SO in BC", at="2026-05-17T03:30:00Z")
    app = run_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_run(pilot, "crash7")
        await _on_step(pilot, screen, 7)
        await pilot.pause()
        shown = _plain(screen.query_one("#run-detail").shown)
        assert "by ada at 2026-05-17T03:30:00Z  (05:30:00 CEST): no SO in BC" in shown


async def test_export_asks_where_and_never_overwrites(run_app, run_dir, tui_dir):
    app = run_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_run(pilot, "crash7")
        await pilot.press("e")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, SaveChecklistScreen)
        box = dialog.query_one("#path", Input)
        first = Path(box.value)
        assert first.name == "ledgerx-incident-20260517.md" and not first.exists()
        await pilot.press("enter")
        await _until(pilot, first.exists, "the bundle to be written")
        assert first.read_text().startswith("# Incident bundle: run `20260517-031000-crash7`")
        first.write_text("my notes\n")
        await pilot.press("e")
        await pilot.pause()
        dialog = app.screen
        dialog.query_one("#path", Input).value = str(first)
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is dialog and not dialog.query_one("#overwrite").display
        assert "never overwritten" in str(dialog.query_one("#problem").render())
        side = first.with_name("crashed-0517.db-WAL")  # SQLite's name: refused, dialog stays
        dialog.query_one("#path", Input).value = str(side)
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is dialog and not side.exists()
        assert "SQLite" in str(dialog.query_one("#problem").render())
        json_path = first.with_name("bundle.json")
        dialog.query_one("#path", Input).value = str(json_path)
        await pilot.press("enter")
        await _until(pilot, json_path.exists, "the JSON bundle")
        assert json.loads(json_path.read_text())["format"] == "ledgerx-incident"
        assert first.read_text() == "my notes\n"
        assert app.screen is screen


async def test_export_dialog_shows_the_whole_default_path_at_120_columns(run_app, monkeypatch):
    # A usual home's default path ran past a 76-column dialog: its end (.md or .json, the
    # format of the bundle) was hidden until the person moved the cursor.
    monkeypatch.setenv("XDG_DATA_HOME", "/home/support-engineer/.local/share")
    app = run_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await open_run(pilot, "crash7")
        await pilot.press("e")
        await pilot.pause()
        box = app.screen.query_one("#path", Input)
        assert box.value.endswith("/ledgerx-incident-20260517.md") and len(box.value) > 72
        assert box.content_region.width > len(box.value)


async def test_runs_list_y_copies_the_run_id_and_Y_the_run(run_app, run_dir):
    app = run_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await _until(pilot, lambda: app.scan_done, "the first scan")
        await pilot.press("slash", *"crash7", "enter")
        await pilot.press("y")
        assert app.clipboard == "20260517-031000-crash7"
        await pilot.press("Y")
        assert json.loads(app.clipboard)["verdict"] == "in_doubt"
        assert any("Copied run id" in str(n.message) for n in app._notifications)
