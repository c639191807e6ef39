"""The run screen: one run's facts and diagnosis, its step timeline, and the selected step.

| Key | Action |
| :- | :- |
| escape | back to the runs list |
| j / k, up / down | move through the steps |
| g / G, home / end | first / last step |
| r | rollback preview of this run |
| R, ctrl+r | read the run again |
| enter | into the step detail pane (shown if hidden) to scroll it; enter again: the steps |
| d | show / hide the step detail pane |

The run is read in thread workers through ``ledger_core`` and handed back as small Messages.
Steps never become widgets: they live in a ``VirtualTable`` whose rows are plain ``Step``
objects, and only visible lines are drawn. A run of ordinary size is read whole (``read_run``).
A huge run is paged: its rows start as placeholders (their index), and drawing a placeholder
asks for the page holding it (``read_steps_page``), so only what is on screen is ever read —
the first steps show at once and a jump to the end reads one page. The whole run is read only
when a rollback preview needs it. While a run may still be written, the file's signature is
polled and the run read again only when it changed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Header
from textual.worker import get_current_worker

from ledger_core import DEFAULT_STALE_AFTER, read_run, read_steps_page, read_summaries
from ledger_core.access import file_signature
from ledger_core.errors import LedgerxError, RunNotFound
from ledger_core.models import RollbackAttempt, RunDetail, RunSummary, Step
from ledger_core.reader import read_attempts
from ledger_core.timeutil import format_duration, parse_ts

from ..widgets.footer import LedgerxFooter
from ..widgets.mono import for_mode
from ..widgets.run_header import RunHeader
from ..widgets.safe import plain, safe_text, state_text
from ..widgets.step_detail import StepDetail
from ..widgets.timeline import Window, axis_cell, window_for
from ..widgets.virtual_table import Column, VirtualTable

# Above this many steps the run is paged instead of read whole: reading 100,000 steps in one
# go holds the GIL for about a second and starves the event loop.
PAGED_ABOVE = 5000
PAGE_SIZE = 200
NARROW = 110  # below this width the table drops the outcome and correlation columns
SHORT = 30  # below this height the detail pane starts hidden (``d`` shows it)
SCROLLBAR = 2
FEW_ROWS = 0.3  # a table this share of the screen tall, or less, is shown whole
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


Signature = tuple[int, int, int, int]
Row = Step | int  # a step, or the index of a step whose page is not read yet


class RunScreen(Screen[None]):
    """One run: header, step timeline with a time axis, and the selected step's detail."""

    CSS_PATH = "run_screen.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", tooltip="Back to the runs list"),
        Binding("r", "rollback", "Rollback", tooltip="Preview rolling back this run"),
        Binding("R,ctrl+r", "refresh", "Refresh", tooltip="Read the run again from its ledger"),
        Binding("enter", "step_detail", "Step", tooltip="Read the step: into its detail pane"),
        Binding("d", "toggle_detail", "Detail", tooltip="Show or hide the step detail pane"),
    ]

    @dataclass
    class RunLoaded(Message):
        """The whole run, read in one snapshot, and the file signature it was read at."""

        detail: RunDetail
        signature: Signature | None
        for_rollback: bool = False

    @dataclass
    class SummaryLoaded(Message):
        """A paged run's fresh summary and rollback attempts (its steps come by page)."""

        summary: RunSummary
        attempts: list[RollbackAttempt]
        signature: Signature | None
        generation: int

    @dataclass
    class StepsPage(Message):
        """Steps ``offset`` .. ``offset + len(steps)`` of a paged run."""

        offset: int
        steps: list[Step]
        generation: int

    @dataclass
    class LoadFailed(Message):
        """The run could not be read; ``reason`` is for a person (untrusted: shown plain)."""

        reason: str

    def __init__(
        self,
        summary: RunSummary,
        focus_step_id: int | None = None,
        *,
        focus_seq: int | None = None,
    ) -> None:
        super().__init__()
        self.summary = summary
        # A search result opens the run on its step (by id; by seq when a format has no ids).
        self._focus_step: tuple[int | None, int | None] | None = (
            (focus_step_id, focus_seq)
            if focus_step_id is not None or focus_seq is not None
            else None
        )
        self.detail: RunDetail | None = None
        self.paged = summary.step_count > PAGED_ABOVE
        self._rows: list[Row] = []
        self._attempts: dict[int, list[RollbackAttempt]] = {}
        self._window: Window | None = window_for(summary)
        self._signature: Signature | None = None
        self._generation = 0  # bumped by every re-read: pages of an older one are dropped
        self._loading = False
        self._loaded_pages: set[int] = set()
        self._fetching: int | None = None
        self._wanted: set[int] = set()
        self._layout: tuple[int, int] | None = None
        self._detail_choice: bool | None = None  # the user's ``d``; None: by screen height

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="run-body"):
            yield RunHeader(id="run-header")
            yield VirtualTable[Row](
                self._columns(),
                empty_message="no steps recorded",
                id="run-steps",
                selectable=False,  # enter is this screen's: into the step detail
            )
            yield StepDetail(id="run-detail")
        yield LedgerxFooter()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_rollback(self) -> None:
        if self.detail is None:
            if self.paged:
                self.notify(
                    f"Reading all {self.summary.step_count:,} steps for the rollback plan…",
                    markup=False,
                )
                self._read_whole(self._generation, for_rollback=True)
            else:
                self.notify("The run is still loading; try again in a moment.", markup=False)
            return
        self._open_rollback(self.detail)

    def action_refresh(self) -> None:
        self._reload()

    def action_step_detail(self) -> None:
        detail = self.query_one("#run-detail", StepDetail)
        if detail.has_focus:
            self._table().focus()
            return
        if self.has_class("-no-detail"):
            self._detail_choice = True
            self._apply_size()
        # A long error or URL runs past the pane: focused, it scrolls with the keys.
        detail.focus()

    def action_toggle_detail(self) -> None:
        self._detail_choice = self.has_class("-no-detail")
        self._apply_size()
        if self.has_class("-no-detail"):
            self._table().focus()  # never leave focus on a hidden pane

    # -- lifecycle ----------------------------------------------------------------------------

    def on_mount(self) -> None:
        if self.paged:
            # Ask for the first page before anything is drawn: it is what the user waits for.
            self._want_page(0)
        self.title = "ledgerx"
        self.sub_title = plain(f"run {self.summary.run_id}", 80)
        self._show_header()
        self.query_one("#run-detail", StepDetail).show_message("Reading the run…")
        self._table().focus()
        self._apply_size()
        if self.paged:
            # Placeholders now; the first page is asked for as soon as they are drawn.
            # The summary is re-read after the first page lands, so the two reads do not race.
            self._rows = list(range(self.summary.step_count))
            self._table().set_rows(self._rows)
            self._loading = True
        else:
            self._loading = True
            self._read_whole(self._generation)
        interval = float(getattr(self.app, "poll_interval", 2.0) or 0)
        if interval > 0:  # 0 turns live updates off (tests, snapshots)
            self.set_interval(interval, self._poll)

    def on_screen_resume(self) -> None:
        # Back from a rollback: the ledger may have changed under us.
        self._poll()

    def on_resize(self) -> None:
        self._apply_size()

    # -- messages from workers ----------------------------------------------------------------

    @on(RunLoaded)
    def show_run(self, message: RunLoaded) -> None:
        detail = message.detail
        self.detail = detail
        if message.for_rollback:
            self._open_rollback(detail)
            if self.paged:
                return
        self._loading = False
        self.summary = detail.summary
        self._signature = message.signature
        self._set_attempts(detail.attempts)
        self._rows = list(detail.steps)
        self._window = window_for(detail.summary, detail.steps[0] if detail.steps else None)
        self._show_header()
        self._table().set_rows(self._rows)
        self._move_to_focus_step()
        self._apply_size()
        self._show_selected()

    def _move_to_focus_step(self) -> None:
        """Once, after the steps are read: put the cursor on the step a search result named."""
        if self._focus_step is None:
            return
        step_id, seq = self._focus_step
        self._focus_step = None
        for index, row in enumerate(self._rows):
            if isinstance(row, int):
                continue
            if (step_id is not None and row.step_id == step_id) or (
                step_id is None and seq is not None and row.seq == seq
            ):
                self._table().move_cursor(index)
                return

    @on(SummaryLoaded)
    def show_summary(self, message: SummaryLoaded) -> None:
        if message.generation != self._generation:
            return
        self._loading = False
        self.summary = message.summary
        self._signature = message.signature
        self._set_attempts(message.attempts)
        self._window = window_for(message.summary)
        self._show_header()
        self._apply_size()
        count = message.summary.step_count
        if count != len(self._rows):
            self._rows = self._rows[:count] + list(range(len(self._rows), count))
            self._table().set_rows(self._rows)
        self._show_selected()

    @on(StepsPage)
    def show_page(self, message: StepsPage) -> None:
        self._fetching = None
        if message.generation == self._generation:
            if not self._loaded_pages and self._signature is None:
                # After the first steps are painted: the read must not delay that frame.
                self.call_after_refresh(self._read_summary, self._generation)
            self._loaded_pages.add(message.offset)
            end = message.offset + len(message.steps)
            if end > len(self._rows):
                self._rows.extend(range(len(self._rows), end))
            self._rows[message.offset : end] = message.steps
            # Redrawing asks again for any placeholder still on screen.
            self._table().set_rows(self._rows)
            self._show_selected()
        # Pages asked for meanwhile but scrolled past are not worth reading any more.
        wanted, self._wanted = self._wanted & self._visible_pages(), set()
        for offset in sorted(wanted):
            self._want_page(offset)

    @on(LoadFailed)
    def show_failure(self, message: LoadFailed) -> None:
        self._loading = False
        self._fetching = None
        detail = self.query_one("#run-detail", StepDetail)
        detail.show_message(f"Could not read this run: {plain(message.reason, 300)}")
        self.notify(plain(message.reason, 300), title="Read failed", severity="error", markup=False)

    @on(VirtualTable.RowHighlighted, "#run-steps")
    def follow_cursor(self, event: VirtualTable.RowHighlighted) -> None:
        event.stop()
        self._show_selected()

    # -- workers ------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="run-read")
    def _read_whole(self, generation: int, for_rollback: bool = False) -> None:
        worker = get_current_worker()
        path, run_id = Path(self.summary.source), self.summary.run_id
        try:
            signature = _signature(path)
            detail = read_run(path, run_id, now=self._now(), stale_after=self._stale_after())
        except LedgerxError as exc:
            if not worker.is_cancelled:
                self.post_message(self.LoadFailed(str(exc)))
            return
        if not worker.is_cancelled:
            self.post_message(self.RunLoaded(detail, signature, for_rollback))

    @work(thread=True, exclusive=True, group="run-read")
    def _read_summary(self, generation: int) -> None:
        worker = get_current_worker()
        path, run_id = Path(self.summary.source), self.summary.run_id
        try:
            signature = _signature(path)
            found = [
                s
                for s in read_summaries(path, now=self._now(), stale_after=self._stale_after())
                if s.run_id == run_id
            ]
            if not found:
                raise RunNotFound(f"run {run_id} is no longer in {path.name}")
            attempts = read_attempts(path, run_id)
        except LedgerxError as exc:
            if not worker.is_cancelled:
                self.post_message(self.LoadFailed(str(exc)))
            return
        if not worker.is_cancelled:
            self.post_message(self.SummaryLoaded(found[0], attempts, signature, generation))

    @work(thread=True, group="run-page")
    def _read_page(self, offset: int, generation: int) -> None:
        try:
            steps = read_steps_page(
                Path(self.summary.source), self.summary.run_id, offset, PAGE_SIZE
            )
        except LedgerxError as exc:
            self.post_message(self.LoadFailed(str(exc)))
            return
        self.post_message(self.StepsPage(offset, steps, generation))

    @work(thread=True, exclusive=True, group="run-poll")
    def _check_signature(self) -> None:
        current = _signature(Path(self.summary.source))
        if current is not None and current != self._signature:
            self.app.call_from_thread(self._reload)

    # -- helpers ------------------------------------------------------------------------------

    def _poll(self) -> None:
        if not self._loading and self.is_current:
            self._check_signature()

    def _reload(self) -> None:
        """Read the run again: whole, or (paged) its summary and the pages on screen."""
        self._generation += 1
        self._loading = True
        if not self.paged:
            self._read_whole(self._generation)
            return
        # Pages on screen keep their (possibly stale) rows until re-read, so nothing flickers;
        # every other page goes back to placeholders and is read again when next shown.
        self.detail = None
        table = self._table()
        shown = self._visible_pages()
        self._loaded_pages.clear()
        for offset in range(0, len(self._rows), PAGE_SIZE):
            if offset not in shown:
                end = min(offset + PAGE_SIZE, len(self._rows))
                self._rows[offset:end] = range(offset, end)
        table.set_rows(self._rows)
        for offset in sorted(shown):
            if offset < len(self._rows):
                self._want_page(offset)
        self._read_summary(self._generation)

    def _want_page(self, offset: int) -> None:
        """Read the page at ``offset`` unless it is loaded or on its way; one read at a time."""
        if offset in self._loaded_pages or offset == self._fetching:
            return
        if self._fetching is not None:
            self._wanted.add(offset)
            return
        self._fetching = offset
        self._read_page(offset, self._generation)

    def _visible_pages(self) -> set[int]:
        """Offsets of the pages that rows on screen belong to."""
        table = self._table()
        top = int(table.scroll_y)
        return {index - index % PAGE_SIZE for index in (top, top + table.size.height)}

    def _pending(self, index: int) -> Text:
        """Cell text for a row not read yet; drawing it is what asks for its page."""
        self.call_later(self._want_page, index - index % PAGE_SIZE)
        return PLACEHOLDER

    def _set_attempts(self, attempts) -> None:
        self._attempts = {}
        for attempt in attempts:
            if attempt.step_id is not None:  # no usable step id: no step's attempt
                self._attempts.setdefault(attempt.step_id, []).append(attempt)

    def _open_rollback(self, detail: RunDetail) -> None:
        try:
            from .rollback_screen import RollbackScreen
        except ImportError:
            self.notify("Rollback preview is not available in this build.", markup=False)
            return
        self.app.push_screen(RollbackScreen(detail))

    def _table(self) -> VirtualTable[Row]:
        return self.query_one("#run-steps", VirtualTable)

    def _now(self) -> float:
        now = getattr(self.app, "now", None)
        return float(now()) if callable(now) else time.time()

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
            if not self._loading:
                detail.show_message("This run has no steps recorded.")
            return
        step = table.cursor_value
        if not isinstance(step, Step):
            detail.show_step(None)
            return
        alive = self.summary.liveness == "alive" and step.seq == self.summary.last_seq
        detail.show_step(step, self._attempts.get(step.step_id, ()), writer_alive=alive)

    def _apply_size(self) -> None:
        width, height = self.size
        show = self._detail_choice if self._detail_choice is not None else height >= SHORT
        self.set_class(not show, "-no-detail")
        self.set_class(height < SHORT, "-short")
        digits = len(str(max(self.summary.last_seq or 0, self.summary.step_count)))
        layout = (width, digits)
        if layout != self._layout:
            self._layout = layout
            self._table().set_columns(self._columns(width))
        self._fit_table()

    def _fit_table(self) -> None:
        """A run of a few steps gets a table just tall enough; the detail pane the rest."""
        table = self._table()
        lines = table.row_count + 1  # the column header
        fits = not self.has_class("-no-detail") and 0 < lines <= self.size.height * FEW_ROWS
        table.styles.height = lines if fits else None
        self.set_class(fits, "-few-steps")

    def _columns(self, width: int = 120) -> list[Column[Row]]:
        narrow = width < NARROW
        axis_width = 14 if narrow else 24
        # Wide enough for the biggest seq this run has (a 100,000-step run needs six digits).
        seq_width = max(3, len(str(max(self.summary.last_seq or 0, self.summary.step_count))))
        fixed = seq_width + 6 + 12 + 7 + 11 + axis_width + (0 if narrow else 12 + 14)
        gaps = 6 if narrow else 8
        url_width = max(10, width - SCROLLBAR - fixed - gaps)

        mono = bool(getattr(self.app, "no_color", False))

        def cell(render: Callable[[Step], Text], alarm: bool = False) -> Callable[[Row], Text]:
            def draw(row: Row) -> Text:
                if isinstance(row, int):
                    return self._pending(row)
                text = render(row)
                return for_mode(text, mono, row.derived_status if alarm else None)

            return draw

        columns: list[Column[Row]] = [
            Column("seq", "seq", cell(lambda s: safe_text(s.seq, 20)), seq_width, justify="right"),
            Column("method", "method", cell(lambda s: safe_text(s.method, 10)), 6),
            Column("url", "URL", cell(lambda s: _url_tail(s.url, url_width)), url_width, 10),
            Column("intent", "intent", cell(lambda s: _clock(s.intent_ts)), 12),
        ]
        if not narrow:
            columns.append(Column("outcome", "outcome", cell(lambda s: _clock(s.outcome_ts)), 12))
        columns += [
            Column("latency", "latency", cell(_latency), 7, justify="right"),
            Column(
                "status", "status", cell(lambda s: state_text(s.derived_status), alarm=True), 11
            ),
        ]
        if not narrow:
            corr = cell(lambda s: safe_text(s.bc_correlation_id, 60))
            columns.append(Column("corr", "correlation", corr, 14))
        axis = cell(lambda s: axis_cell(s, self._window, axis_width))
        columns.append(Column("axis", "timeline", axis, axis_width, axis_width))
        return columns


def _signature(path: Path) -> Signature | None:
    try:
        return file_signature(path)
    except OSError:
        return None
