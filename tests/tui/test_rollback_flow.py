"""Keyboard flows of the rollback UI against a real loopback API: preview, refusal, confirm, run.

Every test drives the real ``LedgerxApp`` with Pilot; rollbacks go to ``DemoApi`` on
127.0.0.1, whose request log proves what was (or was not) sent.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from rollback_ledgers import (
    CRASHED_ID,
    NOW,
    PROD_ID,
    crashed_ledger,
    production_ledger,
    profiles_toml,
)
from textual.widgets import Button, Input

from ledger_core.demo.api import DemoApi
from ledger_core.ledgers.reader import read_run
from ledger_core.ledgers.sources import Sources
from ledger_core.rollback.profiles import ProfilesSource, load_profiles
from tui.app import LedgerxApp
from tui.screens.confirm_screen import ConfirmRollbackScreen, confirm_code
from tui.screens.execution_screen import ExecutionScreen
from tui.screens.refusal_screen import RefusalScreen
from tui.screens.rollback_screen import RollbackScreen, render_plan_line
from tui.screens.run_screen import RunScreen
from tui.screens.save_checklist_screen import SaveChecklistScreen
from tui.widgets.lines_view import LinesView

RECORDS = ("1002", "1003", "1006", "1008")


@pytest.fixture
def api():
    with DemoApi() as server:
        for record in RECORDS:
            server.add_record("ACME", "salesOrders", record)
        yield server


@pytest.fixture
def ledgers(tmp_path: Path, api: DemoApi) -> Path:
    directory = tmp_path / "ledgers"
    directory.mkdir()
    crashed_ledger(directory, api.base_url)
    production_ledger(directory, api.base_url)
    return directory


def make_app(ledgers: Path, api: DemoApi, *, readonly: bool = False) -> LedgerxApp:
    profiles = load_profiles(profiles_toml(ledgers.parent, api.base_url))
    return LedgerxApp(
        Sources.from_args([ledgers], []),
        profiles,
        readonly=readonly,
        now=lambda: NOW,
        poll_interval=0,
    )


async def open_preview(app: LedgerxApp, pilot, ledgers: Path, name: str, run_id: str):
    detail = read_run(ledgers / name, run_id, now=NOW)
    screen = RollbackScreen(detail, checklist_dir=ledgers.parent)
    app.push_screen(screen)
    await settle(app, pilot)
    assert screen.plan is not None, "the plan was not computed"
    return screen


async def settle(app: LedgerxApp, pilot) -> None:
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


def shown_plan(screen: RollbackScreen) -> str:
    view = screen.query_one("#rollback-plan", LinesView)
    return "\n".join(render_plan_line(item, 200).plain for item in view.items)


def nothing_sent(api: DemoApi) -> bool:
    return api.requests == [] and api.connections == 0


async def test_preview_groups_actions_newest_first(ledgers, api):
    app = make_app(ledgers, api)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_preview(app, pilot, ledgers, "crashed-orders.db", CRASHED_ID)
        text = shown_plan(screen)
        assert "WILL UNDO (4)" in text
        assert "CANNOT UNDO (2)" in text
        assert "IN DOUBT (1)" in text
        assert "NOTHING TO UNDO (2)" in text
        assert text.index("IN DOUBT (1)") < text.index("WILL UNDO (4)"), "in doubt must lead"
        order = [text.index(f"salesOrders({n})") for n in ("1008", "1006", "1003", "1002")]
        assert order == sorted(order), "deletes are not shown newest first"
        assert "no pre-image: cannot be undone automatically" in text
        assert "no rollback target recorded" in text
        assert "correlation id corr-0009" in text  # the in-doubt step, to check by hand
        profile = str(screen.query_one("#rollback-profile").render())
        assert "sandbox" in profile and "writes allowed" in profile
        summary = str(screen.query_one("#rollback-summary").render())
        assert screen.plan.summary() in summary
        assert not screen.query_one("#rollback-refusal").display
    assert nothing_sent(api)


async def test_write_disabled_profile_is_refused_with_only_a_way_back(ledgers, api):
    app = make_app(ledgers, api)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_preview(app, pilot, ledgers, "prod-invoices.db", PROD_ID)
        assert screen.plan.refusal_code == "writes_disabled"
        banner = screen.query_one("#rollback-refusal")
        assert banner.display and "writes_disabled" in str(banner.render())
        assert "WOULD UNDO (4)" in shown_plan(screen)
        await pilot.press("enter")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, RefusalScreen)
        assert [b.id for b in dialog.query(Button)] == ["back"]
        assert not dialog.query(Input)
        assert "disable_writes" in str(dialog.query_one("#reason").render())
        # The advice may name m only as the preview's key: the dialog has no key but back.
        advice = str(dialog.query_one("#advice").render())
        assert "m in the preview" in advice or "in the preview, m" in advice
        await pilot.press("m")
        await pilot.pause()
        assert app.screen is dialog and not list(ledgers.parent.glob("*.md"))
        # Whatever is pressed here, the only way is back to the preview.
        await pilot.press("y", "enter")
        await pilot.pause()
        assert app.screen is screen
    assert nothing_sent(api)


async def test_readonly_session_refuses_a_writable_profile(ledgers, api):
    app = make_app(ledgers, api, readonly=True)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_preview(app, pilot, ledgers, "crashed-orders.db", CRASHED_ID)
        assert screen.plan.refusal_code == "readonly"
        assert "RO" in str(screen.query_one("#rollback-profile").render())
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, RefusalScreen)
        assert app.screen.code == "readonly"
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
    assert nothing_sent(api)


async def test_confirm_needs_the_first_six_characters_and_cancel_is_default(ledgers, api):
    app = make_app(ledgers, api)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_preview(app, pilot, ledgers, "crashed-orders.db", CRASHED_ID)
        await pilot.press("enter")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ConfirmRollbackScreen), "the enter that opened it closed it"
        confirm = dialog.query_one("#confirm", Button)
        assert app.focused is dialog.query_one("#cancel", Button)
        assert confirm.disabled
        await pilot.press(*CRASHED_ID[:5])
        await pilot.pause()
        assert dialog.query_one("#code", Input).value == CRASHED_ID[:5]
        assert confirm.disabled
        await pilot.press("x")
        await pilot.pause()
        assert confirm.disabled, "a wrong sixth character enabled Confirm"
        await pilot.press("enter")  # a wrong code submitted does not confirm
        await pilot.pause()
        assert app.screen is dialog
        await pilot.press("backspace", CRASHED_ID[5])
        await pilot.pause()
        assert not confirm.disabled
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen
        # A second enter after opening lands on Cancel, never on Confirm.
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmRollbackScreen)
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen
    assert nothing_sent(api)


async def test_execution_sends_the_deletes_and_shows_the_rolled_back_run(ledgers, api):
    app = make_app(ledgers, api)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_preview(app, pilot, ledgers, "crashed-orders.db", CRASHED_ID)
        await pilot.press("enter", *CRASHED_ID[:6], "enter")
        await pilot.pause()
        execution = app.screen
        assert isinstance(execution, ExecutionScreen)
        await settle(app, pilot)
        assert execution.finished
        deletes = [r.path for r in api.requests if r.method == "DELETE"]
        assert [p.rsplit("(", 1)[1] for p in deletes] == ["1008)", "1006)", "1003)", "1002)"]
        assert len(api.requests) == 4
        assert [row.result for row in execution.rows] == ["rolled_back"] * 4
        summary = str(execution.query_one("#execution-summary").render())
        assert "4 rolled back" in summary and "0 failed" in summary
        await pilot.press("enter")
        await settle(app, pilot)
        run_screen = app.screen
        assert isinstance(run_screen, RunScreen)
        assert run_screen.detail is not None
        assert run_screen.detail.summary.run_id == CRASHED_ID
        assert run_screen.detail.summary.state == "rolled_back"
        assert not any(isinstance(s, RollbackScreen | ExecutionScreen) for s in app.screen_stack)


async def test_q_does_not_quit_while_deletes_are_being_sent(ledgers, api):
    import asyncio

    api.fault("salesOrders(1008)", "hang", method="DELETE", seconds=20)
    app = make_app(ledgers, api)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_preview(app, pilot, ledgers, "crashed-orders.db", CRASHED_ID)
        await pilot.press("enter", *CRASHED_ID[:6], "enter")
        await asyncio.to_thread(api.wait_for, "DELETE", "1008")  # the first DELETE is in flight
        execution = app.screen
        assert isinstance(execution, ExecutionScreen) and not execution.finished
        await pilot.press("q")
        await pilot.pause()
        assert app.is_running and app.screen is execution, "q quit in the middle of a rollback"
        api.release()
        await settle(app, pilot)
        assert execution.finished
        assert [row.result for row in execution.rows] == ["rolled_back"] * 4
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running


async def test_stale_plan_is_refused_at_execution_and_shown_as_a_dialog(ledgers, api):
    app = make_app(ledgers, api)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_preview(app, pilot, ledgers, "crashed-orders.db", CRASHED_ID)
        old = screen.plan
        await pilot.press("enter", *CRASHED_ID[:6])
        await pilot.pause()
        # Someone changes the ledger while the dialog is open.
        with sqlite3.connect(ledgers / "crashed-orders.db") as conn:
            conn.execute("UPDATE step SET status = 'failed' WHERE seq = 6")
        await pilot.press("enter")
        await settle(app, pilot)
        dialog = app.screen
        assert isinstance(dialog, RefusalScreen)
        assert dialog.code == "stale_plan"
        assert api.matching("DELETE") == []
        await pilot.press("escape")
        await settle(app, pilot)
        assert app.screen is screen
        assert screen.plan is not None and screen.plan.fingerprint != old.fingerprint
        assert len(screen.plan.deletes) == 3


async def test_m_asks_where_then_saves_and_never_overwrites_silently(ledgers, api):
    app = make_app(ledgers, api)
    first = ledgers.parent / f"ledgerx-rollback-{PROD_ID[:8]}.md"
    second = ledgers.parent / f"ledgerx-rollback-{PROD_ID[:8]}-2.md"
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_preview(app, pilot, ledgers, "prod-invoices.db", PROD_ID)
        await pilot.press("m")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, SaveChecklistScreen)
        box = dialog.query_one("#path", Input)
        assert box.value == str(first), "the default path is shown before writing"
        assert not list(ledgers.parent.glob("*.md")), "written before the user chose"
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.screen is screen
        assert first.read_text(encoding="utf-8") == screen.plan.to_markdown(screen.detail)
        # Again: the dialog proposes a free name; the first file is not touched.
        earlier = first.read_text(encoding="utf-8") + "\n(edited by hand)\n"
        first.write_text(earlier, encoding="utf-8")
        await pilot.press("m")
        await pilot.pause()
        assert app.screen.query_one("#path", Input).value == str(second)
        # The user types the existing name: refused with an explicit choice, nothing written.
        box = app.screen.query_one("#path", Input)
        box.value = str(first)
        await pilot.press("enter")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, SaveChecklistScreen)
        problem = str(dialog.query_one("#problem").render())
        assert "already exists" in problem
        assert dialog.query_one("#path", Input).value == str(second)
        overwrite = dialog.query_one("#overwrite", Button)
        assert overwrite.display and first.name in str(overwrite.label)
        assert first.read_text(encoding="utf-8") == earlier
        await pilot.click("#overwrite")
        await settle(app, pilot)
        assert app.screen is screen
        assert first.read_text(encoding="utf-8") == screen.plan.to_markdown(screen.detail)
        assert not second.exists()
        # escape writes nothing.
        await pilot.press("m")
        await pilot.pause()
        await pilot.press("escape")
        await settle(app, pilot)
        assert app.screen is screen and not second.exists()
    assert "Refused" in first.read_text(encoding="utf-8")


async def test_checklist_default_folder_and_clear_errors(ledgers, api, tmp_path, monkeypatch):
    data = tmp_path / "xdg-data"
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    app = make_app(ledgers, api)
    async with app.run_test(size=(100, 30)) as pilot:
        detail = read_run(ledgers / "prod-invoices.db", PROD_ID, now=NOW)
        screen = RollbackScreen(detail)  # no folder given: the user's data folder
        app.push_screen(screen)
        await settle(app, pilot)
        await pilot.press("m")
        await pilot.pause()
        expected = data / "ledgerx" / "checklists" / f"ledgerx-rollback-{PROD_ID[:8]}.md"
        box = app.screen.query_one("#path", Input)
        assert box.value == str(expected)
        box.value = str(tmp_path / "no-such-folder" / "x.md")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, SaveChecklistScreen)
        assert "does not exist" in str(app.screen.query_one("#problem").render())
        box.value = str(ledgers)
        await pilot.press("enter")
        await pilot.pause()
        assert "is a folder" in str(app.screen.query_one("#problem").render())
        hostile = tmp_path / "[b]x[@click=app.quit]y.md"  # a name is data, never markup
        hostile.write_text("keep\n")
        box.value = str(hostile)
        await pilot.press("enter")
        await pilot.pause()
        # Not an earlier checklist: never offered for overwriting; its name shown as data.
        assert not app.screen.query_one("#overwrite", Button).display
        problem = str(app.screen.query_one("#problem").render())
        assert "[b]x[@click=app.quit]y.md" in problem and "never replaced" in problem
        assert hostile.read_text() == "keep\n"
        box.value = str(expected)
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.screen is screen
        assert expected.read_text(encoding="utf-8") == screen.plan.to_markdown(screen.detail)
    assert not list(ledgers.glob("*.md")), "nothing is written into the ledger directory"


# -- the profiles file is read when the decision is made --------------------------------------


def allow_writes_on_production(path: Path) -> None:
    path.write_text(path.read_text().replace("disable_writes = true", "disable_writes = false"))


def disable_writes_on_sandbox(path: Path) -> None:
    path.write_text(path.read_text().replace("timeout = 5", "timeout = 5\ndisable_writes = true"))


async def test_writes_disabled_after_the_preview_refuses_on_enter(ledgers, api):
    app = make_app(ledgers, api)
    profiles = ledgers.parent / "profiles.toml"
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_preview(app, pilot, ledgers, "crashed-orders.db", CRASHED_ID)
        assert screen.plan.refusal is None
        disable_writes_on_sandbox(profiles)
        await pilot.press("enter")
        await settle(app, pilot)
        dialog = app.screen
        assert isinstance(dialog, RefusalScreen), "the dialog opened on an outdated profile"
        assert dialog.code == "profiles_changed"
        reason = str(dialog.query_one("#reason").render())
        assert "profile 'sandbox' now has disable_writes = true" in reason
        await pilot.press("escape")
        await settle(app, pilot)
        # The preview was planned again from the file as it is now.
        assert app.screen is screen and screen.plan.refusal_code == "writes_disabled"
        assert "writes DISABLED" in str(screen.query_one("#rollback-profile").render())
    assert nothing_sent(api)


async def test_writes_disabled_while_the_dialog_is_open_refuses_on_confirm(ledgers, api):
    app = make_app(ledgers, api)
    profiles = ledgers.parent / "profiles.toml"
    async with app.run_test(size=(100, 30)) as pilot:
        await open_preview(app, pilot, ledgers, "crashed-orders.db", CRASHED_ID)
        await pilot.press("enter", *CRASHED_ID[:6])
        await settle(app, pilot)
        dialog = app.screen
        assert isinstance(dialog, ConfirmRollbackScreen)
        assert not dialog.query_one("#confirm", Button).disabled
        disable_writes_on_sandbox(profiles)
        await pilot.click("#confirm")
        await settle(app, pilot)
        assert isinstance(app.screen, RefusalScreen)
        assert app.screen.code == "profiles_changed"
        assert not any(isinstance(s, ExecutionScreen) for s in app.screen_stack)
    assert api.requests == [] and api.connections == 0


async def test_a_profile_added_later_is_used_after_R(ledgers, api):
    profiles = ledgers.parent / "profiles.toml"
    app = make_app(ledgers, api)
    profiles.write_text("[profiles.other]\n")  # after the app started
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_preview(app, pilot, ledgers, "crashed-orders.db", CRASHED_ID)
        assert screen.plan.refusal_code == "unknown_profile"
        await pilot.press("enter")
        await pilot.pause()
        advice = str(app.screen.query_one("#advice").render())
        assert "press R in the preview" in advice
        await pilot.press("escape")
        profiles_toml(ledgers.parent, api.base_url)
        await pilot.press("R")
        await settle(app, pilot)
        assert screen.plan.refusal is None, screen.plan.refusal
        assert "writes allowed" in str(screen.query_one("#rollback-profile").render())
        await pilot.press("enter", *CRASHED_ID[:6], "enter")
        await settle(app, pilot)
        execution = app.screen
        assert isinstance(execution, ExecutionScreen) and execution.finished
        assert len(api.matching("DELETE")) == 4


async def test_a_malformed_profiles_file_does_not_stop_the_tui(ledgers, api):
    profiles = ledgers.parent / "profiles.toml"
    profiles.write_text('[profiles.sandbox]\nbase_url = "http://unterminated\n')
    app = LedgerxApp(
        Sources.from_args([ledgers], []),
        ProfilesSource.lookup(profiles),
        now=lambda: NOW,
        poll_interval=0,
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        assert {r.run_id for r in app.runs} == {CRASHED_ID, PROD_ID}, "browsing stopped"
        assert app.profiles_error and "not valid TOML" in app.profiles_error
        screen = await open_preview(app, pilot, ledgers, "crashed-orders.db", CRASHED_ID)
        assert screen.plan.refusal_code == "profiles_error"
        assert "cannot be used" in str(screen.query_one("#rollback-profile").render())
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, RefusalScreen)
        assert "not valid TOML" in str(app.screen.query_one("#reason").render())
        await pilot.press("escape")
        profiles_toml(ledgers.parent, api.base_url)  # fixed: R plans again, no restart
        await pilot.press("R")
        await settle(app, pilot)
        assert screen.plan.refusal is None
    assert nothing_sent(api)


async def test_a_misspelled_disable_writes_is_write_disabled(ledgers, api):
    profiles = ledgers.parent / "profiles.toml"
    app = make_app(ledgers, api)
    profiles.write_text(profiles.read_text().replace("timeout = 5", "Disable-Writes = false"))
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_preview(app, pilot, ledgers, "crashed-orders.db", CRASHED_ID)
        assert screen.plan.refusal_code == "misspelled_key"
        await pilot.press("enter")
        await pilot.pause()
        reason = str(app.screen.query_one("#reason").render())
        assert "'Disable-Writes'" in reason and "disable_writes" in reason
    assert nothing_sent(api)


def test_confirm_code_is_what_the_dialog_shows_for_hostile_ids():
    assert confirm_code("7c41e9a2-x") == "7c41e9"
    assert confirm_code("\x1b[2J-run") == "\\x1b[2"
    assert confirm_code("ab") == "ab"


def test_checklist_writer_never_follows_links_blocks_or_overwrites_by_surprise(tmp_path):
    from tui.screens.rollback_screen import _write_new_or_replace

    existing = tmp_path / "a.md"
    existing.write_text("mine\n")
    with pytest.raises(FileExistsError):
        _write_new_or_replace(existing, "plan\n", replace=False)
    link = tmp_path / "link.md"
    link.symlink_to(existing)
    with pytest.raises(OSError):
        _write_new_or_replace(link, "plan\n", replace=True)
    fifo = tmp_path / "fifo.md"
    os.mkfifo(fifo)
    with pytest.raises(OSError):  # no reader: an error at once, never a hang
        _write_new_or_replace(fifo, "plan\n", replace=True)
    assert existing.read_text() == "mine\n"
    with pytest.raises(OSError, match="not a rollback checklist"):
        _write_new_or_replace(existing, "plan\n", replace=True)  # "mine" is not a checklist
    assert existing.read_text() == "mine\n"
    earlier = tmp_path / "earlier.md"
    earlier.write_text("# Rollback plan for run abc\n")
    _write_new_or_replace(earlier, "# Rollback plan for run abc\nnew\n", replace=True)
    assert earlier.read_text().endswith("new\n")


async def test_overwrite_is_never_offered_for_a_ledger(ledgers, api):
    """The adversary typed the previewed ledger's own path and pressed Overwrite: it became
    627 bytes of Markdown. Only an earlier checklist may be replaced."""
    app = make_app(ledgers, api)
    ledger = ledgers / "prod-invoices.db"
    before = ledger.read_bytes()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_preview(app, pilot, ledgers, "prod-invoices.db", PROD_ID)
        await pilot.press("m")
        await pilot.pause()
        app.screen.query_one("#path", Input).value = str(ledger)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, SaveChecklistScreen)
        assert not app.screen.query_one("#overwrite", Button).display
        assert "never replaced" in str(app.screen.query_one("#problem").render())
    assert ledger.read_bytes() == before


async def test_the_run_header_says_the_profiles_file_cannot_be_used(ledgers, api):
    """Not "not in the profiles file": with a broken file nothing in it is known."""
    from tui.widgets.run_header import RunHeader

    profiles = ledgers.parent / "profiles.toml"
    profiles.write_text('[profiles.sandbox]\nbase_url = "http://unterminated\n')
    app = LedgerxApp(
        Sources.from_args([ledgers], []),
        ProfilesSource.lookup(profiles),
        now=lambda: NOW,
        poll_interval=0,
    )
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(app, pilot)
        run = next(r for r in app.runs if r.run_id == CRASHED_ID)
        app.open_run(run)
        await settle(app, pilot)
        shown = app.screen.query_one(RunHeader).shown.plain
        assert "the profiles file cannot be used: writes refused" in shown
        assert "not in the profiles file" not in shown
    assert nothing_sent(api)
