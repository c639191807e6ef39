"""Odd ledgers in the TUI (issue 8): ids and numbers of any SQLite type open without a crash.

A hand-made ledger whose ``step`` table has no INTEGER PRIMARY KEY: NULL, text, REAL, BLOB and
shared step ids, NULL and text sequence numbers, attempts with ids that are not integers,
markup and control characters. The person opens it with the keyboard, reads every step, asks
for a rollback preview and is refused, in words, with only a way back.
"""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

from fuzz_ledgers import build_fuzzed
from test_run_screen import _detail_text, _header_text, _until, open_run
from textual.widgets import Button

from ledger_core.ledgers.sources import Sources
from ledger_core.rollback.profiles import load_profiles
from tui.app import LedgerxApp
from tui.screens.refusal_screen import RefusalScreen
from tui.screens.rollback_screen import RollbackScreen
from tui.screens.run_screen import RunScreen
from tui.widgets.virtual_table import VirtualTable

NOW = 1_779_012_000.0
RUN_ID = "r-odd-ids"
STEPS = [
    # step_id, seq, status, error
    (1, 1, "committed", None),
    (None, 2, "committed", None),
    ("abc", 3, "failed", "[/]\x1b[2J[@click=app.quit]boom"),
    (2.5, None, "committed", None),
    (b"\x00\xff", "four", None, None),
    (1, 5, "committed", None),
]


def _odd_ledger(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE run (run_id, manifest_path, manifest_hash, profile, environment, company,
                          state, started_at, finished_at);
        CREATE TABLE step (step_id, run_id, seq, intent_ts, method, url, body_hash, outcome_ts,
                           status, bc_correlation_id, error_message, rollback_url);
        CREATE TABLE schema_version (version);
        CREATE TABLE rollback_attempt (attempt_id, run_id, step_id, method, url,
                                       plan_fingerprint, pid, host, intent_ts, outcome_ts,
                                       http_status, result, error_message);
        INSERT INTO schema_version VALUES (1);
        """
    )
    conn.execute(
        "INSERT INTO run VALUES (?, NULL, NULL, 'sandbox', 1.5, x'00', 'completed', "
        "'2026-05-17T09:00:00Z', '2026-05-17T09:01:00Z')",
        (RUN_ID,),
    )
    for step_id, seq, status, error in STEPS:
        # The time axis must cope with the extremes a datetime holds.
        intent, outcome = {
            2: ("0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z"),
            3: ("9999-12-31T23:59:59Z", "0001-01-01T00:00:00+01:00"),
        }.get(seq, ("2026-05-17T09:00:00Z", "2026-05-17T09:00:01Z"))
        conn.execute(
            "INSERT INTO step VALUES (?, ?, ?, ?, 'POST', "
            "'http://127.0.0.1:9/x', NULL, ?, ?, NULL, ?, 'http://127.0.0.1:9/x(1)')",
            (step_id, RUN_ID, seq, intent, None if status is None else outcome, status, error),
        )
    for attempt_id, step_id in ((None, 1), ("first", None), (3.5, "abc"), (b"\x01", 1)):
        conn.execute(
            "INSERT INTO rollback_attempt VALUES (?, ?, ?, 'DELETE', 'http://127.0.0.1:9/x(1)', "
            "NULL, 'pid', 7, '2026-05-17T09:00:02Z', 3.5, 'five hundred', 'rollback_failed', "
            "'[bold]x')",
            (attempt_id, RUN_ID, step_id),
        )
    conn.commit()
    conn.close()


async def test_odd_ids_open_read_and_refuse_rollback_without_a_crash(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LEDGERX_CACHE_DIR", "off")
    ledgers = tmp_path / "odd"
    ledgers.mkdir()
    _odd_ledger(ledgers / "odd.db")
    profiles = tmp_path / "profiles.toml"
    profiles.write_text('[profiles.sandbox]\nbase_url = "http://127.0.0.1:9"\n')
    app = LedgerxApp(
        Sources((Path("odd"),)), load_profiles(profiles), now=lambda: NOW, poll_interval=0
    )
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_run(pilot, "odd-ids")
        assert isinstance(screen, RunScreen)
        header = " ".join(_header_text(screen).split())
        assert "table step, column step_id" in header and "will not roll it back" in header
        table = screen.query_one("#run-steps", VirtualTable)
        assert table.row_count == len(STEPS)
        seen = []
        await pilot.press("g")  # it opens on the step that matters; walk from the first
        await pilot.pause()
        for _ in STEPS:  # every step's detail pane, attempts included
            seen.append(" ".join(_detail_text(screen).split()))
            await pilot.press("j")
            await pilot.pause()
        assert any("rollback #?" in text for text in seen), "attempts without an integer id"
        assert not any("#None" in text for text in seen)
        assert any("[/]" in text and "boom" in text for text in seen)  # shown, not parsed

        await pilot.press("r")
        await _until(pilot, lambda: isinstance(app.screen, RollbackScreen), "the preview")
        preview = app.screen
        assert isinstance(preview, RollbackScreen)
        await _until(pilot, lambda: preview.plan is not None, "the plan")
        assert preview.plan is not None and preview.plan.refusal_code == "bad_step_ids"
        await pilot.press("enter")
        await _until(pilot, lambda: isinstance(app.screen, RefusalScreen), "the refusal")
        dialog = app.screen
        assert [b.id for b in dialog.query(Button)] == ["back"]
        assert "step_id" in " ".join(str(dialog.query_one("#reason").render()).split())
        await pilot.press("enter")
        await _until(pilot, lambda: app.screen is preview, "the way back")
    assert app.return_code in (None, 0)


async def test_every_run_of_fuzzed_ledgers_opens_and_previews_without_a_crash(
    tmp_path, monkeypatch
):
    """Files holding any SQLite value in any column: list them, open every run, read its
    steps, ask for its rollback preview, go back; the app never stops."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LEDGERX_CACHE_DIR", "off")
    ledgers = tmp_path / "fuzz"
    ledgers.mkdir()
    for seed in (17, 23):  # markup, control characters, numbers as ids, huge ints
        build_fuzzed(ledgers / f"seed-{seed}.db", random.Random(seed))
    profiles = tmp_path / "profiles.toml"
    profiles.write_text('[profiles.sandbox]\nbase_url = "http://127.0.0.1:9"\n')
    app = LedgerxApp(
        Sources((Path("fuzz"),)), load_profiles(profiles), now=lambda: NOW, poll_interval=0
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await _until(pilot, lambda: app.scan_done, "the first scan")
        runs = app.screen.query_one(VirtualTable)
        count = runs.row_count
        assert count == 8, "the seeds were chosen to hold 8 runs"
        for index in range(count):
            assert runs.cursor_row == index
            await pilot.press("enter")
            await _until(pilot, lambda: isinstance(app.screen, RunScreen), "the run screen")
            run = app.screen
            await _until(pilot, lambda: not run._loading, "the run to load or fail")  # noqa: B023
            await pilot.press("G")  # the last step, through every row drawn
            await pilot.press("r")
            await app.workers.wait_for_complete()
            await pilot.pause()
            if isinstance(app.screen, RollbackScreen):
                preview = app.screen
                await _until(pilot, lambda: preview.plan is not None, "the plan")  # noqa: B023
                await pilot.press("escape")
            await pilot.press("escape")
            await _until(pilot, lambda: app.screen.query(VirtualTable), "the runs list")
            runs = app.screen.query_one(VirtualTable)
            await pilot.press("j")
            await pilot.pause()
    assert app.return_code in (None, 0)


async def test_a_run_that_cannot_be_read_says_so_when_r_is_pressed(tmp_path, monkeypatch):
    """Not "still loading": the run could not be read, and the person is told why."""
    from ledger_factory import RunSpec, StepSpec, make_ledger

    monkeypatch.chdir(tmp_path)
    ledgers = tmp_path / "ledgers"
    ledgers.mkdir()
    path = make_ledger(ledgers / "t.db", [RunSpec("r-foreign", steps=[StepSpec.committed(1)])])
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE rollback_attempt (attempt_id INTEGER PRIMARY KEY, x TEXT)")
    conn.commit()
    conn.close()
    app = LedgerxApp(Sources((Path("ledgers"),)), load_profiles(None), poll_interval=0)
    async with app.run_test(size=(120, 36)) as pilot:
        await _until(pilot, lambda: app.scan_done, "the first scan")
        app.open_run(app.runs[0])
        await _until(pilot, lambda: isinstance(app.screen, RunScreen), "the run screen")
        screen = app.screen
        await _until(pilot, lambda: screen.load_error is not None, "the read to fail")
        await pilot.press("r")
        await pilot.pause()
        said = " ".join(str(n.message) for n in app._notifications)
        assert "could not be read, so no rollback is planned" in said
        assert "still loading" not in said
        assert not isinstance(app.screen, RollbackScreen)
