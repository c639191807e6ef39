"""Headless TUI probes, each run as its own process by ``bench.tui_bench``; prints one JSON line.

``python -m bench.tui_driver MODE ...`` with ``START`` (the parent's ``time.time()`` just before
it started this process) in ``$BENCH_T0``, so times include interpreter start and imports:

* ``minimal`` — a minimal Textual app (header, one line, footer): start to first frame.
* ``runs PATH EXPECTED`` — ledgerx on a directory (or one file): start to the first frame
  showing run rows, start to all ``EXPECTED`` runs listed, and the longest event-loop stall
  in between.
* ``run FILE`` — ledgerx on a file holding one huge run: ``enter`` opens it; key to the first
  frame showing real steps; ``end`` to the frame showing the last step; ``home`` back.
* ``search PATH EXPECTED TEXT`` — ``/`` then TEXT key by key: per key, the time to the frame
  painted after the search index answered (``bench.search_bench``).

"Painted" is measured at the compositor: the first ``Screen._compositor_refresh`` after the
table drew such a row. Stalls are measured by an asyncio task that sleeps 5 ms in a loop and
records how late it wakes up.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import sys
import time
from pathlib import Path

T0 = float(os.environ.get("BENCH_T0", time.time()))
SIZE = (120, 40)
TIMEOUT = 120.0


class Probe:
    """Flags set while drawing, turned into times when a frame is composed."""

    def __init__(self) -> None:
        self.drawn: set[str] = set()
        self.frames: dict[str, float] = {}
        self.wanted: dict[str, object] = {}
        self.max_stall = 0.0
        self.stall_at = 0.0

    def frame(self) -> None:
        now = time.time()
        for name in list(self.drawn):
            self.frames.setdefault(name, now)
        self.drawn.clear()

    async def wait(self, name: str, timeout: float = TIMEOUT) -> float:
        deadline = time.monotonic() + timeout
        while name not in self.frames:
            if time.monotonic() > deadline:
                raise TimeoutError(f"never painted: {name}")
            await asyncio.sleep(0.001)
        return self.frames[name]

    async def watch_stalls(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(0.005)
            late = time.perf_counter() - before - 0.005
            if late > self.max_stall:
                self.max_stall = late
                self.stall_at = time.time() - T0


PROBE = Probe()


def _instrument() -> None:
    from textual.screen import Screen

    original = Screen._compositor_refresh

    def compositor_refresh(self: Screen) -> None:
        original(self)
        PROBE.frame()

    Screen._compositor_refresh = compositor_refresh  # type: ignore[method-assign]


def _instrument_tables() -> None:
    from tui.widgets.virtual_table import VirtualTable

    original = VirtualTable.render_line

    def render_line(self: VirtualTable, y: int):  # type: ignore[no-untyped-def]
        strip = original(self, y)
        rows = self._rows
        index = y - 1 + int(self.scroll_y)
        if y >= 1 and 0 <= index < len(rows):
            row = rows[index]
            if self.id == "runs-table":
                PROBE.drawn.add("runs")
            elif self.id == "run-steps" and not isinstance(row, int):
                PROBE.drawn.add("steps")
                if index == 0:
                    PROBE.drawn.add("first-step")
                if index == len(rows) - 1:
                    PROBE.drawn.add("last-step")
        return strip

    VirtualTable.render_line = render_line  # type: ignore[method-assign]


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


async def minimal() -> dict:
    from textual.app import App, ComposeResult
    from textual.widgets import Footer, Header, Static

    class Minimal(App[None]):
        def compose(self) -> ComposeResult:
            yield Header()
            yield Static("hello")
            yield Footer()

    _instrument()
    PROBE.drawn.add("first")
    async with Minimal().run_test(headless=True, size=SIZE):
        painted = await PROBE.wait("first")
    return {"first_paint": painted - T0, "rss_mb": _rss_mb()}


def _app(sources):
    from ledger_core.rollback.profiles import Profiles
    from tui.app import LedgerxApp

    return LedgerxApp(sources, Profiles(None), poll_interval=0)


async def runs(source: str, expected: str, parallel: str = "") -> dict:
    from ledger_core.ledgers.sources import Sources

    _instrument()
    _instrument_tables()
    stalls = asyncio.get_running_loop().create_task(PROBE.watch_stalls())
    path = Path(source)
    app = _app(Sources((path,)) if path.is_dir() else Sources((), (path,)))
    if parallel:  # what-if: the watcher's batches read in worker processes
        app.watcher.parallel = True
    async with app.run_test(headless=True, size=SIZE) as pilot:
        painted = await PROBE.wait("runs")
        # Start-up is what first_paint measures; stalls count from there to the last run.
        PROBE.max_stall, PROBE.stall_at = 0.0, 0.0
        deadline = time.monotonic() + TIMEOUT
        while not (app.scan_done and len(app.runs) >= int(expected)):
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {len(app.runs)} runs after {TIMEOUT}s")
            await asyncio.sleep(0.005)
        await pilot.pause()
        listed = time.time()
        rows = app.runs_screen().query_one("#runs-table").row_count
    stalls.cancel()
    return {
        "first_paint": painted - T0,
        "all_listed": listed - T0,
        "rows": rows,
        "max_stall": PROBE.max_stall,
        "stall_at": PROBE.stall_at,
        "rss_mb": _rss_mb(),
    }


async def run(file: str) -> dict:
    from ledger_core.ledgers.sources import Sources

    _instrument()
    _instrument_tables()
    stalls = asyncio.get_running_loop().create_task(PROBE.watch_stalls())
    app = _app(Sources((), (Path(file),)))
    async with app.run_test(headless=True, size=SIZE) as pilot:
        await PROBE.wait("runs")
        while not app.scan_done:
            await asyncio.sleep(0.005)
        await pilot.pause()
        PROBE.max_stall = 0.0  # from here on: the run screen
        key = time.time()
        await pilot.press("enter")
        # The run opens on the step that matters (a crashed run: its last), so the first
        # frame with real steps is what counts, wherever they are.
        first = await PROBE.wait("steps") - key
        await pilot.pause()
        PROBE.frames.pop("first-step", None)
        key_home = time.time()
        await pilot.press("home")
        home = await PROBE.wait("first-step") - key_home
        await pilot.pause()
        PROBE.frames.pop("last-step", None)
        key_end = time.time()
        await pilot.press("end")
        end = await PROBE.wait("last-step") - key_end
        await pilot.pause()
        steps = app.screen.query_one("#run-steps").row_count
    stalls.cancel()
    return {
        "first_steps": first,
        "jump_end": end,
        "jump_home": home,
        "steps": steps,
        "max_stall": PROBE.max_stall,
        "rss_mb": _rss_mb(),
    }


async def search(source: str, expected: str, text: str) -> dict:
    """``/`` then ``text`` one key at a time: for each key, the time from the key to the first
    frame painted after the search index's answer for the text typed so far arrived."""
    from ledger_core.ledgers.sources import Sources
    from tui.screens.runs_screen import RunsScreen

    _instrument()
    original = RunsScreen._show_step_hits

    def show_step_hits(self, answer, *rest):  # type: ignore[no-untyped-def]
        original(self, answer, *rest)
        typed = answer.text
        if typed == self.search_text.strip():
            PROBE.drawn.add(f"hits:{typed}")

    RunsScreen._show_step_hits = show_step_hits  # type: ignore[method-assign]
    stalls = asyncio.get_running_loop().create_task(PROBE.watch_stalls())
    app = _app(Sources((Path(source),)))
    latencies: list[float] = []
    async with app.run_test(headless=True, size=SIZE) as pilot:
        deadline = time.monotonic() + TIMEOUT
        while not (app.scan_done and len(app.runs) >= int(expected)):
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {len(app.runs)} runs after {TIMEOUT}s")
            await asyncio.sleep(0.005)
        await pilot.pause()
        PROBE.max_stall = 0.0
        opened = time.monotonic()
        await pilot.press("slash")
        await pilot.pause()
        # A person reads the box before typing: the index is brought up to date and its text
        # read into memory meanwhile (``SearchSession.load_corpus``). Measured, then typed.
        screen = app.runs_screen()
        while time.monotonic() - opened < TIMEOUT:
            session = screen._session
            if session is not None and (session.has_corpus or session.corpus_tried):
                break
            await asyncio.sleep(0.005)
        ready, ready_stall = time.monotonic() - opened, PROBE.max_stall
        PROBE.max_stall = 0.0  # from here on: typing
        for n in range(1, len(text) + 1):
            key = time.time()
            await pilot.press(text[n - 1])
            latencies.append(await PROBE.wait(f"hits:{text[:n].strip()}") - key)
        await pilot.pause()
        shown = app.runs_screen().query_one("#runs-table").row_count
    stalls.cancel()
    return {
        "latencies": latencies,
        "shown": shown,
        "max_stall": PROBE.max_stall,
        "ready": ready,
        "ready_stall": ready_stall,
        "rss_mb": _rss_mb(),
    }


def main() -> None:
    mode, *args = sys.argv[1:]
    modes = {"minimal": minimal, "runs": runs, "run": run, "search": search}
    result = asyncio.run(modes[mode](*args))
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
