"""A served session's app (``--served read-only``): the TUI carries the reason to the core.

The TUI must hand ``app.readonly`` to ``ledger_core.rollback.executor`` as it is — a string is the
reason — so both the preview and the executor refuse with "served read-only".
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rollback_ledgers import CRASHED_ID, NOW, crashed_ledger, profiles_toml
from textual.widgets import Static

from ledger_core.demo.api import DemoApi
from ledger_core.errors import RollbackRefused
from ledger_core.ledgers.reader import read_run
from ledger_core.ledgers.sources import Sources
from ledger_core.rollback import executor as rollback
from ledger_core.rollback.profiles import load_profiles
from tui.app import LedgerxApp
from tui.screens.execution_screen import ExecutionScreen
from tui.screens.refusal_screen import RefusalScreen
from tui.screens.rollback_screen import RollbackScreen
from tui.served_session import SERVED_READONLY


@pytest.fixture
def api():
    with DemoApi() as server:
        yield server


@pytest.fixture
def ledgers(tmp_path: Path, api: DemoApi) -> Path:
    directory = tmp_path / "ledgers"
    directory.mkdir()
    crashed_ledger(directory, api.base_url)
    return directory


def _served_app(ledgers: Path, api: DemoApi) -> LedgerxApp:
    return LedgerxApp(
        Sources.from_args([ledgers], []),
        load_profiles(profiles_toml(ledgers.parent, api.base_url)),
        readonly=SERVED_READONLY,
        now=lambda: NOW,
        poll_interval=0,
    )


async def test_preview_and_refusal_say_served_read_only(ledgers, api):
    app = _served_app(ledgers, api)
    async with app.run_test(size=(100, 30)) as pilot:
        assert "RO" in str(app.format_title("ledgerx", ""))
        detail = read_run(ledgers / "crashed-orders.db", CRASHED_ID, now=NOW)
        screen = RollbackScreen(detail, checklist_dir=ledgers.parent)
        app.push_screen(screen)
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.plan is not None and screen.plan.refusal_code == "readonly"
        assert "served read-only" in (screen.plan.refusal or "")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, RefusalScreen)
        assert "served read-only" in str(app.screen.query_one("#reason", Static).render())
    assert api.requests == [] and api.connections == 0


async def test_executing_a_writable_plan_in_a_served_session_is_refused(ledgers, api):
    profiles = load_profiles(profiles_toml(ledgers.parent, api.base_url))
    plan = rollback.preview(read_run(ledgers / "crashed-orders.db", CRASHED_ID, now=NOW), profiles)
    assert plan.refusal is None  # made elsewhere, where writes were allowed
    app = _served_app(ledgers, api)
    refused: list[object] = []
    async with app.run_test(size=(100, 30)) as pilot:
        app.push_screen(ExecutionScreen(plan), refused.append)
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
    [refusal] = refused
    assert isinstance(refusal, RollbackRefused) and refusal.code == "readonly"
    assert "served read-only" in refusal.reason
    assert api.requests == [] and api.connections == 0
