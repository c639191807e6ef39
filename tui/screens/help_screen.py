"""The help dialog: every key of every screen, grouped by where it works.

| Key | Action |
| :- | :- |
| escape / q / ? | close |
| j / k | scroll |
"""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

# (group, [(keys, what they do)]); kept beside the screens' BINDINGS it describes.
KEY_GROUPS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        "Everywhere",
        (
            ("?", "this help"),
            ("ctrl+p", "command palette: open a run by id, filters, problems, sort, refresh"),
            ("q", "quit (waits while a rollback is sending; ctrl+q quits at once)"),
            ("escape", "back / close a dialog"),
            ("ctrl+r", "scan the ledger sources again now"),
            ("t", "times in UTC / the local zone (remembered)"),
        ),
    ),
    (
        "Runs list",
        (
            ("j / k, ↓ / ↑", "next / previous run"),
            ("pgdn / pgup", "one page down / up"),
            ("g / G, home / end", "first / last run"),
            ("enter", "open the run: steps, timeline, diagnosis"),
            ("r", "rollback preview of the run"),
            ("/", "search: filters as you type"),
            ("f", "next filter: attention, running, crashed, in doubt, rb incomplete, partial"),
            ("s", "next sort: started, verdict, liveness, run id, in doubt, failed, duration"),
            ("click a header", "sort by that column (again: reverse)"),
            ("p", "problems: files that could not be read, and why"),
            ("T", "time filter: runs that started since / until (2h, 3d, yesterday, a date)"),
            ("F", "facets: filter by manifest, company, profile, environment, format"),
            ("b / B", "group by verdict, manifest, company, profile… or none (remembered)"),
            ("space", "fold / unfold the group (enter or a click on its heading too)"),
            ("] / [", "next / previous group"),
            ("0 … 6", "the summary line's filters (0 all, 1 attention, 3 crashed, 4 in doubt …)"),
            ("x", 'hide the hint bar (remembered; ctrl+p "Show hints" brings it back)'),
            ("y / Y", "copy the run id / the run as JSON to the clipboard (OSC 52)"),
        ),
    ),
    (
        "Search box",
        (
            ("type", "keep only runs whose id, state, profile, environment, company or file match"),
            ("enter", "back to the list, first match selected"),
            ("escape", "clear the search"),
        ),
    ),
    (
        "Run",
        (
            ("j / k, g / G", "move through the steps"),
            ("enter", "into the step's detail pane to scroll it (enter again: the steps)"),
            ("d", "show / hide the step detail pane"),
            ("n / N", "next / previous problem step (in doubt, failed, unknown, rb failed)"),
            ("r", "rollback preview"),
            ("R, ctrl+r", "read the run again"),
            ("v", "resolve the in-doubt step: landed / did not land / still unknown, with a note"),
            ("e", "export the incident bundle for a ticket (asks where; never overwrites)"),
            ("y", "copy the step's URL; y again: its correlation id, then the step as JSON"),
            ("Y", "copy the whole run as JSON"),
            ("escape", "back to the runs list"),
        ),
    ),
    (
        "Rollback preview",
        (
            ("j / k, pgdn / pgup", "scroll the plan"),
            ("enter", "roll back… (or see why it is refused)"),
            ("m", "save the plan as a Markdown checklist (asks where)"),
            ("R, ctrl+r", "re-plan from the run and profiles file as they are now"),
            ("escape", "back to the run"),
        ),
    ),
    (
        "Symbols on screen",
        (
            ("≠", "the runner's stamped state disagrees with its steps (the steps decide)"),
            ("DEAD (boxed)", "the writer stopped while the run was unfinished: it crashed"),
            ("crashed (reversed)", "the verdict of a run whose writer died mid-run"),
            ("·", "zero in a count; a finished run in the narrow Live column; the empty track"),
            ("—", "no value recorded"),
            ("…", "text shortened: a run id loses its middle, so the end that differs shows"),
            ("RO", "read-only session: every write (rollback) is refused"),
            ("cr, event-ledger…", "a reversed format badge: another tool's ledger, no rollback"),
            ("⚠ N unreadable", "files that could not be read: p lists them with the reason"),
            ("▲ / ▼", "the column the list is sorted by, and in which direction"),
            ("━", "timeline: a step from its intent to its outcome"),
            ("╌ … ?", "timeline: no outcome recorded, the request may have landed (in doubt)"),
            ("✗", "timeline: the step failed"),
            ("+", "a duration still counting, or stopped without finishing"),
            ("▸ / •", "one diagnosis sentence: what the steps show, then what to do"),
        ),
    ),
    (
        "Hint bar",
        (
            ("hint …", "one line for first-time users: the key to press next for this run"),
            ("x", 'hide it for good (remembered); ctrl+p "Show hints" brings it back'),
        ),
    ),
    (
        "Confirmation and results",
        (
            ("type", "the first 6 characters of the run id to enable Confirm"),
            ("enter", "in the field, once they match: confirm and send the DELETEs"),
            ("tab", "move between the field and the buttons (Cancel is the default)"),
            ("escape", "cancel: nothing is sent"),
            ("enter", "after execution: back to the updated run"),
        ),
    ),
)


def key_table() -> Table:
    """Every key group as one two-column table (our own text: no ledger data in here)."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for n, (group, keys) in enumerate(KEY_GROUPS):
        if n:
            table.add_row("", "")
        table.add_row(Text(group, style="bold underline"), "")
        for key, what in keys:
            table.add_row(Text(key), Text(what))
    return table


class HelpScreen(ModalScreen[None]):
    """Every key, grouped; closes with escape, q or ?."""

    CSS_PATH = "help_screen.tcss"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "close", "Close", tooltip="Close the help"),
        Binding("j,down", "scroll(1)", "Down", show=False),
        Binding("k,up", "scroll(-1)", "Up", show=False),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-body") as body:
            body.border_title = "Keys"
            body.border_subtitle = "escape closes"
            yield Static(key_table(), id="help-keys")

    def action_close(self) -> None:
        self.dismiss(None)

    def action_scroll(self, lines: int) -> None:
        self.query_one("#help-body", VerticalScroll).scroll_relative(y=lines, animate=False)
