"""The ledgerx Textual app: holds the sources and profiles, scans them in a worker, keeps it live.

| Key | Action |
| :- | :- |
| q | quit (not while a rollback is sending: ctrl+q does, at once) |
| ? | help: every key, grouped |
| ctrl+p | command palette (ledgerx commands: open run, filters, problems, sort, refresh) |
| ctrl+r | scan the sources again now |

The profiles file is read again whenever a decision depends on it (the core does that, given
``profiles_source``); ``profiles`` is only the last reading, for showing, refreshed with every
scan and every rollback preview. A profiles file that cannot be read never stops browsing: it is
said once at start, and every rollback is refused with its error until it is fixed.

The home screen is the runs list. The sources are read by a
``ledger_core.ledgers.watch.SourceWatcher`` in a thread worker; results come back as
``SourcesScanned`` messages. Every ``poll_interval`` seconds the watcher runs again and re-reads
only files whose signature changed (plus files with unfinished runs, whose liveness can change
without a byte written).
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.reactive import Reactive
from textual.theme import Theme
from textual.worker import Worker, WorkerState, get_current_worker

from ledger_core.derive import DEFAULT_STALE_AFTER
from ledger_core.errors import ProfilesError
from ledger_core.ledgers import Sources, SourceWatcher
from ledger_core.models import Problem, RunSummary
from ledger_core.rollback import Profiles, ProfilesSource

from .ansi_palette import LIGHT_ANSI
from .commands import LedgerxCommands
from .messages import ScanFailed, SourcesScanned
from .screens.help_screen import HelpScreen
from .screens.problems_screen import ProblemsScreen
from .screens.runs_screen import RunsScreen
from .settings import Settings
from .widgets.safe import plain

_HERE = Path(__file__).parent


class LedgerxApp(App[None]):
    """Browse runs, open one, preview and execute rollbacks (see SPEC §5)."""

    TITLE = "ledgerx"
    # State colours readable on every light theme (``ansi_palette``: WCAG AA, measured).
    ansi_theme_light = Reactive(LIGHT_ANSI, init=False)
    # The home screen is the default screen, whose own CSS_PATH Textual never loads. Absolute,
    # so subclasses elsewhere (demo, benchmarks) find the files too.
    CSS_PATH = [_HERE / "app.tcss", _HERE / "screens" / "runs_screen.tcss"]
    COMMANDS = App.COMMANDS | {LedgerxCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "leave", "Quit", tooltip="Leave ledgerx", id="quit"),
        Binding("question_mark", "help", "Help", tooltip="Every key, grouped", id="help"),
        Binding(
            "ctrl+r",
            "refresh",
            "Refresh",
            show=False,
            tooltip="Scan the ledger sources again now",
            id="refresh",
        ),
        Binding("t", "toggle_utc", "UTC", show=False, tooltip="Times in UTC / local", id="utc"),
    ]

    def __init__(
        self,
        sources: Sources,
        profiles: Profiles | ProfilesSource,
        *,
        readonly: bool | str = False,
        stale_after: float = DEFAULT_STALE_AFTER,
        now: Callable[[], float] | None = None,
        poll_interval: float = 2.0,
        title_note: str | None = None,
        initial_filter: str = "all",
        hints: bool | None = None,
    ) -> None:
        super().__init__()
        self.initial_filter = initial_filter
        """The runs list's preset filter at start (the demo opens on ``attention``)."""
        self.settings = Settings.load()
        """Remembered preferences (theme, hints), read once at start."""
        self.hints = self.settings.hints if hints is None else hints
        """Whether the hint bar shows at start (``None`` given: as remembered)."""
        self.sources = sources
        self.profiles_source = ProfilesSource.of(profiles)
        """Where the profiles file is: the core reads it afresh at every rollback decision."""
        self.readonly_flag = readonly
        """``--readonly``: the session's own switch (``[defaults] readonly`` is the file's)."""
        self.profiles = profiles if isinstance(profiles, Profiles) else Profiles(None)
        """The last reading of the profiles file, for showing only."""
        self.profiles_error: str | None = None
        """Why the profiles file cannot be used, as of the last reading."""
        self.readonly = readonly or self.profiles.readonly
        """Whether the RO badge shows (the flag, or ``[defaults] readonly`` as last read)."""
        if not isinstance(profiles, Profiles):
            self.read_profiles()
        self.stale_after = stale_after
        self.now: Callable[[], float] = now or time.time
        self.poll_interval = poll_interval
        self.title_note = title_note
        self.runs: tuple[RunSummary, ...] = ()
        """Every run known so far, newest first (from the last scan)."""
        self.problems: tuple[Problem, ...] = ()
        """Every unusable file or source, with its reason."""
        self.scan_done = False
        """True once the first complete scan has arrived."""
        # Big batches may be read in worker processes (the scanner starts them at lower
        # priority from a threaded process, so the UI keeps its core); the first batch never.
        self.watcher = SourceWatcher(sources, stale_after=stale_after, now=self.now)
        self._watch_lock = threading.Lock()
        self._scan_worker: Worker[None] | None = None

    def read_profiles(self) -> Profiles | None:
        """Read the profiles file now (from any thread); keep it for showing; None if broken."""
        try:
            profiles = self.profiles_source.load()
        except ProfilesError as exc:
            self.profiles, self.profiles_error = Profiles(None), str(exc)
            self.readonly = self.readonly_flag
            return None
        self.profiles, self.profiles_error = profiles, None
        self.readonly = self.readonly_flag or profiles.readonly
        return profiles

    def get_default_screen(self) -> RunsScreen:
        return RunsScreen(filter_key=self.initial_filter)

    def format_title(self, title: str, sub_title: str) -> Content:
        """The header title, led by an ``RO`` badge when every write is refused."""
        parts: list[Content | tuple[str, str] | str] = []
        if self.readonly:
            parts += [(" RO ", "bold reverse"), " "]
        parts.append(Content(title))
        note = self.title_note
        if note:
            parts += [("  ", ""), (plain(note, 60), "italic")]
        if sub_title:
            parts += [(" — ", "dim"), Content(sub_title).stylize("dim")]
        return Content.assemble(*parts)

    def on_mount(self) -> None:
        if self.settings.theme in self.available_themes:
            self.theme = self.settings.theme
        self.theme_changed_signal.subscribe(self, self._remember_theme)
        if self.profiles_error:
            self.notify(
                f"{plain(self.profiles_error, 400)}. Browsing works; every rollback is refused "
                "until the profiles file is fixed.",
                title="Profiles file cannot be used",
                severity="warning",
                markup=False,
                timeout=12,
            )
        self.scan()
        if self.poll_interval > 0:
            self.set_interval(self.poll_interval, self.scan, name="poll sources")

    @property
    def show_utc(self) -> bool:
        """Times on screen in UTC (``t``, remembered) rather than the local zone."""
        settings = getattr(self, "settings", None)
        return bool(settings and settings.utc)

    def action_toggle_utc(self) -> None:
        self.settings.utc = not self.settings.utc
        self.settings.save()
        for screen in self.screen_stack:
            redraw = getattr(screen, "times_changed", None)
            if callable(redraw):
                redraw()
        zone = "UTC" if self.settings.utc else "local time"
        self.notify(f"Times in {zone}.", markup=False, timeout=3)

    def _remember_theme(self, theme: Theme) -> None:
        if theme.name != self.settings.theme:
            self.settings.theme = theme.name
            self.settings.save()

    def copy_value(self, text: str, what: str) -> None:
        """Put ``text`` on the clipboard through the terminal (OSC 52) and say what it was.

        OSC 52 carries the text base64-encoded: nothing in it reaches the terminal as-is.
        """
        self.copy_to_clipboard(text)
        self.notify(f"Copied {what} ({len(text):,} chars) to the clipboard.", markup=False)

    # -- actions ------------------------------------------------------------------------------

    def action_leave(self) -> None:
        from .screens.execution_screen import ExecutionScreen

        screen = self.screen
        if isinstance(screen, ExecutionScreen) and not screen.finished:
            # Quitting would cancel the worker between a DELETE's intent and its outcome,
            # leaving that step in doubt: a stray q must not do that.
            self.notify(
                "A rollback is sending requests: quitting now could leave a step in doubt. "
                "Wait for it to finish (ctrl+q quits anyway).",
                title="Not now",
                severity="warning",
                markup=False,
            )
            return
        self.exit()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_refresh(self) -> None:
        self.scan()

    def set_hints(self, show: bool) -> None:
        """Show or hide the first-time hint bar, and remember it (``Settings.hints``)."""
        self.hints = show
        if self.settings.hints != show:
            self.settings.hints = show
            self.settings.save()
        self.runs_screen().show_hints(show)
        if not show:
            self.notify('ctrl+p "Show hints" brings them back.', title="Hints hidden", markup=False)

    def action_problems(self) -> None:
        if not isinstance(self.screen, ProblemsScreen):
            self.push_screen(ProblemsScreen())

    def runs_screen(self) -> RunsScreen:
        """The home screen (the runs list), wherever the user is now."""
        home = self.screen_stack[0]
        assert isinstance(home, RunsScreen)
        return home

    def back_to_runs(self) -> RunsScreen:
        """Close every screen above the runs list; return it."""
        while len(self.screen_stack) > 1:
            self.pop_screen()
        return self.runs_screen()

    def runs_command(self, command: str, argument: str | None = None) -> None:
        """A palette command for the runs list: ``search``, ``sort``, ``time``, ``facets``,
        ``filter`` PRESET or ``group`` FACET (``None``: no groups)."""
        home = self.back_to_runs()
        if command == "search":
            home.action_search()
        elif command == "sort":
            home.action_cycle_sort()
        elif command == "time":
            home.action_time_filter()
        elif command == "facets":
            home.action_facets()
        elif command == "filter" and argument is not None:
            home.set_filter(argument)
        elif command == "group":
            home.group_and_remember(argument)

    def open_run(self, summary: RunSummary) -> None:
        """Open ``summary``'s run screen on top of the runs list."""
        self.back_to_runs().open_run(summary)

    # -- scanning -----------------------------------------------------------------------------

    def scan(self) -> None:
        """Start a scan unless one is under way (the watcher is single-threaded)."""
        worker = self._scan_worker
        if worker is not None and worker.state in (WorkerState.PENDING, WorkerState.RUNNING):
            return
        self._scan_worker = self._scan_sources()

    @work(thread=True, exclusive=True, group="scan", exit_on_error=False)
    def _scan_sources(self) -> None:
        worker = get_current_worker()
        first = not self.scan_done
        self.read_profiles()  # the run header shows the profile's settings as they are now
        try:
            with self._watch_lock:
                for changes in self.watcher.iter_refresh(cancelled=lambda: worker.is_cancelled):
                    if worker.is_cancelled:
                        return
                    if changes.any or (first and changes.done):
                        self.post_message(SourcesScanned(changes))
                    if first:
                        # Tens of thousands of fresh summaries make the cyclic GC's full
                        # collections slow, and they hold the GIL: measured 60-100 ms UI stalls
                        # while 10,000 runs load. Freezing moves what exists now out of the
                        # GC's sight (summaries have no cycles; refcounting still frees them).
                        # Only during the first scan, while no screen but the list exists.
                        gc.freeze()
        except Exception as exc:  # noqa: BLE001 - a scan bug must show, not kill the app
            self.post_message(ScanFailed(f"{type(exc).__name__}: {exc}"))

    def on_sources_scanned(self, message: SourcesScanned) -> None:
        changes = message.changes
        self.runs = changes.runs
        self.problems = changes.problems
        if changes.done:
            self.scan_done = True
        for screen in self.screen_stack:
            if isinstance(screen, RunsScreen | ProblemsScreen):
                screen.sources_changed(changes)

    def on_scan_failed(self, message: ScanFailed) -> None:
        self.scan_done = True
        self.notify(plain(message.reason), title="Scan failed", severity="error", markup=False)
