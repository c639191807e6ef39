"""The runs list (home screen): every run with its verdict, derived state, liveness and facts.

| Key | Action |
| :- | :- |
| j / k, up / down, pgup / pgdn, g / G | move (the table's keys) |
| enter | open the run |
| r | rollback preview of the run |
| / | search box: runs whose fields or steps (URL, error, correlation id, body hash, …) match, |
| | as you type; the pane names the matching step; enter returns with the first match selected |
| escape | clear the search |
| f | next preset filter: all, needs attention, then the verdicts running, crashed, in doubt, |
| | rollback incomplete, partially committed (``ledgerx list --attention/--verdict V``) |
| s | next sort order |
| p | problems: files that could not be read |
| T | time filter: runs that started since / until (``ledgerx list --since/--until``) |
| F | facet picker: filter by manifest, company, profile, environment or format |
| b / B | group by: none, verdict, manifest, company, profile, environment, format (next / |
| | previous; remembered); a heading per group with its counts, most needing attention first |
| space | fold or unfold the highlighted group (enter on a heading, or a click, does the same) |
| ] / [ | the next / previous group's heading |
| 0 … 6 | the summary line's one-key filters: 0 all, 1 needs attention, 2 running, 3 crashed, |
| | 4 in doubt, 5 rollback incomplete, 6 partially committed (again: back to all) |
| t | times in UTC / the local zone (remembered; the app's key) |
| x | hide the hint bar (remembered; the palette's "Show hints" brings it back) |
| y / Y | copy the run id / the run as JSON to the clipboard |

Rows are the ``RunSummary`` objects the core derived; the list is a ``VirtualTable``, so ten
thousand runs cost a list copy, not ten thousand widgets. Grouped, a ``GroupHeading`` row
(``ledger_core.triage.facets.group_runs``) comes before each group's runs; a sort orders the runs
inside each group. The app's scan worker calls
``sources_changed`` with every (partial) result, newest first.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Header, Input, Static

from ledger_core import vocabulary
from ledger_core.derive import needs_attention
from ledger_core.errors import LedgerxError
from ledger_core.ledgers import Changes, read_run
from ledger_core.models import RunSummary
from ledger_core.sanitize import clean, redact_urls
from ledger_core.timeutil import format_duration, to_epoch
from ledger_core.triage import (
    Hit,
    RunHits,
    RunMatches,
    SearchSession,
    TimeRange,
    display_time,
    file_names,
    open_default_index,
    verdict_counts_of,
)
from ledger_core.triage import facets as facet_rules

from ..messages import RunDetailFailed, RunDetailRead
from ..widgets.clock import utc_wanted, zone
from ..widgets.footer import LedgerxFooter
from ..widgets.group_heading import GroupHeading, grouped_rows
from ..widgets.hint_bar import ENDING, HintBar
from ..widgets.mono import uncoloured
from ..widgets.safe import liveness_text, plain, safe_text, state_text, verdict_text
from ..widgets.verdict_summary import KEYS as PRESET_KEYS
from ..widgets.verdict_summary import summary_line
from ..widgets.virtual_table import Column, VirtualTable

if TYPE_CHECKING:
    from ..app import LedgerxApp

Row = RunSummary | GroupHeading  # a row of the table: a run, or a group's heading

# ``b`` cycles through these (``None``: one flat list).
GROUPINGS: tuple[str | None, ...] = (None, *facet_rules.GROUP_FACETS)

WIDE = 110  # from this width the table also shows environment and company
WIDEST = 140  # from this width it also shows the runner's state beside the verdict


def wrong_stamp(run: RunSummary) -> bool:
    """The stamp disagrees with the steps, and not merely because a live writer is not done.

    A run being written is stamped ``running`` while its steps already derive ``completed``:
    that is no stale stamp (the run header says "still being written" for the same case).
    """
    return run.stamp_mismatch and run.liveness != "alive"


# (key, label, predicate); ``f`` cycles through them in this order. The core's presets, so each
# finds exactly the runs of its CLI flag (``ledgerx list --verdict running``, ``--attention``).
FILTERS: tuple[tuple[str, str, Callable[[RunSummary], bool]], ...] = tuple(
    (preset.key, preset.label, preset.test()) for preset in vocabulary.FILTERS
)
_FILTER_BY_KEY = {key: (label, test) for key, label, test in FILTERS}
_FLAGS = {preset.key: preset.flag for preset in vocabulary.FILTERS}

# (column key or None for the scan's newest-first order, reverse, label); ``s`` cycles.
SORTS: tuple[tuple[str | None, bool, str], ...] = (
    (None, False, "newest first"),
    ("started", False, "oldest first"),
    ("verdict", False, "verdict"),
    ("liveness", False, "liveness"),
    ("run", False, "run id"),
    ("in_doubt", True, "most in doubt"),
    ("failed", True, "most failed"),
    ("duration", True, "longest"),
)

_STATE_ORDER = {
    s: n
    for n, s in enumerate(
        ("partially_committed", "failed", "running", "cancelled", "planned", "rolled_back")
    )
}
# Most urgent first when sorting by verdict.
_VERDICT_ORDER = {
    s: n
    for n, s in enumerate(
        (
            "rollback_incomplete",
            "in_doubt",
            "crashed",
            "partially_committed",
            "failed",
            "running",
            "cancelled",
            "planned",
            "rolled_back",
            "completed",
        )
    )
}
_LIVENESS_ORDER = {s: n for n, s in enumerate(("dead", "stale", "unknown", "alive", "finished"))}


# -- cells: every untrusted value goes through safe_text -----------------------------------------


def _state_cell(run: RunSummary) -> Text:
    cell = state_text(run.state)
    if wrong_stamp(run):
        # The stamp says something else: a marker, and the stamp itself in the run screen.
        cell.append(" ≠", style="bold yellow")
    return cell


def _verdict_cell(run: RunSummary, with_state: bool) -> Text:
    cell = verdict_text(run.verdict or run.state)
    if run.verdict == "crashed":
        cell.stylize("reverse")  # a crashed run stands out from a running one without colour
    if wrong_stamp(run) and not with_state:
        cell.append(" ≠", style="bold yellow")  # no state column at this width: mark it here
    return cell


def _liveness_cell(run: RunSummary, wide: bool) -> Text:
    if run.liveness == "dead":
        # A crashed run must stand out from a running one even without colour: a boxed word.
        return Text(" DEAD ", style="bold reverse red")
    if run.liveness == "finished" and not wide:
        return Text("·", style="dim")  # the state column already says how it ended
    return liveness_text(run.liveness)


def _run_cell(run: RunSummary) -> Text:
    """The run id; runs of another tool's ledger carry its format as a badge (search finds it)."""
    if run.format == "bcli":
        return safe_text(run.run_id, 200)
    cell = safe_text(run.format, 20, style="reverse")
    cell.append(" ")
    cell.append_text(safe_text(run.run_id, 200))
    return cell


def _count_cell(value: int, style: str) -> Text:
    return Text(str(value), style=style) if value else Text("·", style="dim")


def _duration_seconds(run: RunSummary, now: float) -> float | None:
    start = to_epoch(run.started_at)
    if start is None:
        return None
    end = to_epoch(run.finished_at) if run.liveness == "finished" else None
    if end is None:
        end = to_epoch(run.last_activity) if run.liveness != "alive" else now
    return None if end is None else max(0.0, end - start)


def _started_cell(run: RunSummary, wide: bool, utc: bool) -> Text:
    """Local time (or UTC after ``t``); the column header names the zone."""
    shown = display_time(run.started_at, "%Y-%m-%d %H:%M" if wide else "%m-%d %H:%M", utc=utc)
    if shown is None:
        return safe_text(run.started_at or "—", 20, style="yellow" if run.started_at else "dim")
    return Text(shown)


def _optional(value: str | None) -> Text:
    return safe_text(value, 200) if value else Text("—", style="dim")


def diagnosis_text(run: RunSummary) -> Text:
    """The highlighted run's file, stamp and the core's diagnosis sentences, most urgent first."""
    text = Text()
    text.append_text(verdict_text(run.verdict or run.state))
    text.append("  ")
    text.append_text(safe_text(Path(run.source).name, 120, style="bold"))
    if run.verdict and run.verdict != run.state:
        text.append("  state ", style="dim")
        text.append_text(state_text(run.state))
    if run.format != "bcli":
        text.append("  ")
        text.append_text(safe_text(run.format, 40, style="reverse"))
        text.append(" ledger: no rollback (rollback is the runner's alone)", style="dim")
    if wrong_stamp(run):
        text.append("  stamped ", style="dim")
        text.append_text(safe_text(run.stamped_state, 40, style="yellow"))
        text.append(", the steps say ", style="dim")
        text.append_text(state_text(run.state))
    elif run.stamp_mismatch:
        text.append("  stamped ", style="dim")
        text.append_text(safe_text(run.stamped_state, 40))
        text.append(" (still being written)", style="dim")
    sentences = run.sentences("tui")
    for sentence in sentences:
        text.append("\n• ")
        text.append_text(safe_text(sentence, 300))
    if not sentences:
        text.append("\nnothing to report", style="dim")
    return text


class RunsScreen(Screen[None]):
    """Home: every run, filterable, searchable and sortable, updated live."""

    CSS_PATH = "runs_screen.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open", tooltip="Open the run's steps and diagnosis", id="open"),
        Binding("r", "rollback", "Rollback", tooltip="Preview rolling back the run", id="rb"),
        Binding("slash", "search", "Search", tooltip="Filter runs as you type", id="search"),
        Binding("f", "cycle_filter", "Filter", tooltip="Next preset filter", id="filter"),
        Binding("s", "cycle_sort", "Sort", tooltip="Next sort order", id="sort"),
        Binding("p", "problems", "Problems", tooltip="Files that could not be read", id="probs"),
        Binding("escape", "clear_search", "Clear search", show=False, id="clear"),
        # Named at the end of the summary line (the footer is full at 80 columns).
        Binding(
            "T",
            "time_filter",
            "Time",
            show=False,
            tooltip="Runs that started since / until",
            id="time",
        ),
        Binding(
            "F", "facets", "Facets", show=False, tooltip="Filter by manifest, company…", id="facets"
        ),
        *(
            Binding(key, f"preset('{preset}')", show=False, id=f"preset-{preset}")
            for preset, key in PRESET_KEYS.items()
        ),
        Binding("b", "cycle_group(1)", "Group", show=False, tooltip="Group by a facet", id="group"),
        Binding("B", "cycle_group(-1)", "Group", show=False, tooltip="Previous grouping"),
        Binding("space", "toggle_group", "Fold", show=False, tooltip="Fold or unfold the group"),
        Binding("right_square_bracket", "jump_group(1)", "Next group", show=False),
        Binding("left_square_bracket", "jump_group(-1)", "Previous group", show=False),
        Binding("x", "hide_hints", "Hide hints", show=False, id="hide-hints"),
        Binding("y", "copy_id", "Copy id", show=False, tooltip="Copy the run id", id="copy"),
        Binding("Y", "copy_run", "Copy run", show=False, tooltip="Copy the run as JSON"),
    ]

    def __init__(self, filter_key: str = "all") -> None:
        super().__init__()
        self.filter_key = filter_key if filter_key in _FILTER_BY_KEY else "all"
        self.sort_index = 0
        self.search_text = ""
        self._all: tuple[RunSummary, ...] = ()
        self._haystacks: dict[tuple[str, str], str] = {}
        self._run_fields = _RunFieldMatches()
        self._tally = _VerdictTally()
        self._wide: tuple[bool, bool] | None = None
        self._last_changes: Changes | None = None
        self._first_scan_seen = False
        self.time_range = TimeRange()
        """The time filter (``T``): runs kept by their start."""
        self.facet_values: dict[str, str] = {}
        """The facet filters (``F``): facet -> the value runs must have."""
        self.group_by: str | None = None
        """The grouping (``b``): a facet of ``GROUPINGS``, or ``None`` (remembered)."""
        self._collapsed: set[str] = set()  # the folded groups' values (of ``group_by``)
        self._shown_runs = 0  # runs the table holds, headings and folded groups aside
        # Step matches of the current search, from the search index (a worker): run key ->
        # the first matching step; ``None`` until the index has answered this text.
        self._step_hits: Mapping[tuple[str, str], Hit] | None = None
        # The last answer shown: the index's, and the keys of every run it matched (run
        # fields too, tested in the worker) among ``_answer_runs``, the runs it was made for.
        self._answer: RunMatches | None = None
        self._answer_runs: tuple[RunSummary, ...] | None = None
        self._answer_keys: frozenset[tuple[str, str]] = frozenset()
        self._shown_keys: frozenset[tuple[str, str]] | None = None  # what the list shows
        self._index_dirty = True  # the sources changed since the index was last brought up
        self._index_files: list[str] | None = None
        self._session: SearchSession | None = None  # narrows matches as the text grows
        self._index_generation = 0  # bumped by every scan that saw changes

    @property
    def ledgerx(self) -> LedgerxApp:
        return cast("LedgerxApp", self.app)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="search runs: id, state, profile, environment, company, file")
        yield Static(id="runs-status")
        yield Static(id="runs-verdicts")
        yield VirtualTable(
            self._columns(wide=False),
            row_key=_row_key,
            empty_message="Reading ledgers…",
            id="runs-table",
            selectable=False,  # enter is this screen's "Open", shown in the footer
            is_heading=lambda row: isinstance(row, GroupHeading),
            render_heading=lambda row: row.text(),
        )
        yield Static(id="runs-diagnosis")
        yield HintBar(id="runs-hints")
        yield LedgerxFooter()

    # -- actions ------------------------------------------------------------------------------

    def action_open(self) -> None:
        row = self._table.cursor_value
        if isinstance(row, GroupHeading):
            self.action_toggle_group()
        elif row is not None:
            self.open_run(row)

    def action_copy_id(self) -> None:
        row = self._table.cursor_value
        if isinstance(row, GroupHeading):
            value = row.group.label
            self._copy(clean(value, None), f"{row.group.facet} {plain(value, 60)}")
        elif row is not None:
            self._copy(clean(row.run_id, None), f"run id {plain(row.run_id, 60)}")

    def action_copy_run(self) -> None:
        run = self._cursor_run
        if run is not None:
            text = redact_urls(json.dumps(run.to_dict(), indent=2, ensure_ascii=True))
            self._copy(text, f"run {plain(run.run_id, 40)} as JSON")

    def _copy(self, text: str, what: str) -> None:
        self.app.copy_value(text, what)  # type: ignore[attr-defined]

    def action_rollback(self) -> None:
        run = self._cursor_run
        if run is not None:
            self._read_detail(run, "rollback")

    def action_search(self) -> None:
        search = self.query_one(Input)
        search.add_class("-shown")
        search.focus()
        self._prepare_search()

    def action_cycle_filter(self) -> None:
        keys = [key for key, _, _ in FILTERS]
        self.set_filter(keys[(keys.index(self.filter_key) + 1) % len(keys)])

    def action_cycle_sort(self) -> None:
        self.sort_index = (self.sort_index + 1) % len(SORTS)
        self._apply_sort()
        self._refresh_status()

    def action_time_filter(self) -> None:
        from .time_filter_screen import TimeFilterScreen

        def chosen(span: TimeRange | None) -> None:
            if span is not None:
                self.time_range = span
                self._refilter()

        self.app.push_screen(TimeFilterScreen(self.time_range, self.ledgerx.now), chosen)

    def action_facets(self) -> None:
        from .facet_picker_screen import FacetChoice, FacetPickerScreen

        def chosen(choice: FacetChoice | None) -> None:
            if choice is None:
                return
            if choice.value is None:
                self.facet_values.pop(choice.facet, None)
            else:
                self.facet_values[choice.facet] = choice.value
            self._refilter()

        self.app.push_screen(FacetPickerScreen(self._narrowed(), self.facet_values), chosen)

    def action_cycle_group(self, step: int) -> None:
        """``b`` / ``B``: the next / previous grouping, remembered for the next session."""
        index = GROUPINGS.index(self.group_by) if self.group_by in GROUPINGS else 0
        self.group_and_remember(GROUPINGS[(index + step) % len(GROUPINGS)])

    def group_and_remember(self, facet: str | None) -> None:
        """Group by ``facet`` (``None``: no groups) and keep the choice for the next session."""
        self.set_group_by(facet)
        settings = self.ledgerx.settings
        if settings.group_by != self.group_by:
            settings.group_by = self.group_by
            settings.save()

    def action_toggle_group(self) -> None:
        """Fold the highlighted group (from its heading or any of its runs), or unfold it."""
        if self.group_by is None:
            return
        row = self._table.cursor_value
        if row is None:
            return
        if isinstance(row, GroupHeading):
            value = row.group.value
        else:
            value = facet_rules.group_value(row, self.group_by)
        if value in self._collapsed:
            self._collapsed.discard(value)
        else:
            self._collapsed.add(value)
        self._refilter()
        if not isinstance(row, GroupHeading):
            # The run just folded away: the cursor goes to its group's heading.
            found = self._table.find(
                lambda r: isinstance(r, GroupHeading) and r.group.value == value
            )
            if found is not None:
                self._table.move_cursor(found)

    def action_jump_group(self, step: int) -> None:
        """``]`` / ``[``: to the next / previous group's heading (ten thousand runs, few groups)."""
        table = self._table
        rows = table.rows
        order = (
            range(table.cursor_row + 1, len(rows))
            if step > 0
            else range(table.cursor_row - 1, -1, -1)
        )
        for index in order:
            if isinstance(rows[index], GroupHeading):
                table.move_cursor(index)
                return

    def action_preset(self, key: str) -> None:
        """A summary-line key: that filter, or back to all runs when it is already on."""
        self.set_filter("all" if key == self.filter_key else key)

    def action_problems(self) -> None:
        self.ledgerx.action_problems()

    def action_hide_hints(self) -> None:
        if self.query_one(HintBar).display:
            self.ledgerx.set_hints(False)

    def action_clear_search(self) -> None:
        search = self.query_one(Input)
        if not self.search_text and not search.has_class("-shown"):
            return
        search.value = ""
        search.remove_class("-shown")
        self.search_text = ""
        self._refilter()
        self._table.focus()

    # -- public -------------------------------------------------------------------------------

    def open_run(self, run: RunSummary) -> None:
        from .run_screen import RunScreen

        hit = self._hit_for(run)
        if hit is not None and (hit.step_id is not None or hit.seq is not None):
            self.app.push_screen(RunScreen(run, hit.step_id, focus_seq=hit.seq))
            return
        self.app.push_screen(RunScreen(run))

    def times_changed(self) -> None:
        """``t`` switched between UTC and local time: redraw the time column and its header."""
        self._table.set_columns(self._columns(self.size.width >= WIDE))
        self._apply_sort()

    def show_hints(self, show: bool) -> None:
        bar = self.query_one(HintBar)
        bar.display = show
        if show:
            self._show_summary(self._table.cursor_value)  # a heading has a hint of its own

    def set_group_by(self, facet: str | None) -> None:
        """Group the list by ``facet`` (one of ``GROUPINGS``); the cursor stays on its run."""
        if facet not in GROUPINGS or facet == self.group_by:
            return
        table = self._table
        before = table.cursor_value
        self.group_by = facet
        self._collapsed = set()
        self._refilter()
        # From a heading of the old grouping: its first run; on a heading now: the run below.
        if isinstance(before, GroupHeading) and before.group.runs:
            wanted = _row_key(before.group.runs[0])
            found = table.find(lambda row: _row_key(row) == wanted)
            if found is not None:
                table.move_cursor(found)
        if isinstance(table.cursor_value, GroupHeading):
            table.move_cursor(table.cursor_row + 1)

    def set_filter(self, key: str) -> None:
        if key in _FILTER_BY_KEY:
            self.filter_key = key
            self._refilter()

    def sources_changed(self, changes: Changes) -> None:
        """Called by the app with every (partial) scan result."""
        self._last_changes = changes
        self._all = changes.runs
        self._haystacks = {}
        if changes.any:
            self._index_dirty = True  # checked (signatures only) before the next search
            self._index_generation += 1
        self._refilter()
        self._first_scan_seen = self._first_scan_seen or changes.done

    # -- events -------------------------------------------------------------------------------

    def on_mount(self) -> None:
        remembered = self.ledgerx.settings.group_by
        if remembered in GROUPINGS:
            self.group_by = remembered
        self._table.focus()
        self.show_hints(self.ledgerx.hints)
        self._refresh_status()

    def on_resize(self) -> None:
        wide = (self.size.width >= WIDE, self.size.width >= WIDEST)
        if wide != self._wide:
            self._wide = wide
            self._table.set_columns(self._columns(wide[0]))
            self._apply_sort()

    @on(Input.Changed)
    def search_as_you_type(self, event: Input.Changed) -> None:
        self.search_text = event.value
        text = event.value.strip()
        self._step_hits = None  # until the index answers this text
        if text and self._session is not None and not self._index_dirty:
            # The index is ready: the list keeps the last answer until this text's arrives
            # (from a worker; a newer key cancels it), and then changes once.
            self._search_steps(text)
            self._refresh_status()
            return
        self._answer = None
        self._refilter()  # run fields now; step matches follow when the index answers
        self._move_to_top()  # the first run, not a group heading
        if text:
            self._search_steps(text)

    @on(Input.Submitted)
    def back_to_list(self, event: Input.Submitted) -> None:
        self._move_to_top()
        self._table.focus()
        if not self.search_text:
            self.query_one(Input).remove_class("-shown")

    @on(VirtualTable.RowHighlighted, "#runs-table")
    def show_diagnosis(self, event: VirtualTable.RowHighlighted) -> None:
        self._show_summary(event.row)

    @on(VirtualTable.RowSelected, "#runs-table")
    def open_selected(self, event: VirtualTable.RowSelected) -> None:
        if isinstance(event.row, GroupHeading):
            self.action_toggle_group()  # a click on a heading folds its group
        else:
            self.open_run(event.row)

    @on(VirtualTable.Sorted, "#runs-table")
    def sorted_by_click(self, event: VirtualTable.Sorted) -> None:
        for n, (key, _, _) in enumerate(SORTS):
            if key == event.column_key:
                self.sort_index = n
        self._refresh_status()

    def on_run_detail_read(self, message: RunDetailRead) -> None:
        if message.purpose == "rollback":
            from .rollback_screen import RollbackScreen

            self.app.push_screen(RollbackScreen(message.detail))

    def on_run_detail_failed(self, message: RunDetailFailed) -> None:
        self.notify(
            plain(message.reason, 300), title="Cannot read run", severity="error", markup=False
        )

    # -- workers ------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="detail", exit_on_error=False)
    def _read_detail(self, run: RunSummary, purpose: str) -> None:
        app = self.ledgerx
        try:
            detail = read_run(
                Path(run.source), run.run_id, now=app.now(), stale_after=app.stale_after
            )
        except LedgerxError as exc:
            self.post_message(RunDetailFailed(run, str(exc)))
            return
        self.post_message(RunDetailRead(detail, purpose))

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def _search_steps(self, text: str) -> None:
        """Step (and run) matches from the search index; the index is brought up to date
        first when the sources changed (the first time: every file is read, in workers).

        Exclusive: a newer keystroke cancels this worker, and the index abandons its scan
        (``should_stop``). The run fields are tested here too, so the event loop only
        looks keys up in a set."""
        from textual.worker import get_current_worker

        worker = get_current_worker()

        def cancelled() -> bool:
            return worker.is_cancelled

        index = open_default_index()
        generation = self._index_generation
        try:
            if self._index_dirty or self._index_files is None:
                sources = self.ledgerx.sources
                files = self._index_files = file_names(sources.dirs, sources.files)
                report = index.update(
                    files, stale_after=self.ledgerx.stale_after, should_stop=cancelled
                )
                if worker.is_cancelled:
                    return
                if not report.stale and generation == self._index_generation:
                    self._index_dirty = False
                self._session = None  # the index changed: narrow nothing from before
            session = self._session
            if session is None:
                session = self._session = SearchSession(
                    index, self._index_files, keep_max=SEARCH_ROWS_MAX
                )
                self.app.call_from_thread(self._load_corpus, session)
            answer = session.find_runs(text, should_stop=cancelled)
        except sqlite3.DatabaseError as exc:
            # A corrupt index (or one of another layout) is rebuilt at the next keystroke.
            if index.reset(str(exc)):
                self._index_dirty = True
            return
        except Exception as exc:  # noqa: BLE001 - search must never take the screen down
            self.app.call_from_thread(
                self.notify, plain(f"search index: {exc}", 300), severity="warning", markup=False
            )
            return
        if answer.cancelled or worker.is_cancelled:
            return
        runs = self._all
        keys = self._run_fields.keys(runs, self._haystacks, text.lower(), answer.hits)
        if not worker.is_cancelled:
            self.app.call_from_thread(self._show_step_hits, answer, runs, keys)

    @work(thread=True, exclusive=True, group="search-prepare", exit_on_error=False)
    def _prepare_search(self) -> None:
        """While the box opens: bring the index up to date and prepare the run fields, so
        the first key is answered as fast as the others."""
        haystacks, runs = self._haystacks, self._all
        self._run_fields.prime(runs, haystacks)  # every run's fields, for the first key
        if not self._index_dirty and self._session is not None:
            if not self._session.corpus_tried:  # tried once: too big stays too big
                self.app.call_from_thread(self._load_corpus, self._session)
            return
        index = open_default_index()
        generation = self._index_generation
        try:
            sources = self.ledgerx.sources
            files = self._index_files = file_names(sources.dirs, sources.files)
            report = index.update(files, stale_after=self.ledgerx.stale_after)
            if not report.stale and generation == self._index_generation:
                session = self._session = SearchSession(index, files, keep_max=SEARCH_ROWS_MAX)
                self._index_dirty = False
                self.app.call_from_thread(self._load_corpus, session)
        except (sqlite3.Error, OSError):
            return  # the first key tries again, and says so if it fails

    @work(thread=True, exclusive=True, group="search-corpus", exit_on_error=False)
    def _load_corpus(self, session: SearchSession) -> None:
        """The session's documents in memory (``SearchSession.load_corpus``): each key is
        then answered by ``str.find`` over them, not by a scan of the index. Until it is
        loaded, and when the sources are too big for it, the index answers alone."""
        from textual.worker import get_current_worker

        worker = get_current_worker()
        try:
            session.load_corpus(
                should_stop=lambda: worker.is_cancelled or self._session is not session
            )
        except sqlite3.Error:
            pass  # the index answers alone, as before

    def _show_step_hits(
        self,
        answer: RunMatches,
        runs: tuple[RunSummary, ...],
        keys: frozenset[tuple[str, str]],
    ) -> None:
        if answer.text != self.search_text.strip():
            return  # an older keystroke's answer
        previous = self._answer
        self._answer, self._answer_runs, self._answer_keys = answer, runs, keys
        self._step_hits = answer.hits
        if (
            previous is not None
            and runs is self._all
            and previous.truncated == answer.truncated
            and self._shown_keys == keys
            and previous.hits.same_rows(answer.hits)
            and self._table.row_count > 0  # an empty list names the search text
        ):
            # The same runs from the same documents: the list stays; the pane below names the
            # field holding the new text.
            self._refresh_status()
            self._show_summary(self._table.cursor_value)
            return
        self._refilter()
        if self.query_one(Input).has_focus:  # still typing: the best match on top
            self._move_to_top()

    def _hit_for(self, run: RunSummary) -> Hit | None:
        if not self.search_text.strip() or not self._step_hits:
            return None
        return self._step_hits.get((run.source, run.run_id))

    # -- internals ----------------------------------------------------------------------------

    def _show_summary(self, row: Row | None) -> None:
        """The pane below the list: the highlighted run as the latest scan derived it."""
        pane = self.query_one("#runs-diagnosis", Static)
        hints = self.query_one(HintBar)
        run = row if isinstance(row, RunSummary) else None
        if hints.display and isinstance(row, GroupHeading):
            hint = Text("hint ", style="bold")
            hint.append("space folds or unfolds this group · b groups by another facet" + ENDING)
            hints.update(hint)
        elif hints.display:
            hints.show_for(run, bool(self._all))
        if isinstance(row, GroupHeading):
            text = _group_pane(row)
            pane.update(uncoloured(text) if self.app.no_color else text)
            return
        if run is None:
            pane.update("")
            return
        text = diagnosis_text(run)
        hit = self._hit_for(run)
        if hit is not None and (hit.seq is not None or hit.step_id is not None):
            found = Text("match: ", style="bold")
            if hit.seq is not None:
                found.append(f"step {hit.seq} ")
                found.append_text(safe_text(hit.method or "", 10))
                found.append(" ")
            found.append_text(safe_text(hit.field, 40, style="dim"))
            found.append(" ")
            found.append_text(safe_text(hit.value, 200, style="bold"))
            if hit.seq is not None:
                found.append("  (enter opens the run on this step)", style="dim")
            text = Text("\n").join([found, text])
        pane.update(uncoloured(text) if self.app.no_color else text)

    @property
    def _table(self) -> VirtualTable[Row]:
        return self.query_one("#runs-table", VirtualTable)

    def _move_to_top(self) -> None:
        """The cursor on the first run: below the first heading when the list is grouped."""
        rows = self._table.rows
        top = rows[0] if rows else None
        self._table.move_cursor(1 if isinstance(top, GroupHeading) and not top.collapsed else 0)

    @property
    def _cursor_run(self) -> RunSummary | None:
        """The highlighted run; ``None`` on a group's heading or in an empty list."""
        row = self._table.cursor_value
        return row if isinstance(row, RunSummary) else None

    def _columns(self, wide: bool) -> list[Column[RunSummary]]:
        now = self.ledgerx.now

        def duration(run: RunSummary) -> Text:
            seconds = _duration_seconds(run, now())
            if seconds is None:
                return Text("—", style="dim")
            text = Text(format_duration(seconds))
            if run.liveness != "finished" and wide:
                text.append("+", style="dim")  # still counting, or stopped without finishing
            return text

        # The verdict first (what to conclude); the runner's state beside it when there is room
        # (otherwise the summary pane below and the run screen say it).
        widest = self.size.width >= WIDEST
        columns: list[Column[RunSummary]] = [
            Column(
                "verdict",
                "Verdict",
                lambda r: _verdict_cell(r, widest),
                width=13,
                min_width=9,
                sort_key=_verdict_sort,
            ),
        ]
        if widest:
            columns.append(
                Column(
                    "state",
                    "State",
                    _state_cell,
                    width=13,
                    min_width=11,
                    sort_key=_state_sort,
                )
            )
        columns += [
            Column(
                "liveness",
                "Live",
                lambda r: _liveness_cell(r, wide),
                width=8 if wide else 7,
                sort_key=_live_sort,
            ),
            Column(
                "run",
                "Run",
                _run_cell,
                width=16,
                min_width=10,
                flex=True,
                sort_key=lambda r: r.run_id,
                shorten="middle",  # timestamped ids start alike: keep the end that differs
            ),
            Column(
                "committed",
                "OK",
                lambda r: _count_cell(r.counts.committed, "green"),
                width=4 if wide else 3,
                justify="right",
                sort_key=lambda r: r.counts.committed,
            ),
            Column(
                "failed",
                "Fail",
                lambda r: _count_cell(r.counts.failed, "bold red"),
                width=4,
                min_width=3,
                justify="right",
                sort_key=lambda r: r.counts.failed,
            ),
            Column(
                "in_doubt",
                "Doubt",  # never "Dbt": a label must read as a word
                lambda r: _count_cell(r.counts.doubtful, "bold magenta"),
                width=5,
                justify="right",
                sort_key=lambda r: r.counts.doubtful,
            ),
            Column(
                "profile",
                "Profile",
                lambda r: _optional(r.profile),
                width=10 if wide else 8,
                min_width=7,
                sort_key=lambda r: r.profile,
            ),
        ]
        if wide:
            columns += [
                Column(
                    "environment",
                    "Env",
                    lambda r: _optional(r.environment),
                    width=10,
                    min_width=5,
                    sort_key=lambda r: r.environment,
                ),
                Column(
                    "company",
                    "Company",
                    lambda r: _optional(r.company),
                    width=10,
                    min_width=6,
                    sort_key=lambda r: r.company,
                ),
            ]
        utc, zone_name = utc_wanted(self.app), zone(self.app)
        columns += [
            Column(
                "started",
                f"Started ({zone_name})" if wide else f"Start {zone_name}",
                lambda r: _started_cell(r, wide, utc),
                width=16 if wide else 11,
                sort_key=lambda r: to_epoch(r.started_at),
            ),
            Column(
                "duration",
                "Took",
                duration,
                width=8 if wide else 7,
                justify="right",
                sort_key=lambda r: _duration_seconds(r, now()),
            ),
        ]
        return columns

    def _matches_search(self) -> Callable[[RunSummary], bool]:
        needle = self.search_text.strip().lower()
        self._shown_keys = None
        if not needle:
            return lambda run: True
        answer = self._answer
        if (
            answer is not None
            and answer.text == self.search_text.strip()
            and self._answer_runs is self._all
        ):
            # The worker tested these very runs: a set look-up per run, nothing more.
            keys = self._shown_keys = self._answer_keys
            return lambda run: (run.source, run.run_id) in keys
        haystacks = self._haystacks
        step_hits = self._step_hits or {}

        def test(run: RunSummary) -> bool:
            key = (run.source, run.run_id)
            hay = haystacks.get(key)
            if hay is None:
                hay = haystacks[key] = _haystack(run)
            return needle in hay or key in step_hits

        return test

    def _narrowed(self) -> list[RunSummary]:
        """The runs the time and facet filters keep (the summary line counts these)."""
        runs = self._all
        if self.time_range.active:
            runs = [run for run in runs if self.time_range.contains(run.started_at)]
        if self.facet_values:
            chosen = {facet: [value] for facet, value in self.facet_values.items()}
            runs = facet_rules.filter_runs(runs, chosen)
        return list(runs)

    def _refilter(self) -> None:
        _, keep = _FILTER_BY_KEY[self.filter_key]
        search = self._matches_search()
        narrowed = [run for run in self._narrowed() if search(run)]
        runs = [run for run in narrowed if keep(run)]
        self._shown_runs = len(runs)
        rows: list[Row] = list(runs)
        if self.group_by is not None:
            rows = grouped_rows(runs, self.group_by, self._collapsed)
        verdicts = summary_line(
            narrowed,
            self.filter_key,
            short=self.size.width < WIDE,
            counts=self._tally.counts(self._all, narrowed),
        )
        self.query_one("#runs-verdicts", Static).update(
            uncoloured(verdicts) if self.app.no_color else verdicts
        )
        table = self._table
        table.empty_message = self._empty_message()
        # While the first scan brings older and newer runs, a cursor the user has not moved
        # stays on top (the newest run); afterwards it stays on its run as the list changes.
        # Grouped, "on top" is the first group's first run, below its heading.
        top = 1 if table.rows and isinstance(table.rows[0], GroupHeading) else 0
        untouched = table.cursor_row <= top and not self._first_scan_seen
        table.set_rows(rows, keep_cursor=not untouched)
        if untouched and len(rows) > 1 and isinstance(rows[0], GroupHeading):
            table.move_cursor(0 if rows[0].collapsed else 1)
        # A scan can change the highlighted run without moving the cursor (same row key, so no
        # RowHighlighted): the pane is recomputed from the run the table now holds.
        self._show_summary(table.cursor_value)
        self._refresh_status()

    def _apply_sort(self) -> None:
        table = self._table
        key, reverse, _ = SORTS[self.sort_index]
        if key is None:
            table.clear_sort()
            self._refilter()
        else:
            table.sort(key, reverse)

    def _empty_message(self) -> str:
        app = self.ledgerx
        if not app.scan_done and not self._all:
            return "Reading ledgers…"
        if not self._all:
            where = plain(app.sources.describe(), 300)
            return (
                f"No ledgers found. Looked in: {where}. Point ledgerx at them with "
                "--ledger-dir DIR, --ledger FILE or $LEDGERX_LEDGER_DIR; to look around "
                "first, run `ledgerx --demo`."
            )
        label, _ = _FILTER_BY_KEY[self.filter_key]
        parts = [f'the filter "{label}"'] if self.filter_key != "all" else []
        if self.search_text:
            parts.append(f'the search "{plain(self.search_text, 60)}"')
        parts = parts or ["the time or facet filter"]
        what = f"No run of {len(self._all):,} matches {' and '.join(parts)}."
        if self.search_text:
            return f"{what} escape clears the search; 0 shows all runs."
        return f"{what} 0 shows all runs; f, T (time) and F (facets) change the view."

    def _refresh_status(self) -> None:
        """One line: counts, then what needs noticing (problems, loading), then the view."""
        app = self.ledgerx
        total = len(self._all)
        shown = self._shown_runs
        label, _ = _FILTER_BY_KEY[self.filter_key]
        line = Text(" ")
        line.append(f"{shown:,}", style="bold")
        line.append(f" of {total:,} runs" if shown != total else " runs")
        problems = len(app.problems)
        if problems:
            line.append(f"  ⚠ {problems} unreadable (p)", style="bold yellow")
        changes = self._last_changes
        if changes is not None and not changes.done:
            line.append(
                f"  reading {changes.files_read:,}/{changes.files_total:,} files…", style="italic"
            )
        elif not app.scan_done:
            line.append("  reading…", style="italic")
        if self.filter_key != "all":
            line.append("  filter: ", style="dim")
            line.append(label, style="bold")
            flag = _FLAGS.get(self.filter_key)
            if flag and self.size.width >= WIDE:
                line.append(f" (list {flag})", style="dim")  # the same runs from the CLI
        if self.time_range.active:
            line.append("  time: ", style="dim")
            line.append_text(safe_text(self.time_range.describe(), 40, style="bold"))
        for facet, value in self.facet_values.items():
            line.append(f"  {facet}: ", style="dim")
            line.append_text(safe_text(value or "(none)", 30, style="bold"))
        if self.search_text:
            line.append("  search: ", style="dim")
            line.append_text(safe_text(self.search_text, 40, style="bold"))
            answer = self._answer
            if answer is not None and answer.truncated:
                # Honest about the cap: runs matching past it are not in the list.
                line.append(f" (first {answer.rows:,} matching steps; type more)", style="dim")
        if self.group_by is not None:
            line.append("  group: ", style="dim")
            line.append(self.group_by, style="bold")
            if self._collapsed:
                line.append(f" ({len(self._collapsed)} folded)", style="dim")
        line.append("  sort: ", style="dim")
        line.append(SORTS[self.sort_index][2])
        if self.app.no_color:
            line = uncoloured(line)
        # One line, always: no re-layout (and whole-screen repaint) for each key typed.
        self.query_one("#runs-status", Static).update(line, layout=False)


# The search box reads at most this many matching documents (runs and steps) per text: a
# one-letter needle matches nearly every step, and reading them all would keep the worker
# (and, through the GIL, the event loop) busy for a second. The status line says when it
# stopped short.
SEARCH_ROWS_MAX = 5_000


class _VerdictTally:
    """The summary line's counts (``verdict_counts``), from each run's verdict and attention
    worked out once per scan result: the list is re-filtered at every key of a search, and
    deriving 10,000 runs again cost ~7 ms of each."""

    def __init__(self) -> None:
        self._runs: tuple[RunSummary, ...] | None = None
        self._memo: dict[int, tuple[str, bool]] = {}  # id(run) -> (verdict, needs attention)

    def counts(
        self, runs: tuple[RunSummary, ...], shown: list[RunSummary]
    ) -> list[tuple[str, int]]:
        if runs is not self._runs:  # ``runs`` keeps every run alive, so no id is reused
            self._runs = runs
            self._memo = {id(run): (run.verdict or run.state, needs_attention(run)) for run in runs}
        memo = self._memo
        return verdict_counts_of(
            memo.get(id(run)) or (run.verdict or run.state, needs_attention(run)) for run in shown
        )


class _RunFieldMatches:
    """Which runs the search box keeps: by their own fields (verdict words and file name
    included) or by a hit of the index. Runs in the search worker, holding the GIL, so it
    is kept short: as the text grows, only the runs whose fields held the shorter text are
    tested again, and the index's hits are looked up in their plain dict (``RunHits.rows``)
    rather than through the mapping's methods."""

    def __init__(self) -> None:
        # The box's preparing worker and the search worker may both be here at once.
        self._lock = threading.Lock()
        self._runs: tuple[RunSummary, ...] | None = None
        self._all: list[tuple[tuple[str, str], str]] = []  # (key, haystack) of every run
        self._keys: frozenset[tuple[str, str]] = frozenset()
        self._last: tuple[str, list[tuple[tuple[str, str], str]]] | None = None

    def prime(self, runs: tuple[RunSummary, ...], haystacks: dict[tuple[str, str], str]) -> None:
        """Every run's fields, lowercased (``_haystack``), ready for the first key."""
        with self._lock:
            self._prime(runs, haystacks)

    def _prime(self, runs: tuple[RunSummary, ...], haystacks: dict[tuple[str, str], str]) -> None:
        if runs is self._runs:
            return
        pairs = []
        for run in runs:
            key = (run.source, run.run_id)
            hay = haystacks.get(key)
            if hay is None:
                hay = haystacks[key] = _haystack(run)
            pairs.append((key, hay))
        self._runs, self._all, self._last = runs, pairs, None
        self._keys = frozenset(key for key, _ in pairs)

    def keys(
        self,
        runs: tuple[RunSummary, ...],
        haystacks: dict[tuple[str, str], str],
        needle: str,
        step_hits: Mapping[tuple[str, str], Hit],
    ) -> frozenset[tuple[str, str]]:
        with self._lock:
            self._prime(runs, haystacks)
            last = self._last
            pairs = last[1] if last is not None and last[0] in needle else self._all
            matched = [pair for pair in pairs if needle in pair[1]]
            self._last = (needle, matched)
        hits = step_hits.rows if isinstance(step_hits, RunHits) else step_hits
        keys = {key for key, _ in matched}
        keys.update(key for key in hits if key in self._keys)
        return frozenset(keys)


def _row_key(row: Row) -> tuple[str, ...]:
    return row.key if isinstance(row, GroupHeading) else (row.source, row.run_id)


def _group_pane(heading: GroupHeading) -> Text:
    """The pane under a heading: the group's line and what the keys do with it."""
    text = heading.text()
    text.append("\n")
    verb = "unfold" if heading.collapsed else "fold"
    text.append(f"enter or space: {verb} this group · b: group by another facet", style="dim")
    if heading.group.facet != "verdict":
        text.append(f" · F: only this {heading.group.facet}", style="dim")
    return text


def _haystack(run: RunSummary) -> str:
    """The run fields the search box matches, lowercased, one string per run."""
    return "\n".join(
        str(v).lower()
        for v in (
            run.run_id,
            run.verdict,
            vocabulary.label(run.verdict),
            run.state,
            run.liveness,
            run.profile,
            run.environment,
            run.company,
            os.path.basename(run.source),
            run.manifest_path,
            run.format,
        )
        if v
    )


def _state_sort(run: RunSummary) -> tuple[int, str]:
    return (_STATE_ORDER.get(run.state, 50), run.state)


def _verdict_sort(run: RunSummary) -> tuple[int, str]:
    return (_VERDICT_ORDER.get(run.verdict, 50), run.verdict)


def _live_sort(run: RunSummary) -> int:
    return _LIVENESS_ORDER.get(run.liveness, 9)
