"""Keyboard flows of the runs list, the problems and help views, live refresh and hostile text."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from fixtures import FIXED_NOW, HOSTILE_ID, IDS, LEDGER_DIR, append_run
from ledger_factory import RunSpec, StepSpec, make_ledger
from textual.command import CommandPalette
from textual.widgets import Input

from ledger_core.ledgers.sources import Sources
from tui.app import LedgerxApp
from tui.screens.help_screen import HelpScreen
from tui.screens.problems_screen import ProblemsScreen
from tui.screens.runs_screen import RunsScreen
from tui.widgets.virtual_table import VirtualTable


async def loaded(pilot, app: LedgerxApp, limit: float = 20.0) -> None:
    """Wait (by pausing the pilot, not sleeping) until the first full scan has arrived."""
    deadline = time.monotonic() + limit
    while not app.scan_done:
        assert time.monotonic() < deadline, "the scan never finished"
        await pilot.pause(0.02)
    await pilot.pause()


def table(app: LedgerxApp) -> VirtualTable:
    return app.screen.query_one(VirtualTable)


def shown_ids(app: LedgerxApp) -> list[str]:
    return [run.run_id for run in table(app).rows]


async def test_lists_every_run_newest_first_with_derived_state(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot, app)
        ids = shown_ids(app)
        assert ids == [
            IDS["live"],
            HOSTILE_ID,
            IDS["production"],
            IDS["patch"],
            IDS["partial"],
            IDS["crashed"],
            IDS["completed"],
            IDS["rolled_back"],
        ]
        crashed = table(app).rows[ids.index(IDS["crashed"])]
        assert (crashed.state, crashed.liveness, crashed.stamp_mismatch) == (
            "partially_committed",
            "dead",
            True,
        )
        line = table(app).render_line(1 + ids.index(IDS["crashed"])).text
        # The verdict first; the stamp disagrees (≠); the writer is DEAD.
        assert "IN DOUBT ≠" in line and "DEAD" in line
        # A live run whose steps all committed reads "running", not "completed alive".
        assert table(app).render_line(1).text.split()[:2] == ["running", "alive"]


async def test_search_filters_as_you_type_and_enter_selects_first_match(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot, app)
        await pilot.press("j", "j")
        await pilot.press("slash")
        assert isinstance(app.focused, Input)
        await pilot.press("-", "o", "r", "d")
        assert shown_ids(app) == [IDS["crashed"], IDS["completed"]]
        await pilot.press("e", "x")
        assert shown_ids(app) == []
        await pilot.press("backspace")
        assert len(shown_ids(app)) == 2
        await pilot.press("enter")
        assert isinstance(app.focused, VirtualTable)
        assert table(app).cursor_value.run_id == IDS["crashed"]
        # Typing keys into the box never triggered the list's own bindings (r, s, f...).
        assert isinstance(app.screen, RunsScreen)
        await pilot.press("escape")
        assert len(shown_ids(app)) == 8


async def test_search_matches_profile_and_company(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot, app)
        await pilot.press("slash", *"acme")
        assert shown_ids(app) == [IDS["production"]]


async def test_footer_offers_enter_to_open(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot, app)
        assert app.focused is table(app)
        active = app.screen.active_bindings
        assert active["enter"].binding.description == "Open"
        assert active["enter"].binding.show, "enter is hidden from the footer"


async def test_enter_opens_the_run_and_escape_comes_back(make_app) -> None:
    from tui.screens.run_screen import RunScreen

    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot, app)
        await pilot.press("j", "j", "j", "j", "j", "k")
        assert table(app).cursor_value.run_id == IDS["partial"]
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, RunScreen)
        assert app.screen.summary.run_id == IDS["partial"]
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, RunsScreen)


async def test_r_opens_the_rollback_preview_with_the_whole_run(make_app) -> None:
    from tui.screens.rollback_screen import RollbackScreen

    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot, app)
        await pilot.press("G", *["k"] * 2)  # 0800-completed-orders ... up to crashed
        assert table(app).cursor_value.run_id == IDS["crashed"]
        await pilot.press("r")
        for _ in range(100):
            if isinstance(app.screen, RollbackScreen):
                break
            await pilot.pause(0.02)
        assert isinstance(app.screen, RollbackScreen)
        assert app.screen.detail.summary.run_id == IDS["crashed"]
        assert [s.seq for s in app.screen.detail.steps] == [1, 2, 3]


async def test_filter_presets_cycle(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot, app)
        await pilot.press("f")  # needs attention
        # Not the live run: stamped running while its steps derive completed is a run still
        # being written, not a stale stamp.
        assert set(shown_ids(app)) == {
            HOSTILE_ID,
            IDS["production"],
            IDS["partial"],
            IDS["crashed"],
        }
        await pilot.press("f")  # verdict running: the live writer's run only
        assert shown_ids(app) == [IDS["live"]]
        status = str(app.screen.query_one("#runs-status").render())
        assert "filter: running (list --verdict running)" in status and "1 of 8 runs" in status
        await pilot.press("f")  # crashed: none here (the dead writer's run is in doubt)
        assert shown_ids(app) == []
        await pilot.press("f")  # in doubt
        assert shown_ids(app) == [IDS["crashed"]]
        await pilot.press("f")  # rollback incomplete
        assert shown_ids(app) == []
        await pilot.press("f")  # partially committed (verdict)
        assert shown_ids(app) == [IDS["production"], IDS["partial"]]
        await pilot.press("f")  # all
        assert len(shown_ids(app)) == 8


async def test_a_live_run_is_not_marked_as_a_wrong_stamp(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot, app)
        ids = shown_ids(app)
        live = table(app).rows[ids.index(IDS["live"])]
        assert (live.liveness, live.stamped_state, live.state) == ("alive", "running", "completed")
        live_line = table(app).render_line(1 + ids.index(IDS["live"])).text
        crashed_line = table(app).render_line(1 + ids.index(IDS["crashed"])).text
        assert "≠" not in live_line and "≠" in crashed_line
        table(app).move_cursor(ids.index(IDS["live"]))
        await pilot.pause()
        pane = str(app.screen.query_one("#runs-diagnosis").render())
        assert "still being written" in pane and "the steps say" not in pane


async def test_sort_cycles_and_header_click_sorts(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot, app)
        await pilot.press("s")  # oldest first
        assert shown_ids(app)[0] == IDS["rolled_back"]
        await pilot.press("s")  # by verdict: the most urgent (in doubt here) first
        assert app.screen.query_one(VirtualTable).rows[0].verdict == "in_doubt"
        for _ in range(6):
            await pilot.press("s")
        assert shown_ids(app)[0] == IDS["live"]  # back to newest first
        await pilot.click(VirtualTable, offset=(30, 0))  # the Run header
        assert shown_ids(app)[0] == IDS["rolled_back"]  # '0700-…' sorts first by id
        assert table(app).render_line(0).text.count("▲") == 1


async def test_problems_view_lists_unreadable_files(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot, app)
        assert "2 unreadable" in str(app.screen.query_one("#runs-status").render())
        await pilot.press("p")
        assert isinstance(app.screen, ProblemsScreen)
        problems = {Path(p.path).name: p.kind for p in table(app).rows}
        assert problems == {"broken.db": "not_sqlite", "empty.db": "empty"}
        detail = str(app.screen.query_one("#problem-detail").render())
        assert "ledgers/broken.db" in detail and "not an SQLite database" in detail
        await pilot.press("escape")
        assert isinstance(app.screen, RunsScreen)


async def test_help_lists_keys_and_closes(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot, app)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, RunsScreen)


async def test_q_quits(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot, app)
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running


async def test_palette_opens_a_run_by_id(make_app) -> None:
    from tui.screens.run_screen import RunScreen

    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot, app)
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"0845-part")
        for _ in range(50):
            await pilot.pause(0.02)
            if app.screen.query("CommandList Option"):
                break
        await pilot.press("enter")
        for _ in range(50):
            if isinstance(app.screen, RunScreen):
                break
            await pilot.pause(0.02)
        assert isinstance(app.screen, RunScreen)
        assert app.screen.summary.run_id == IDS["partial"]


async def test_palette_filter_command(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot, app)
        app.runs_command("filter", "in_doubt")
        await pilot.pause()
        assert shown_ids(app) == [IDS["crashed"]]


async def test_live_refresh_picks_up_a_new_run(make_app) -> None:
    app = make_app(poll_interval=0.05)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot, app)
        await pilot.press("j", "j")
        chosen = table(app).cursor_value.run_id
        append_run(Path(LEDGER_DIR), "0959-appended-run")
        deadline = time.monotonic() + 10
        while "0959-appended-run" not in shown_ids(app):
            assert time.monotonic() < deadline, "the new run never appeared"
            await pilot.pause(0.05)
        assert shown_ids(app)[0] == "0959-appended-run"
        assert table(app).cursor_value.run_id == chosen  # the cursor stayed on its run


async def test_live_refresh_sees_a_step_appended_to_a_listed_run(make_app) -> None:
    app = make_app(poll_interval=0.05)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot, app)
        conn = sqlite3.connect(Path(LEDGER_DIR) / f"{IDS['live']}.db", isolation_level=None)
        conn.execute(
            "INSERT INTO step (run_id, seq, intent_ts, method, url) VALUES (?, 3, ?, 'POST', 'u')",
            (IDS["live"], "2026-05-17T09:59:50.000000Z"),
        )
        conn.close()

        def live_run():
            return next(r for r in table(app).rows if r.run_id == IDS["live"])

        deadline = time.monotonic() + 10
        while live_run().counts.in_doubt != 1:
            assert time.monotonic() < deadline, "the appended step never showed"
            await pilot.pause(0.05)


async def test_hostile_text_is_literal_and_inert(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot, app)
        index = shown_ids(app).index(HOSTILE_ID)
        line = table(app).render_line(1 + index).text
        # The id, cut in its middle at this width: its start and its end stay, literal.
        assert "evil-[/]-[" in line and "=app.quit]x" in line
        assert "[@click=a" in line  # the profile, as typed
        assert "\x1b" not in line and "\u202e" not in line and "\x00" not in line
        assert "\\x1b[2J" in line  # control characters shown as visible escapes
        # Clicking on the text (which holds '[@click=app.quit]') selects, never quits.
        await pilot.click(VirtualTable, offset=(60, 1 + index))
        await pilot.pause()
        assert app.is_running
        assert table(app).cursor_value.run_id == HOSTILE_ID
        await pilot.press("slash", *"[/]")
        assert shown_ids(app) == [HOSTILE_ID]
        assert app.is_running


async def test_empty_sources_say_where_they_looked(make_app, tmp_path) -> None:
    app = make_app(sources=Sources((Path("nowhere"),)))
    async with app.run_test(size=(100, 24)) as pilot:
        await loaded(pilot, app)
        assert shown_ids(app) == []
        line = table(app).render_line(1).text
        assert "No ledgers found. Looked in: nowhere" in line
        assert [p.kind for p in app.problems] == ["missing"]


async def test_readonly_from_profiles_defaults(make_app, tui_dir) -> None:
    from ledger_core.rollback.profiles import load_profiles

    (tui_dir / "ro.toml").write_text("[defaults]\nreadonly = true\n")
    app = make_app(profiles=load_profiles(tui_dir / "ro.toml"))
    assert app.readonly
    assert str(app.format_title("ledgerx", "")).startswith(" RO ")
    assert not str(make_app().format_title("ledgerx", "")).startswith(" RO ")


def _big_ledger(path: Path, runs: int, steps_per_run: int) -> None:
    """One file with many runs, written in bulk (fast to build, slow enough to read)."""
    make_ledger(path, [])
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO run (run_id, profile, state, started_at, finished_at) "
        "VALUES (?, 'sandbox', 'completed', ?, ?)",
        (
            (
                f"bulk-{i:05d}",
                f"2026-05-16T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z",
                "2026-05-16T23:59:59Z",
            )
            for i in range(runs)
        ),
    )
    conn.executemany(
        "INSERT INTO step (run_id, seq, intent_ts, method, url, outcome_ts, status) "
        "VALUES (?, ?, '2026-05-16T00:00:00Z', 'POST', 'https://x/y', "
        "'2026-05-16T00:00:01Z', 'committed')",
        ((f"bulk-{i:05d}", s) for i in range(runs) for s in range(steps_per_run)),
    )
    conn.execute("COMMIT")
    conn.close()


async def test_app_stays_responsive_while_a_big_source_loads(tui_dir) -> None:
    """Keys are handled while 10,000 runs load and a locked file holds the scan for ~2 s."""
    big = tui_dir / "big"
    big.mkdir()
    _big_ledger(big / "bulk.db", 10_000, 5)
    locked = make_ledger(
        big / "locked.db", [RunSpec("r-locked", steps=[StepSpec.committed(1)])], journal="delete"
    )
    holder = sqlite3.connect(locked, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        from ledger_core.rollback.profiles import Profiles

        app = LedgerxApp(
            Sources((Path("big"),)), Profiles(None), now=lambda: FIXED_NOW, poll_interval=0
        )
        gaps: list[float] = []
        async with app.run_test(size=(100, 30)) as pilot:
            last = [time.perf_counter()]

            def tick() -> None:
                moment = time.perf_counter()
                gaps.append(moment - last[0])
                last[0] = moment

            app.set_interval(0.01, tick)
            await pilot.pause(0.05)
            await pilot.press("question_mark")
            assert isinstance(app.screen, HelpScreen)
            assert not app.scan_done, "the key was handled only after the load"
            await pilot.press("escape")
            await loaded(pilot, app, limit=60)
            assert len(app.runs) == 10_000
            assert [p.kind for p in app.problems] == ["locked"]
        # Generous for a shared 2-core machine; a blocking read on the UI thread takes seconds.
        assert max(gaps) < 0.5, f"event loop stalled {max(gaps):.3f}s"
    finally:
        holder.execute("ROLLBACK")
        holder.close()


async def test_each_preset_filter_shows_the_runs_of_its_cli_flag(make_app) -> None:
    """The TUI's presets are the core's: the same runs ``ledgerx list <flag>`` lists."""
    from ledger_core import vocabulary
    from ledger_core.ledgers.reader import scan

    everything = scan(Sources((Path(LEDGER_DIR),)), now=FIXED_NOW).runs
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot, app)
        for preset in vocabulary.FILTERS[1:]:
            await pilot.press("f")
            keep = preset.test()
            assert set(shown_ids(app)) == {r.run_id for r in everything if keep(r)}, preset.flag


async def test_summary_pane_follows_a_rescan_of_the_highlighted_run(make_app) -> None:
    """The pane is recomputed when the highlighted run changes in a scan, not only on moves."""
    app = make_app(poll_interval=0.05)
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot, app)
        table(app).move_cursor(shown_ids(app).index(IDS["crashed"]))
        await pilot.pause()

        def pane() -> str:
            return str(app.screen.query_one("#runs-diagnosis").render())

        assert pane().startswith("IN DOUBT") and "after the intent of step 3" in pane()
        # Someone resolves step 3 by hand: the run is no longer in doubt, only crashed.
        conn = sqlite3.connect(Path(LEDGER_DIR) / f"{IDS['crashed']}.db", isolation_level=None)
        conn.execute(
            "UPDATE step SET status = 'committed', outcome_ts = ? WHERE seq = 3",
            ("2026-05-17T08:31:00.000000Z",),
        )
        conn.close()
        deadline = time.monotonic() + 10
        while table(app).cursor_value.verdict != "crashed":
            assert time.monotonic() < deadline, "the rescan never showed the change"
            await pilot.pause(0.05)
        await pilot.pause()
        assert table(app).cursor_value.run_id == IDS["crashed"]  # the cursor did not move
        assert pane().startswith("CRASHED"), pane()
        assert "after the intent of step 3" not in pane()
        assert "ledgerx" not in pane()  # no CLI advice inside the TUI


async def test_summary_pane_advice_names_the_key_not_the_command(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot, app)
        table(app).move_cursor(shown_ids(app).index(IDS["partial"]))
        await pilot.pause()
        pane = str(app.screen.query_one("#runs-diagnosis").render())
        assert "press r to preview the rollback" in pane
        assert "ledgerx rollback" not in pane and "RUN" not in pane.split()


async def test_a_failed_rollback_shows_on_the_runs_list(make_app, tmp_path) -> None:
    directory = tmp_path / "rb"
    directory.mkdir()
    steps = [StepSpec.committed(1), StepSpec(2, status="rollback_failed")]
    make_ledger(
        directory / "r.db",
        [
            RunSpec(
                "r-rollback-failed",
                state="completed",
                finished_at="2026-05-17T09:30:00.000000Z",
                steps=steps,
            )
        ],
    )
    app = make_app(sources=Sources((directory,)))
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot, app)
        assert table(app).rows[0].verdict == "rollback_incomplete"
        assert table(app).render_line(1).text.startswith("RB INCOMPLETE")
        pane = str(app.screen.query_one("#runs-diagnosis").render())
        assert "rollback DELETE(s) failed; press r to preview and retry" in pane


async def _step_hits(pilot, app: LedgerxApp, limit: float = 20.0) -> None:
    """Wait (pausing the pilot) until the search index answered the text in the box."""
    deadline = time.monotonic() + limit
    while app.screen._step_hits is None:
        assert time.monotonic() < deadline, "the search index never answered"
        await pilot.pause(0.02)
    await pilot.pause()


async def test_search_reaches_step_fields_and_enter_opens_on_the_step(make_app) -> None:
    from tui.screens.run_screen import RunScreen

    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot, app)
        # Only step 3 of the partial run holds this error text: no run field does.
        await pilot.press("slash", *"409: CONFL")
        await _step_hits(pilot, app)
        assert IDS["partial"] in shown_ids(app) and IDS["completed"] not in shown_ids(app)
        await pilot.press("enter")  # back to the list
        table(app).move_cursor(shown_ids(app).index(IDS["partial"]))
        await pilot.pause()
        pane = str(app.screen.query_one("#runs-diagnosis").render())
        assert "match: step 3 POST error HTTP 409: conflict" in pane
        await pilot.press("enter")  # open it
        await pilot.pause()
        assert isinstance(app.screen, RunScreen)
        steps = app.screen.query_one("#run-steps", VirtualTable)
        while not steps.rows or isinstance(steps.rows[0], int):
            await pilot.pause(0.02)
        await pilot.pause()
        assert steps.cursor_value.seq == 3
        assert steps.cursor_value.error_message == "HTTP 409: conflict"


async def test_search_by_correlation_id_and_hostile_step_text(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await loaded(pilot, app)
        await pilot.press("slash", *"corr-2")
        await _step_hits(pilot, app)
        ids = set(shown_ids(app))
        assert IDS["completed"] in ids and IDS["crashed"] in ids
        await pilot.press("escape")
        await pilot.press("slash", *"y[/]")  # inside the hostile step's URL, after a NUL
        await _step_hits(pilot, app)
        assert shown_ids(app) == [HOSTILE_ID]
        pane = str(app.screen.query_one("#runs-diagnosis").render())
        assert "\\x1b" in pane and "\x1b" not in pane and "match: step 1" in pane
