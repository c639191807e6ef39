"""Snapshots of the triage views: the time filter and facet picker dialogs, and the runs list
narrowed by time, facet and a summary-line key, in local time (Europe/Berlin) and UTC.

Deterministic: the fixed clock and fixture ledgers of ``fixtures``; the zone is set per test.
"""

from __future__ import annotations

import time

from textual.pilot import Pilot

from tui.app import LedgerxApp


def _then(*keys: str):
    async def run_before(pilot: Pilot) -> None:
        app = pilot.app
        assert isinstance(app, LedgerxApp)
        deadline = time.monotonic() + 20
        while not app.scan_done:
            assert time.monotonic() < deadline
            await pilot.pause(0.02)
        await pilot.pause()
        if keys:
            await pilot.press(*keys)
        await pilot.pause()

    return run_before


class TestTimeFilterSnapshots:
    def test_dialog_with_an_error_80x24(self, snap_compare, make_app) -> None:
        keys = ("T", *"soon", "enter")
        assert snap_compare(make_app(), terminal_size=(80, 24), run_before=_then(*keys))

    def test_dialog_120x36(self, snap_compare, make_app) -> None:
        keys = ("T", *"2h", "tab", *"today")
        assert snap_compare(make_app(), terminal_size=(120, 36), run_before=_then(*keys))

    def test_runs_since_1h_local_time_120x36(self, snap_compare, make_app, local_zone) -> None:
        local_zone("Europe/Berlin")
        keys = ("T", *"1h", "enter")
        assert snap_compare(make_app(), terminal_size=(120, 36), run_before=_then(*keys))

    def test_runs_local_time_80x24(self, snap_compare, make_app, local_zone) -> None:
        local_zone("Europe/Berlin")
        assert snap_compare(make_app(), terminal_size=(80, 24), run_before=_then("6"))


class TestFacetPickerSnapshots:
    def test_picker_120x36(self, snap_compare, make_app) -> None:
        assert snap_compare(make_app(), terminal_size=(120, 36), run_before=_then("F", "down"))

    def test_picker_80x24(self, snap_compare, make_app) -> None:
        assert snap_compare(make_app(), terminal_size=(80, 24), run_before=_then("F"))


class TestGroupedRunsSnapshots:
    """``b``: the runs list grouped, a heading with counts per group, one group folded."""

    def test_grouped_by_company_120x36(self, snap_compare, make_app) -> None:
        keys = ("b", "b", "b")  # verdict, manifest, company
        assert snap_compare(make_app(), terminal_size=(120, 36), run_before=_then(*keys))

    def test_grouped_by_verdict_one_folded_80x24(self, snap_compare, make_app) -> None:
        # The cursor starts on the newest run; up to its group's heading, space folds it.
        keys = ("b", "k", "space")
        assert snap_compare(make_app(), terminal_size=(80, 24), run_before=_then(*keys))
