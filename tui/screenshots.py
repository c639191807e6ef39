"""``python -m tui.screenshots DIR``: an SVG of every screen and dialog, taken from demo data.

What ``make screenshots`` runs. It builds the demo (seeded content, the demo API on loopback —
on port 8765 when it is free, so the URLs in the pictures do not change between builds), then
drives the real ``LedgerxApp`` with Pilot through the triage walk-through of the README: runs
list, search, problems, help, palette, the crashed run, its rollback preview, the confirmation
with the run id half typed, the rollback executed against the demo API, the refusal on the
production profile, the runs list at 80×24, and one run of each other tool's ledger (a crashed
cr run, an event-ledger run cut short, an outbox delivery in doubt) with cr's rollback refusal.
Then the support engineer's walk-through on a second, fresh demo (so the operator's rollback
above does not change it): the time filter, facets, a search that reaches a step, the run opened
on that step, the resolve dialog and the resolved run, the export and checklist dialogs.

Paths shown are relative to the demo directory (the process works inside it), so no temporary
path appears in the pictures. The zone is fixed (``TZ``) and ledgerx's cache, state and data
folders are the demo's own, so neither this machine nor the user's remembered settings show.
The clock is not fixed: the demo's runs are dated relative to now, and its live writer runs.
Every step waits for what it needs on screen, never for a fixed time.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

SIZE = (120, 34)
SMALL = (80, 24)
PREFERRED_PORT = 8765
ZONE = "Europe/Berlin"
"""Times on screen are local: one named zone, so the pictures match on every machine."""
PERSON = "sam"
"""Who records a resolution in the pictures ($LEDGERX_USER)."""
DATA_HOME = f"/home/{PERSON}/.local/share"
"""Shown as the dialogs' default folder; nothing is ever saved there (dialogs are only shown)."""


def _start_api() -> Any:
    from ledger_core.demo import DemoApi

    try:
        return DemoApi(port=PREFERRED_PORT).start()
    except OSError:
        return DemoApi().start()  # 8765 is taken: any free port will do


class Shooter:
    """Drives one app and saves numbered screenshots into ``out``."""

    def __init__(self, app: Any, pilot: Any, out: Path) -> None:
        self.app, self.pilot, self.out = app, pilot, out

    async def settle(self, rounds: int = 3) -> None:
        for _ in range(rounds):
            await self.pilot.pause()
            await self.app.workers.wait_for_complete()
        await self.pilot.pause(0.2)

    async def press(self, *keys: str) -> None:
        for key in keys:
            await self.pilot.press(key)
            await self.pilot.pause()
        await self.settle()

    async def until(self, test: Callable[[], bool], what: str, seconds: float = 20.0) -> None:
        for _ in range(int(seconds / 0.05)):
            if test():
                return
            await self.pilot.pause(0.05)
        raise RuntimeError(f"screenshots: gave up waiting for {what}")

    async def until_screen(self, kind: type, what: str) -> Any:
        """Wait for a screen of ``kind`` on top and for its workers; return it."""
        await self.until(lambda: isinstance(self.app.screen, kind), what)
        await self.settle()
        return self.app.screen

    async def open_run(self, what: str) -> Any:
        """Wait for the run screen and for its steps to be read."""
        from tui.screens.run_screen import RunScreen

        await self.until(lambda: isinstance(self.app.screen, RunScreen), what)
        await self.until(lambda: self.app.screen.detail is not None, f"{what} to load")
        await self.settle()
        return self.app.screen

    def shot(self, name: str) -> None:
        self.app.save_screenshot(f"{name}.svg", str(self.out))
        print(f"  {name}.svg", file=sys.stderr)


async def _walk(out: Path, demo: Any) -> None:
    from ledger_core.ledgers import Sources
    from ledger_core.rollback import load_profiles
    from tui.app import LedgerxApp
    from tui.screens.rollback_screen import RollbackScreen
    from tui.screens.run_screen import RunScreen

    def make_app() -> LedgerxApp:
        return LedgerxApp(
            Sources.from_args(["ledgers"], []),
            load_profiles("profiles.toml"),
            poll_interval=0,
            title_note="demo",
        )

    crashed, production = demo.runs["crashed_in_doubt"], demo.runs["production"]
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        s = Shooter(app, pilot, out)
        await s.until(lambda: app.scan_done, "the first scan")
        await s.settle()
        s.shot("01-runs")

        await s.press("slash", *"nightly")
        s.shot("02-search")
        await s.press("escape", "escape")

        await s.press("p")
        s.shot("03-problems")
        await s.press("escape")

        await s.press("question_mark")
        s.shot("04-help")
        await s.press("escape")

        await s.press("ctrl+p", *"filter")
        await pilot.pause(0.5)  # the palette searches its providers asynchronously
        s.shot("05-palette")
        await s.press("escape")

        # The crashed run: found with search, opened with enter, as a person would.
        await s.press("slash", *crashed[:12], "enter", "enter")
        await s.until(lambda: isinstance(app.screen, RunScreen), "the run screen")
        await s.until(lambda: app.screen.detail is not None, "the run to load")
        await s.settle()
        s.shot("06-run-crashed")

        await s.press("r")
        await s.until(lambda: isinstance(app.screen, RollbackScreen), "the rollback preview")
        await s.until(lambda: app.screen.plan is not None, "the plan")
        await s.settle()
        s.shot("07-rollback-preview")

        await s.press("enter", *crashed[:3])
        s.shot("08-confirm-typing")

        await s.press(*crashed[3:6], "enter")
        await s.until(lambda: getattr(app.screen, "finished", False), "the rollback to finish")
        await s.settle()
        s.shot("09-execution-done")

        await s.press("enter")
        await s.until(lambda: isinstance(app.screen, RunScreen), "the refreshed run")
        await s.until(lambda: app.screen.detail is not None, "the run to load")
        await s.settle()
        s.shot("10-run-rolled-back")

        # The production run: the preview says it is refused, enter shows why.
        await s.press("escape")
        await s.press("escape", "slash", *production[:12], "enter", "r")
        await s.until(lambda: isinstance(app.screen, RollbackScreen), "the production preview")
        await s.until(lambda: app.screen.plan is not None, "the production plan")
        await s.settle()
        s.shot("11-rollback-refused-preview")
        await s.press("enter")
        s.shot("12-refusal-production")

    app = make_app()
    async with app.run_test(size=SMALL) as pilot:
        s = Shooter(app, pilot, out)
        await s.until(lambda: app.scan_done, "the first scan")
        await s.settle()
        s.shot("13-runs-80x24")

    # One run of each other tool's ledger, opened from the list like any run.
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        s = Shooter(app, pilot, out)
        await s.until(lambda: app.scan_done, "the first scan")
        await s.settle()
        shots = (
            ("14-cr-crashed-in-doubt", "cr_crashed_in_doubt", ("j", "j")),
            ("15-event-ledger-cut-short", "events_cut_short", ("G",)),
            ("16-orchestrator-outbox-in-doubt", "orchestrator_in_doubt", ("j", "j")),
        )
        for name, role, keys in shots:
            run_id = demo.format_runs[role][1]
            await s.press("slash", *run_id, "enter", "enter")
            await s.until(lambda: isinstance(app.screen, RunScreen), f"the {role} run")
            await s.until(lambda: app.screen.detail is not None, f"the {role} run to load")
            await s.press(*keys)
            s.shot(name)
            if role == "cr_crashed_in_doubt":
                await s.press("r")
                await s.until(lambda: isinstance(app.screen, RollbackScreen), "the cr preview")
                await s.until(lambda: app.screen.plan is not None, "the cr plan")
                await s.press("enter")
                s.shot("17-no-rollback-for-cr")
                await s.press("escape", "escape")
            await s.press("escape", "escape")


def _record_id(detail: Any) -> str:
    """The record the customer would quote: the last sales order the crashed run created."""
    for step in reversed(detail.steps):
        url = step.rollback_url or ""
        if step.derived_status == "committed" and "/salesOrders(" in url:
            return url.rsplit("(", 1)[1].rstrip(")")[:8]
    raise RuntimeError("screenshots: the crashed demo run created no sales order")


async def _support_walk(out: Path, demo: Any) -> None:
    """The README's support engineer walk-through, key by key, on a fresh demo."""
    from ledger_core.ledgers import Sources, read_run
    from ledger_core.rollback import load_profiles
    from tui.app import LedgerxApp
    from tui.screens.facet_picker_screen import FacetPickerScreen
    from tui.screens.resolution_screen import ResolutionScreen
    from tui.screens.rollback_screen import RollbackScreen
    from tui.screens.runs_screen import RunsScreen
    from tui.screens.save_checklist_screen import SaveChecklistScreen
    from tui.screens.time_filter_screen import TimeFilterScreen

    crashed = demo.runs["crashed_in_doubt"]
    needle = _record_id(read_run(demo.ledger_dir / f"{crashed}.db", crashed))
    app = LedgerxApp(
        Sources.from_args(["ledgers"], []),
        load_profiles("profiles.toml"),
        poll_interval=0,
        title_note="demo",
    )
    async with app.run_test(size=SIZE) as pilot:
        s = Shooter(app, pilot, out)
        await s.until(lambda: app.scan_done, "the first scan")
        await s.settle()
        runs = app.screen

        await s.press("T", *"12h")
        await s.until_screen(TimeFilterScreen, "the time filter")
        s.shot("18-time-filter")
        await s.press("enter")
        await s.until(lambda: app.screen is runs, "the runs list")
        await s.settle()

        await s.press("F")
        await s.until_screen(FacetPickerScreen, "the facets")
        s.shot("19-facets")
        await s.press("escape", "T")
        await s.until_screen(TimeFilterScreen, "the time filter again")
        app.screen.query_one("#clear").focus()
        await s.press("enter")
        await s.until(lambda: app.screen is runs, "the runs list")

        # Months of runs at a glance: grouped by company (b cycles the groupings), then flat again.
        await s.press("b", "b", "b")
        await s.until(lambda: runs.group_by == "company", "the list grouped by company")
        await s.press("home")
        await s.settle()
        s.shot("27-runs-grouped")
        await s.press("B", "B", "B")
        await s.until(lambda: runs.group_by is None, "the flat list again")

        # The customer quotes the sales order's id: search reaches the step that created it.
        await s.press("slash", *needle)
        await s.until(lambda: bool(runs._step_hits), "the search to reach the steps")
        await s.settle()
        s.shot("20-search-steps")

        await s.press("enter", "enter")
        run = await s.open_run("the run on the searched step")
        s.shot("21-run-on-searched-step")

        # The ticket's time is the customer's: t shows every time in UTC, and back.
        await s.press("t")
        await s.until(lambda: app.settings.utc, "times in UTC")
        await s.settle()
        s.shot("22-run-utc")
        await s.press("t")
        await s.until(lambda: not app.settings.utc, "times in local time")
        app.clear_notifications()  # its notice would cover the next picture

        # The step in doubt is the next problem: resolve it as a person would.
        await s.press("n", "v")
        dialog = await s.until_screen(ResolutionScreen, "the resolve dialog")
        await s.press("shift+tab", "shift+tab", "shift+tab", "shift+tab", "down", "enter")
        await s.press("tab", *"no line for this order in BC (checked by sam, ticket 4711)")
        s.shot("23-resolve-dialog")
        await s.press("tab", "tab")
        await s.until(lambda: dialog.query_one("#record").has_focus, "Record to have the focus")
        await s.press("enter")
        await s.until(lambda: app.screen is run, "the run screen")
        await s.until(lambda: any(run.summary.resolved), "the resolution to be read back")
        await s.settle()
        s.shot("24-run-resolved")

        await s.press("e")
        await s.until_screen(SaveChecklistScreen, "the export dialog")
        s.shot("25-export-dialog")
        await s.press("escape", "r")
        await s.until(lambda: isinstance(app.screen, RollbackScreen), "the rollback preview")
        await s.until(lambda: app.screen.plan is not None, "the plan")
        await s.press("m")
        await s.until_screen(SaveChecklistScreen, "the checklist dialog")
        s.shot("26-checklist-dialog")
        await s.press("escape", "escape", "escape")
        await s.until(lambda: isinstance(app.screen, RunsScreen), "the runs list")


def _isolate(work: Path) -> None:
    """The demo's own cache, state and zone: nothing of this machine's user shows or changes."""
    os.environ.update(
        {
            "TZ": ZONE,
            "LEDGERX_CACHE_DIR": str(work / "cache"),
            "LEDGERX_STATE_DIR": str(work / "state"),
            "LEDGERX_USER": PERSON,
            "XDG_DATA_HOME": DATA_HOME,
        }
    )
    time.tzset()


def take_screenshots(out: Path) -> None:
    """Build the demo in a temporary directory and write the SVGs into ``out``."""
    from ledger_core.demo import build_demo, write_problem_files

    out = out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    home = Path.cwd()
    work = Path(tempfile.mkdtemp(prefix="ledgerx-shots-"))
    api = _start_api()
    demo = None
    try:
        _isolate(work)
        demo = build_demo(work / "operator", api.base_url)
        write_problem_files(work / "operator" / "ledgers")  # what `ledgerx --demo` shows under p
        os.chdir(work / "operator")  # sources are relative to here: no tmp path in any picture
        asyncio.run(_walk(out, demo))
        demo.stop()
        demo = build_demo(work / "support", api.base_url, live=False)
        os.chdir(work / "support")
        asyncio.run(_support_walk(out, demo))
    finally:
        os.chdir(home)
        if demo is not None:
            demo.stop()
        api.stop()
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0].startswith("-"):
        print("usage: python -m tui.screenshots DIR", file=sys.stderr)
        return 2
    print(f"ledgerx: writing screenshots into {args[0]}", file=sys.stderr)
    take_screenshots(Path(args[0]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
