"""Snapshots of the runs list, problems, help, hostile text and the RO badge (one class each).

Deterministic: fixed ``now``, fixed-time fixture ledgers read from the relative directory
``ledgers`` (no tmp path on screen), no polling. Review the SVGs before accepting them.
"""

from __future__ import annotations

import time

from textual.pilot import Pilot

from tui.app import LedgerxApp


async def _loaded(pilot: Pilot) -> None:
    app = pilot.app
    assert isinstance(app, LedgerxApp)
    deadline = time.monotonic() + 20
    while not app.scan_done:
        assert time.monotonic() < deadline
        await pilot.pause(0.02)
    await pilot.pause()


def _then(*keys: str):
    """A ``run_before`` that waits for the scan, then presses ``keys``."""

    async def run_before(pilot: Pilot) -> None:
        await _loaded(pilot)
        if keys:
            await pilot.press(*keys)
        await pilot.pause()
        # A search asks the search index in a worker: wait for its answer (deterministic).
        screen = pilot.app.screen
        deadline = time.monotonic() + 20
        while getattr(screen, "search_text", "").strip() and screen._step_hits is None:
            assert time.monotonic() < deadline
            await pilot.pause(0.02)
        await pilot.pause()

    return run_before


class TestRunsSnapshots:
    def test_runs_120x36(self, snap_compare, make_app) -> None:
        assert snap_compare(make_app(), terminal_size=(120, 36), run_before=_then())

    def test_runs_80x24(self, snap_compare, make_app) -> None:
        assert snap_compare(make_app(), terminal_size=(80, 24), run_before=_then())

    def test_filtered_needs_attention(self, snap_compare, make_app) -> None:
        assert snap_compare(make_app(), terminal_size=(120, 36), run_before=_then("f", "j"))

    def test_search_typing(self, snap_compare, make_app) -> None:
        keys = ("slash", *"-orde")
        assert snap_compare(make_app(), terminal_size=(80, 24), run_before=_then(*keys))

    def test_search_submitted_sorted_by_state(self, snap_compare, make_app) -> None:
        keys = ("slash", *"sandbox", "enter", "s", "s")
        assert snap_compare(make_app(), terminal_size=(100, 30), run_before=_then(*keys))

    def test_no_color_80x24(self, snap_compare, make_app, monkeypatch) -> None:
        # States stay words; emphasis moves from colour to bold and a reversed DEAD badge.
        monkeypatch.setenv("NO_COLOR", "1")
        assert snap_compare(make_app(), terminal_size=(80, 24), run_before=_then("j"))

    def test_readonly_badge(self, snap_compare, make_app) -> None:
        app = make_app(readonly=True)
        assert snap_compare(app, terminal_size=(80, 24), run_before=_then("G"))


class TestProblemsSnapshots:
    def test_problems_80x24(self, snap_compare, make_app) -> None:
        assert snap_compare(make_app(), terminal_size=(80, 24), run_before=_then("p"))

    def test_problems_120x36(self, snap_compare, make_app) -> None:
        assert snap_compare(make_app(), terminal_size=(120, 36), run_before=_then("p", "j"))


class TestHelpSnapshots:
    def test_help_80x24(self, snap_compare, make_app) -> None:
        assert snap_compare(make_app(), terminal_size=(80, 24), run_before=_then("question_mark"))

    def test_help_120x36(self, snap_compare, make_app) -> None:
        keys = ("question_mark",)
        assert snap_compare(make_app(), terminal_size=(120, 36), run_before=_then(*keys))


class TestHostileSnapshots:
    def test_hostile_run_in_the_list(self, snap_compare, make_app) -> None:
        # The hostile run is second newest: j puts the cursor on it.
        assert snap_compare(make_app(), terminal_size=(120, 36), run_before=_then("j"))

    def test_hostile_search_80x24(self, snap_compare, make_app) -> None:
        keys = ("slash", *"[/]", "enter")
        assert snap_compare(make_app(), terminal_size=(80, 24), run_before=_then(*keys))
