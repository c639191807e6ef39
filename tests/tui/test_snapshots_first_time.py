"""Snapshots of what a first-time user meets: the hint bar, the empty states, a light theme."""

from __future__ import annotations

from pathlib import Path

from test_snapshots import _loaded, _then
from textual.pilot import Pilot

from ledger_core.ledgers.sources import Sources


def _on_theme(theme: str, *keys: str):
    async def run_before(pilot: Pilot) -> None:
        await _loaded(pilot)
        pilot.app.theme = theme
        if keys:
            await pilot.press(*keys)
        await pilot.pause()

    return run_before


class TestFirstTimeSnapshots:
    def test_hint_bar_on_a_crashed_run_80x24(self, snap_compare, make_app) -> None:
        # The demo's opening view: needs attention, a hint for the highlighted run.
        app = make_app(hints=True, initial_filter="attention")
        assert snap_compare(app, terminal_size=(80, 24), run_before=_then("j"))

    def test_no_ledgers_found_80x24(self, snap_compare, make_app, tui_dir) -> None:
        empty = Path("empty-ledgers")
        (tui_dir / empty).mkdir()
        app = make_app(hints=True, sources=Sources((empty,)))
        assert snap_compare(app, terminal_size=(80, 24), run_before=_then())

    def test_no_run_matches_the_filter_80x24(self, snap_compare, make_app) -> None:
        keys = ("slash", *"no-such-run", "enter")
        assert snap_compare(make_app(), terminal_size=(80, 24), run_before=_then(*keys))

    def test_light_theme_120x36(self, snap_compare, make_app) -> None:
        app = make_app(hints=True)
        assert snap_compare(
            app, terminal_size=(120, 36), run_before=_on_theme("textual-light", "j")
        )
