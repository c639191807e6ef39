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
| n / N | next / previous problem step (in doubt, failed, unknown, rollback failed) |
| t | times in UTC / the local zone (remembered; the app's key) |
| v | resolve the selected in-doubt step: landed / did not land / still unknown, with a note |
| e | export the incident bundle (Markdown, or JSON for a ``.json`` name) to a new file |
| y | copy the selected step's URL; again on the same step: its correlation id, then the step |
|   | as JSON (the notice says which) |
| Y | copy the whole run as JSON |

The screen opens on the step that matters (``ledger_core.triage.focus.step_that_matters``: the
first in doubt, else the first failed, else the last) unless a step was asked for
(``focus_step_id``). A paged run finds that step's position in the ledger
(``ledger_core.triage.step_position``) and loads the page holding it; ``n`` / ``N`` there ask
the ledger too, so they cross pages not read yet.

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

import json
import re
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
from ledger_core.errors import LedgerxError, RunNotFound
from ledger_core.ledgers import file_signature, read_attempts, read_resolutions
from ledger_core.models import RollbackAttempt, RunDetail, RunSummary, Step
from ledger_core.sanitize import clean, redact_urls
from ledger_core.textfit import shorten_middle
from ledger_core.timeutil import format_duration, parse_ts
from ledger_core.triage import (
    DOUBTFUL,
    Resolution,
    display_time,
    latest,
    next_problem,
    next_problem_position,
    position_of_step,
    position_that_matters,
    step_that_matters,
    zone_label,
)

from ..widgets.clock import utc_wanted
from ..widgets.footer import LedgerxFooter
from ..widgets.mono import for_mode
from ..widgets.run_header import RunHeader
from ..widgets.safe import plain, safe_text, state_text
from ..widgets.step_detail import StepDetail
from ..widgets.timeline import Window, axis_cell, window_for
from ..widgets.virtual_table import Column, VirtualTable
from .resolution_screen import ResolutionChoice
from .save_checklist_screen import ChecklistTarget

# Above this many steps the run is paged instead of read whole: reading 100,000 steps in one
# go holds the GIL for about a second and starves the event loop.
PAGED_ABOVE = 5000
PAGE_SIZE = 200
NARROW = 110  # below this width the table drops the correlation column and the milliseconds
WIDE_OUTCOME = 150  # from this width it also shows the outcome time
SHORT = 30  # below this height the detail pane starts hidden (``d`` shows it)
SCROLLBAR = 2
FEW_ROWS = 0.3  # a table this share of the screen tall, or less, is shown whole
PLACEHOLDER = Text("…", style="dim")


def _clock(ts: str | None, utc: bool = False, millis: bool = True) -> Text:
    """The time of day of a ledger timestamp in the local zone or UTC (the date and the zone
    are in the header), or the raw value."""
    shown = display_time(ts, "%H:%M:%S.%f" if millis else "%H:%M:%S", utc=utc)
    if shown is None:
        return safe_text(ts or "—", 40, style="dim" if not ts else "yellow")
    return Text(shown[:-3] if millis else shown)


def _error(step: Step, width: int) -> Text:
    """The step's error on one line, escaped and cut to the column (the detail pane has it
    whole)."""
    if not step.error_message:
        return Text("—", style="dim")
    text = safe_text(" ".join(step.error_message.split()), 400, style="red")
    if text.cell_len > width > 1:
        text.truncate(width - 1)
        text.append("…", style="dim")
    return text


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
        # R and enter are in ? help: at 80 columns the footer keeps q Quit and ? Help in view.
        Binding(
            "R,ctrl+r",
            "refresh",
            "Refresh",
            show=False,
            tooltip="Read the run again from its ledger",
        ),
        Binding(
            "enter",
            "step_detail",
            "Step",
            show=False,
            tooltip="Read the step: into its detail pane",
        ),
        Binding("d", "toggle_detail", "Detail", tooltip="Show or hide the step detail pane"),
        Binding("n", "problem(1)", "Problem", tooltip="Next in-doubt or failed step (N: previous)"),
        Binding("N", "problem(-1)", "Prev problem", show=False, tooltip="Previous problem step"),
        Binding(
            "v",
            "resolve",
            "Resolve",
            tooltip="Record whether the selected in-doubt step landed, with a note",
            id="resolve",
        ),
        # e and y are in ? help and the palette: the footer is full at 80 columns.
        Binding("e", "export", "Export", show=False, tooltip="Save the incident bundle"),
        Binding(
            "y",
            "copy",
            "Copy",
            show=False,
            tooltip="Copy the step's URL; again: its correlation id, then the step as JSON",
        ),
        Binding("Y", "copy_run", "Copy run", show=False, tooltip="Copy the whole run as JSON"),
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
        resolutions: tuple[Resolution, ...] = ()

    @dataclass
    class StepsPage(Message):
        """Steps ``offset`` .. ``offset + len(steps)`` of a paged run."""

        offset: int
        steps: list[Step]
        generation: int

    @dataclass
    class StepLocated(Message):
        """A paged run: where to put the cursor (a position among all the run's steps).

        ``direction`` is 0 for the step to open on, else the ``n`` / ``N`` that asked;
        ``position`` is ``None`` when there is no such step."""

        position: int | None
        direction: int
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
        self._placed = False  # the cursor was put on the step that matters (first read only)
        self._copy_turn: tuple[object, int] = (None, 0)  # ``y`` again on a step: its next value
        self._resolutions: dict[int, Resolution] = {}  # seq -> the resolution in force

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

    load_error: str | None = None
    """Why the run could not be read, when it could not (says so instead of "still loading")."""

    def action_rollback(self) -> None:
        if self.detail is None:
            if self.paged:
                self.notify(
                    f"Reading all {self.summary.step_count:,} steps for the rollback plan…",
                    markup=False,
                )
                self._read_whole(self._generation, for_rollback=True)
            elif self.load_error is not None:
                self.notify(
                    f"This run could not be read, so no rollback is planned: "
                    f"{plain(self.load_error, 300)}",
                    severity="error",
                    markup=False,
                )
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

    def action_problem(self, direction: int) -> None:
        """Jump to the next / previous problem step; say so when there is none that way."""
        table = self._table()
        if self.paged:  # most steps are not read: the ledger says where the next one is
            self._locate_problem(table.cursor_row, direction, self._generation)
            return
        self._go_to_problem(next_problem(self._rows, table.cursor_row, direction), direction)

    def _go_to_problem(self, found: int | None, direction: int) -> None:
        if found is None:
            where = "after" if direction > 0 else "before"
            self.notify(f"No problem step {where} this one.", markup=False, timeout=3)
            return
        self._table().move_cursor(found)

    def times_changed(self) -> None:
        """``t`` switched between UTC and local time: redraw the times and the header."""
        self._layout = None
        self._apply_size()
        self._show_header()

    def action_toggle_detail(self) -> None:
        self._detail_choice = self.has_class("-no-detail")
        self._apply_size()
        if self.has_class("-no-detail"):
            self._table().focus()  # never leave focus on a hidden pane

    def action_resolve(self) -> None:
        step = self._table().cursor_value
        if not isinstance(step, Step):
            self.notify("No step selected yet.", markup=False)
            return
        refusal = _resolve_refusal(step, bool(getattr(self.app, "readonly", False)))
        if refusal is not None:
            self.notify(refusal, title="Not resolvable", severity="warning", markup=False)
            return
        from .resolution_screen import ResolutionScreen

        self.app.push_screen(ResolutionScreen(self.summary.run_id, step), self._resolution_chosen)

    def action_export(self) -> None:
        from .save_checklist_screen import SaveChecklistScreen, default_checklist_dir, free_name

        stem = re.sub(r"[^A-Za-z0-9_-]", "_", self.summary.run_id)[:8] or "run"
        folder = default_checklist_dir()
        dialog = SaveChecklistScreen(
            free_name(folder / f"ledgerx-incident-{stem}.md"),
            default_dir=folder,
            title="Export the incident bundle",
            about="The run, its steps, rollback attempts, resolutions, plan and diagnosis in "
            "one file for a ticket: Markdown, or JSON when the name ends in .json. An existing "
            "file is never replaced.",
            overwrite=False,
        )
        self.app.push_screen(dialog, self._export_to)

    def action_copy(self) -> None:
        step = self._table().cursor_value
        if not isinstance(step, Step):
            self.notify("No step selected yet.", markup=False)
            return
        key = (step.step_id, step.seq)
        turn = self._copy_turn[1] + 1 if self._copy_turn[0] == key else 0
        what, value = _copyable(step, turn)
        self._copy_turn = (key, turn % 3)
        self._copy(value, f"step {plain(step.seq, 20)}'s {what}")

    def action_copy_run(self) -> None:
        data = self.detail.to_dict() if self.detail is not None else self.summary.to_dict()
        self._copy(_as_json(data), f"run {plain(self.summary.run_id, 40)} as JSON")

    # -- lifecycle ----------------------------------------------------------------------------

    def on_mount(self) -> None:
        if self.paged:
            # Ask for the first page before anything is drawn: it is what the user waits for.
            self._want_page(0)
        self.title = "ledgerx"
        self.sub_title = "run " + shorten_middle(plain(self.summary.run_id, None), 40)
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
            self._locate_start(self._generation)
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
        self._resolutions = latest(detail.resolutions)
        self._rows = list(detail.steps)
        self._window = window_for(detail.summary, detail.steps[0] if detail.steps else None)
        self._show_header()
        self._table().set_rows(self._rows)
        self._apply_size()
        self._place_cursor()  # the step that matters…
        self._move_to_focus_step()  # …unless a search result asked for another one
        self._show_selected()

    def _place_cursor(self) -> None:
        """On the first read: the step that matters (a step a search asked for comes after)."""
        if self._placed or not self._rows:
            return
        self._placed = True
        steps = [row for row in self._rows if isinstance(row, Step)]
        index = step_that_matters(steps)
        if index:
            self._table().move_cursor(index)

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
        self._resolutions = latest(message.resolutions)
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

    @on(StepLocated)
    def go_to_step(self, message: StepLocated) -> None:
        """A paged run: the cursor to the located step; drawing it asks for its page."""
        if message.generation != self._generation:
            return
        if message.direction:
            self._go_to_problem(message.position, message.direction)
            return
        if self._placed or message.position is None:
            return
        self._placed = True
        table = self._table()
        # Only if the person has not moved meanwhile: their choice wins over ours.
        if table.cursor_row == 0 and 0 <= message.position < len(self._rows):
            self._want_page(message.position - message.position % PAGE_SIZE)
            table.move_cursor(message.position)
            self._show_selected()

    @on(LoadFailed)
    def show_failure(self, message: LoadFailed) -> None:
        self.load_error = message.reason
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
            resolved = tuple(read_resolutions(path, run_id))
        except LedgerxError as exc:
            if not worker.is_cancelled:
                self.post_message(self.LoadFailed(str(exc)))
            return
        if not worker.is_cancelled:
            loaded = self.SummaryLoaded(found[0], attempts, signature, generation, resolved)
            self.post_message(loaded)

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

    @work(thread=True, exclusive=True, group="run-locate")
    def _locate_start(self, generation: int) -> None:
        """A paged run: the position of the step a search named, else of the step that
        matters (the same rule as ``focus.step_that_matters``, asked of the ledger)."""
        path, run_id = Path(self.summary.source), self.summary.run_id
        try:
            position = None
            if self._focus_step is not None:
                step_id, seq = self._focus_step
                self._focus_step = None
                position = position_of_step(path, run_id, step_id=step_id, seq=seq)
            if position is None:
                position = position_that_matters(path, run_id)
        except LedgerxError:
            return  # the page reads report an unreadable run; the cursor stays on the first step
        self.post_message(self.StepLocated(position, 0, generation))

    @work(thread=True, exclusive=True, group="run-locate")
    def _locate_problem(self, at: int, direction: int, generation: int) -> None:
        path, run_id = Path(self.summary.source), self.summary.run_id
        try:
            position = next_problem_position(path, run_id, at, direction)
        except LedgerxError as exc:
            self.post_message(self.LoadFailed(str(exc)))
            return
        self.post_message(self.StepLocated(position, direction, generation))

    @work(thread=True, exclusive=True, group="run-poll")
    def _check_signature(self) -> None:
        current = _signature(Path(self.summary.source))
        if current is not None and current != self._signature:
            self.app.call_from_thread(self._reload)

    @work(thread=True, group="run-resolve")
    def _record_resolution(self, choice: ResolutionChoice) -> None:
        from ledger_core.triage import resolutions

        path, run_id = Path(self.summary.source), self.summary.run_id
        try:
            # Read afresh: the core checks the step is still in doubt as the ledger is now.
            detail = read_run(path, run_id, now=self._now(), stale_after=self._stale_after())
            done = resolutions.record(
                detail,
                choice.seq,
                choice.outcome,
                note=choice.note,
                who=choice.who,
                url=choice.url,
                readonly=bool(getattr(self.app, "readonly", False)),
            )
        except LedgerxError as exc:
            self.app.call_from_thread(
                self.notify, plain(exc, 500), title="Not recorded", severity="error", markup=False
            )
            return
        message = f"Step {plain(done.seq, 20)} {plain(done.sentence(), 300)}"
        self.app.call_from_thread(self.notify, message, title="Recorded", markup=False)
        self.app.call_from_thread(self._reload)

    @work(thread=True, group="run-export")
    def _write_export(self, target: ChecklistTarget) -> None:
        from ledger_core.rollback import executor as rollback
        from ledger_core.triage import export

        from .rollback_screen import _write_new_or_replace

        path, run_id = Path(self.summary.source), self.summary.run_id
        try:
            detail = read_run(path, run_id, now=self._now(), stale_after=self._stale_after())
            source = getattr(self.app, "profiles_source", None) or self.app.profiles
            plan = rollback.preview(detail, source, readonly=bool(self.app.readonly))
            render = export.to_json if target.path.suffix == ".json" else export.to_markdown
            if target.create_folder:
                target.path.parent.mkdir(parents=True, exist_ok=True)
            _write_new_or_replace(target.path, render(detail, plan), replace=False)
        except FileExistsError:
            message = f"Not saved: {plain(target.path, 300)} appeared meanwhile; left as it is."
            self.app.call_from_thread(self.notify, message, severity="error", markup=False)
            return
        except (LedgerxError, OSError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            message = f"Could not export to {plain(target.path, 300)}: {plain(reason, 300)}"
            self.app.call_from_thread(self.notify, message, severity="error", markup=False)
            return
        message = f"Incident bundle saved to {plain(target.path, 300)}"
        self.app.call_from_thread(self.notify, message, title="Exported", markup=False)

    # -- helpers ------------------------------------------------------------------------------

    def _resolution_chosen(self, choice: ResolutionChoice | None) -> None:
        if choice is not None:
            self._record_resolution(choice)

    def _export_to(self, target: ChecklistTarget | None) -> None:
        if target is not None:
            self._write_export(target)

    def _copy(self, text: str, what: str) -> None:
        self.app.copy_value(text, what)  # type: ignore[attr-defined]

    def _poll(self) -> None:
        if not self._loading and self.is_current:
            self._check_signature()

    def _reload(self) -> None:
        """Read the run again: whole, or (paged) its summary and the pages on screen."""
        self._generation += 1
        self._loading = True
        self.load_error = None
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
            profiles_error=getattr(self.app, "profiles_error", None),
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
        resolution = self._resolutions.get(step.seq) if step.seq is not None else None
        detail.show_step(
            step, self._attempts.get(step.step_id, ()), writer_alive=alive, resolution=resolution
        )

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
        # The outcome time only when there is room: the latency already says when it came.
        with_outcome = width >= WIDE_OUTCOME
        axis_width = 10 if narrow else 24 if with_outcome else 16
        intent_width = 8 if narrow else 12
        # Wide enough for the biggest seq this run has (a 100,000-step run needs six digits).
        seq_width = max(3, len(str(max(self.summary.last_seq or 0, self.summary.step_count))))
        fixed = seq_width + 6 + intent_width + 7 + 11 + axis_width
        fixed += (0 if narrow else 14) + (12 if with_outcome else 0)
        gaps = 7 + (0 if narrow else 1) + (1 if with_outcome else 0)
        # The URL's tail and the error share what is left, the error a little less.
        free = max(20, width - SCROLLBAR - fixed - gaps)
        error_width = max(10, free * 9 // 20)
        url_width = max(10, free - error_width)

        mono = bool(getattr(self.app, "no_color", False))
        # The zone as it was when the run started (CEST for a summer run, read in winter).
        utc = utc_wanted(self.app)
        zone_name = zone_label(utc=utc, at=parse_ts(self.summary.started_at))

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
            Column(
                "intent",
                zone_name if narrow else f"intent {zone_name}",
                cell(lambda s: _clock(s.intent_ts, utc, millis=not narrow)),
                intent_width,
            ),
        ]
        if with_outcome:
            outcome = cell(lambda s: _clock(s.outcome_ts, utc))
            columns.append(Column("outcome", "outcome", outcome, 12))
        columns += [
            Column("latency", "latency", cell(_latency), 7, justify="right"),
            Column(
                "status", "status", cell(lambda s: state_text(s.derived_status), alarm=True), 11
            ),
        ]
        if not narrow:
            corr = cell(lambda s: safe_text(s.bc_correlation_id, 60))
            columns.append(Column("corr", "correlation", corr, 14))
        error = cell(lambda s: _error(s, error_width))
        columns.append(Column("error", "error", error, error_width))
        axis = cell(lambda s: axis_cell(s, self._window, axis_width))
        columns.append(Column("axis", "timeline", axis, axis_width, axis_width))
        return columns


def _resolve_refusal(step: Step, readonly: bool) -> str | None:
    """Why ``v`` cannot resolve ``step`` (the core says the same when recording)."""
    if step.derived_status not in DOUBTFUL:
        return (
            f"Step {plain(step.seq, 20)} is {step.derived_status}, not in doubt: only a step "
            "whose request may or may not have landed can be resolved."
        )
    if readonly:
        return "This session is read-only (RO): no resolution is recorded."
    return None


def _as_json(data: object) -> str:
    """Data as JSON text to paste: ASCII (control and bidi characters stay escapes), passwords
    in URLs masked."""
    return redact_urls(json.dumps(data, indent=2, ensure_ascii=True))


def _copyable(step: Step, turn: int) -> tuple[str, str]:
    """What ``y`` copies on its ``turn``-th press on one step: URL, correlation id, the step as
    JSON (a value the step lacks is skipped)."""
    values = [("URL", step.url), ("correlation id", step.bc_correlation_id)]
    order = [(what, clean(v, None)) for what, v in values if v]
    order.append(("row as JSON", _as_json(step.to_dict())))
    return order[turn % len(order)]


def _signature(path: Path) -> Signature | None:
    try:
        return file_signature(path)
    except OSError:
        return None
