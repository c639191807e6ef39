"""Snapshots of `/` reaching step fields: the runs whose steps match, the pane naming the step."""

from __future__ import annotations

from test_snapshots import _then


class TestSearchSnapshots:
    def test_step_search_120x36(self, snap_compare, make_app) -> None:
        keys = ("slash", *"409: confl", "enter")
        assert snap_compare(make_app(), terminal_size=(120, 36), run_before=_then(*keys))

    def test_step_search_80x24(self, snap_compare, make_app) -> None:
        keys = ("slash", *"salesorders", "enter", "j")
        assert snap_compare(make_app(), terminal_size=(80, 24), run_before=_then(*keys))

    def test_step_opened_from_search_120x36(self, snap_compare, make_app) -> None:
        keys = ("slash", *"409: confl", "enter", "j", "enter")
        assert snap_compare(make_app(), terminal_size=(120, 36), run_before=_then(*keys))
