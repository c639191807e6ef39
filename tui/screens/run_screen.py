"""The run screen: one run's facts and diagnosis, its step timeline, and the selected step.

| Key | Action |
| :- | :- |
| escape | back to the runs list |
| j / k, up / down | move through the steps |
| g / G, home / end | first / last step |
| r | rollback preview of this run |
| R, ctrl+r | read the run again |
| d | show / hide the step detail pane |

The run is read in a thread worker through ``ledger_core`` and handed back as small Messages.
Big runs never become widgets: the steps live in a ``VirtualTable`` (rows are plain ``Step``
objects, only visible lines are drawn). A run with many steps shows its first page at once
(``read_steps_page``), then the whole run (``read_run``) replaces the placeholders; a jump to a
part not loaded yet fetches just that page. While the run may still be written, the file's
signature is polled and the run is read again only when it changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Header
from textual.worker import get_current_worker

from ledger_core import DEFAULT_STALE_AFTER, read_run, read_steps_page
from ledger_core.access import file_signature
from ledger_core.errors import LedgerxError
from ledger_core.models import RollbackAttempt, RunDetail, RunSummary, Step
from ledger_core.timeutil import format_duration, parse_ts

from ..widgets.run_header import RunHeader
from ..widgets.safe import plain, safe_text, state_text
from ..widgets.step_detail import StepDetail
from ..widgets.timeline import Window, axis_cell, window_for
from ..widgets.virtual_table import Column, VirtualTable

# Above this many steps the first page is shown before the whole run is read.
PAGE_FIRST_ABOVE = 1000
PAGE_SIZE = 200
NARROW = 110  # below this width the table drops the outcome and correlation columns
SHORT = 30  # below this height the detail pane starts hidden (``d`` shows it)
SCROLLBAR = 2
PLACEHOLDER = Text("…", style="dim")


def _clock(ts: str | None) -> Text:
    """The time of day of a ledger timestamp (the date is in the header), or the raw value."""
    parsed = parse_ts(ts)
    if parsed is None:
        return safe_text(ts or "—", 40, style="dim" if not ts else "yellow")
    return Text(parsed.strftime("%H:%M:%S.%f")[:-3])


def _url_tail(url: str | None, width: int) -> Text:
    """The URL cut from the left: its end (the resource) tells steps apart, the origin not."""
    text = safe_text(url or "—", 2000)
    if text.cell_len > width > 1:
        text = text[len(text) - (width - 1) :]
        text = Text("…", style="dim") + text
    return text


def _latency(step: Step) -> Text:
    if step.latency_ms is None:
        return Text("—", style="dim")
    return Text(format_duration(step.latency_ms / 1000.0))


def _cell(render):
    """Wrap a cell renderer so rows not loaded yet (``None``) show a placeholder."""

    def cell(step: Step | None) -> Text:
        return PLACEHOLDER if step is None else render(step)

    return cell


class RunScreen(Screen[None]):
    """One run: header, step timeline with a time axis, and the selected step's detail."""

    CSS_PATH = "run_screen.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", tooltip="Back to the runs list"),
        Binding("r", "rollback", "Rollback", tooltip="Preview rolling back this run"),
        Binding("R,ctrl+r", "refresh", "Refresh", tooltip="Read the run again from its ledger"),
        Binding("d", "toggle_detail", "Detail", tooltip="Show or hide the step detail pane"),
    ]

    @dataclass
    class StepsPage(Message):
        """Steps ``offset`` .. ``offset + len(steps)`` of the run, read ahead of the whole run."""

        offset: int
        steps: list[Step]

    @dataclass
    class RunLoaded(Message):
        """The whole run, read in one snapshot, and the file signature it was read at."""

        detail: RunDetail
        signature: tuple[int, int, int, int] | None

    @dataclass
    class LoadFailed(Message):
        """The run could not be read; ``reason`` is for a person (untrusted: shown plain)."""

        reason: str

    def __init__(self, summary: RunSummary) -> None:
        super().__init__()
        self.summary = summary
        self.detail: RunDetail | None = None
        self._steps: list[Step | None] = []
        self._attempts: dict[int, list[RollbackAttempt]] = {}
        self._window: Window | None = window_for(summary)
        self._signature: tuple[int, int, int, int] | None = None
        self._loading = False
        self._pages_requested: set[int] = set()
        self._poll_timer: Timer | None = None
        self._layout: tuple[int, bool] | None = None
        self._detail_choice: bool | None = None  # the user's ``d``; None: by screen height

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="run-body"):
            yield RunHeader(id="run-header")
            yield VirtualTable[Step | None](
                self._columns(), empty_message="no steps recorded", id="run-steps"
            )
            yield StepDetail(id="run-detail")
        yield Footer()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_rollback(self) -> None:
        if self.detail is None:
            self.notify("The run is still loading; try again in a moment.", markup=False)
            return
        try:
            from .rollback_screen import RollbackScreen
        except ImportError:
            self.notify("Rollback preview is not available in this build.", markup=False)
            return
        self.app.push_screen(RollbackScreen(self.detail))

    def action_refresh(self) -> None:
        self._load(force=True)

    def action_toggle_detail(self) -> None:
        self._detail_choice = self.has_class("-no-detail")
        self._apply_size()

    # -- lifecycle ----------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.title = "ledgerx"
        self.sub_title = plain(f"run {self.summary.run_id}", 80)
        self._show_header()
        self.query_one("#run-detail", StepDetail).show_message("Reading the run…")
        table = self._table()
        table.focus()
        self._apply_size()
        self._load()
        interval = float(getattr(self.app, "poll_interval", 2.0) or 2.0)
        self._poll_timer = self.set_interval(interval, self._poll, pause=False)

    def on_screen_resume(self) -> None:
        # Back from a rollback: the ledger may have changed under us.
        if self.detail is not None:
            self._poll()

    def on_resize(self) -> None:
        self._apply_size()

    # -- messages from workers ----------------------------------------------------------------

    @on(StepsPage)
    def show_page(self, message: StepsPage) -> None:
        if self.detail is not None and not self._loading:
            return  # the whole run already arrived; a late page is stale
        total = max(self.summary.step_count, message.offset + len(message.steps))
        if len(self._steps) < total:
            self._steps.extend([None] * (total - len(self._steps)))
        self._steps[message.offset : message.offset + len(message.steps)] = message.steps
        if self._window is None and message.offset == 0 and message.steps:
            self._window = window_for(self.summary, message.steps[0])
        self._table().set_rows(self._steps)
        self._show_selected()

    @on(RunLoaded)
    def show_run(self, message: RunLoaded) -> None:
        self._loading = False
        self._pages_requested.clear()
        detail = message.detail
        self.detail = detail
        self.summary = detail.summary
        self._signature = message.signature
        self._attempts = {}
        for attempt in detail.attempts:
            self._attempts.setdefault(attempt.step_id, []).append(attempt)
        self._steps = list(detail.steps)
        self._window = window_for(detail.summary, detail.steps[0] if detail.steps else None)
        self._show_header()
        self._table().set_rows(self._steps)
        self._show_selected()

    @on(LoadFailed)
    def show_failure(self, message: LoadFailed) -> None:
        self._loading = False
        detail = self.query_one("#run-detail", StepDetail)
        detail.show_message(f"Could not read this run: {plain(message.reason, 300)}")
        self.notify(plain(message.reason, 300), title="Read failed", severity="error", markup=False)

    @on(VirtualTable.RowHighlighted, "#run-steps")
    def follow_cursor(self, event: VirtualTable.RowHighlighted) -> None:
        event.stop()
        self._show_selected()

    # -- workers ------------------------------------------------------------------------------

    def _load(self, *, force: bool = False) -> None:
        if self._loading and not force:
            return
        self._loading = True
        self._read_run(page_first=self.detail is None)

    @work(thread=True, exclusive=True, group="run-read")
    def _read_run(self, page_first: bool) -> None:
        worker = get_current_worker()
        path, run_id = Path(self.summary.source), self.summary.run_id
        try:
            if page_first and self.summary.step_count > PAGE_FIRST_ABOVE:
                first = read_steps_page(path, run_id, 0, PAGE_SIZE)
                if worker.is_cancelled:
                    return
                self.post_message(self.StepsPage(0, first))
            signature = _signature(path)
            detail = read_run(path, run_id, now=self._now(), stale_after=self._stale_after())
        except LedgerxError as exc:
            if not worker.is_cancelled:
                self.post_message(self.LoadFailed(str(exc)))
            return
        if not worker.is_cancelled:
            self.post_message(self.RunLoaded(detail, signature))

    @work(thread=True, group="run-page")
    def _read_page(self, offset: int) -> None:
        worker = get_current_worker()
        try:
            steps = read_steps_page(
                Path(self.summary.source), self.summary.run_id, offset, PAGE_SIZE
            )
        except LedgerxError:
            return  # the whole-run read reports the failure
        if not worker.is_cancelled:
            self.post_message(self.StepsPage(offset, steps))

    @work(thread=True, exclusive=True, group="run-poll")
    def _check_signature(self) -> None:
        try:
            current = _signature(Path(self.summary.source))
        except OSError:
            return
        if current != self._signature:
            self.app.call_from_thread(self._load)

    def _poll(self) -> None:
        if not self._loading and self.is_current:
            self._check_signature()

    # -- helpers ------------------------------------------------------------------------------

    def _table(self) -> VirtualTable[Step | None]:
        return self.query_one("#run-steps", VirtualTable)

    def _now(self) -> float:
        now = getattr(self.app, "now", None)
        if callable(now):
            return float(now())
        import time

        return time.time()

    def _stale_after(self) -> float:
        return float(getattr(self.app, "stale_after", DEFAULT_STALE_AFTER) or DEFAULT_STALE_AFTER)

    def _show_header(self) -> None:
        self.query_one("#run-header", RunHeader).show(
            self.summary,
            getattr(self.app, "profiles", None),
            readonly=bool(getattr(self.app, "readonly", False)),
            now=self._now(),
        )

    def _show_selected(self) -> None:
        table = self._table()
        detail = self.query_one("#run-detail", StepDetail)
        if table.row_count == 0:
            if self.detail is not None:
                detail.show_message("This run has no steps recorded.")
            return
        step = table.cursor_value
        if step is None:
            detail.show_step(None)
            self._request_page(table.cursor_row)
            return
        alive = self.summary.liveness == "alive" and step.seq == self.summary.last_seq
        detail.show_step(step, self._attempts.get(step.step_id, ()), writer_alive=alive)

    def _request_page(self, index: int) -> None:
        """Fetch the page around ``index`` (rows near the cursor not read yet)."""
        offset = max(0, index - PAGE_SIZE // 2)
        if offset in self._pages_requested:
            return
        self._pages_requested.add(offset)
        self._read_page(offset)

    def _apply_size(self) -> None:
        width, height = self.size
        show = self._detail_choice if self._detail_choice is not None else height >= SHORT
        self.set_class(not show, "-no-detail")
        layout = (width, width < NARROW)
        if layout != self._layout:
            self._layout = layout
            self._table().set_columns(self._columns(width))

    def _columns(self, width: int = 120) -> list[Column[Any]]:
        narrow = width < NARROW
        axis_width = 14 if narrow else 24
        fixed = 5 + 6 + 12 + 7 + 11 + axis_width + (0 if narrow else 12 + 14)
        gaps = 6 if narrow else 8
        url_width = max(10, width - SCROLLBAR - fixed - gaps)

        def url(step: Step) -> Text:
            return _url_tail(step.url, url_width)

        def axis(step: Step) -> Text:
            return axis_cell(step, self._window, axis_width)

        columns: list[Column[Any]] = [
            Column("seq", "seq", _cell(lambda s: safe_text(s.seq, 10)), 5, justify="right"),
            Column("method", "method", _cell(lambda s: safe_text(s.method, 10)), 6),
            Column("url", "URL", _cell(url), url_width, 10),
            Column("intent", "intent", _cell(lambda s: _clock(s.intent_ts)), 12),
        ]
        if not narrow:
            columns.append(Column("outcome", "outcome", _cell(lambda s: _clock(s.outcome_ts)), 12))
        columns += [
            Column("latency", "latency", _cell(_latency), 7, justify="right"),
            Column("status", "status", _cell(lambda s: state_text(s.derived_status)), 11),
        ]
        if not narrow:
            columns.append(
                Column(
                    "corr", "correlation", _cell(lambda s: safe_text(s.bc_correlation_id, 60)), 14
                )
            )
        columns.append(Column("axis", "timeline", _cell(axis), axis_width, axis_width))
        return columns


def _signature(path: Path) -> tuple[int, int, int, int] | None:
    try:
        return file_signature(path)
    except OSError:
        return None
