"""Snapshots of the rollback UI: preview, confirmation, refusal, finished execution.

Deterministic: fixed ``now``, fixed-time ledgers whose URLs use one fixed loopback port, only
file names shown (never the tmp directory). The execution snapshot really runs the rollback
against ``DemoApi`` bound to that port (skipped if the port is taken).
"""

from __future__ import annotations

import errno
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

from ledger_core.demo.api import DemoApi
from ledger_core.ledgers.reader import read_run
from ledger_core.ledgers.sources import Sources
from ledger_core.rollback.profiles import ProfilesSource, load_profiles
from tui.app import LedgerxApp
from tui.screens.rollback_screen import RollbackScreen

PORT = 48765
BASE = f"http://127.0.0.1:{PORT}"


@pytest.fixture
def ledgers(tmp_path: Path) -> Path:
    directory = tmp_path / "ledgers"
    directory.mkdir()
    crashed_ledger(directory, BASE)
    production_ledger(directory, BASE)
    return directory


def make_app(ledgers: Path, *, readonly: bool = False) -> LedgerxApp:
    profiles = load_profiles(profiles_toml(ledgers.parent, BASE))
    return LedgerxApp(
        Sources.from_args([ledgers], []),
        profiles,
        readonly=readonly,
        now=lambda: NOW,
        poll_interval=0,
    )


def preview(ledgers: Path, name: str, run_id: str, *keys: str):
    """A ``run_before`` that opens the preview of one run, waits for the plan, presses keys."""

    async def run_before(pilot) -> None:
        app = pilot.app
        app.push_screen(RollbackScreen(read_run(ledgers / name, run_id, now=NOW)))
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        for key in keys:
            await pilot.press(key)
            await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()

    return run_before


class TestRollbackPreview:
    def test_crashed_run_plan(self, snap_compare, ledgers):
        app = make_app(ledgers)
        run_before = preview(ledgers, "crashed-orders.db", CRASHED_ID)
        assert snap_compare(app, terminal_size=(100, 34), run_before=run_before)

    def test_refused_on_production_at_80x24(self, snap_compare, ledgers):
        app = make_app(ledgers)
        run_before = preview(ledgers, "prod-invoices.db", PROD_ID)
        assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)

    def test_readonly_session(self, snap_compare, ledgers):
        app = make_app(ledgers, readonly=True)
        run_before = preview(ledgers, "crashed-orders.db", CRASHED_ID)
        assert snap_compare(app, terminal_size=(100, 24), run_before=run_before)


class TestConfirmDialog:
    def test_partially_typed_id(self, snap_compare, ledgers):
        app = make_app(ledgers)
        run_before = preview(ledgers, "crashed-orders.db", CRASHED_ID, "enter", *CRASHED_ID[:4])
        assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)

    def test_at_80x24(self, snap_compare, ledgers):
        app = make_app(ledgers)
        run_before = preview(ledgers, "crashed-orders.db", CRASHED_ID, "enter")
        assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


class TestRefusalDialog:
    def test_write_disabled_profile(self, snap_compare, ledgers):
        app = make_app(ledgers)
        run_before = preview(ledgers, "prod-invoices.db", PROD_ID, "enter")
        assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


@pytest.fixture
def fixed_port_api():
    try:
        api = DemoApi(port=PORT).start()
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            pytest.skip(f"port {PORT} is in use")
        raise
    for record in ("1002", "1003", "1006"):  # 1008 is already gone: a 404 counts as done
        api.add_record("ACME", "salesOrders", record)
    yield api
    api.stop()


class TestExecution:
    def test_finished(self, snap_compare, ledgers, fixed_port_api):
        app = make_app(ledgers)
        keys = ("enter", *CRASHED_ID[:6], "enter")
        run_before = preview(ledgers, "crashed-orders.db", CRASHED_ID, *keys)
        assert snap_compare(app, terminal_size=(100, 30), run_before=run_before)
        assert len(fixed_port_api.matching("DELETE")) == 4


class TestProfilesChangedRefusal:
    def test_writes_disabled_after_the_preview(self, snap_compare, ledgers, monkeypatch):
        monkeypatch.chdir(ledgers.parent)  # the refusal names the file: keep it relative
        profiles = profiles_toml(ledgers.parent, BASE).relative_to(ledgers.parent)
        app = LedgerxApp(
            Sources.from_args([ledgers], []),
            ProfilesSource((profiles,), named=True),  # lookup() would make it absolute
            now=lambda: NOW,
            poll_interval=0,
        )

        async def run_before(pilot) -> None:
            await preview(ledgers, "crashed-orders.db", CRASHED_ID)(pilot)
            text = profiles.read_text().replace("timeout = 5", "disable_writes = true")
            profiles.write_text(text)
            await pilot.press("enter")
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()

        assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def save_dialog(ledgers: Path, *, existing: bool):
    """Open the checklist dialog on the production run's preview (paths relative to cwd)."""

    async def run_before(pilot) -> None:
        app = pilot.app
        folder = Path("checklists")
        folder.mkdir()
        if existing:
            (folder / f"ledgerx-rollback-{PROD_ID[:8]}.md").write_text(
                "# Rollback plan for run earlier\n"
            )
        detail = read_run(ledgers / "prod-invoices.db", PROD_ID, now=NOW)
        app.push_screen(RollbackScreen(detail, checklist_dir=folder))
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("m")
        await pilot.pause()
        if existing:
            app.screen.query_one("#path").value = str(folder / f"ledgerx-rollback-{PROD_ID[:8]}.md")
            await pilot.press("enter")
            await pilot.pause()

    return run_before


class TestSaveChecklistDialog:
    def test_default_path(self, snap_compare, ledgers, monkeypatch):
        monkeypatch.chdir(ledgers.parent)
        app = make_app(ledgers)
        run_before = save_dialog(ledgers, existing=False)
        assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)

    def test_file_exists(self, snap_compare, ledgers, monkeypatch):
        monkeypatch.chdir(ledgers.parent)
        app = make_app(ledgers)
        run_before = save_dialog(ledgers, existing=True)
        assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
