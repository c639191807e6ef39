"""The dialog that narrows the runs list to a time span, read by the same parser as ``--since``.

| Key | Action |
| :- | :- |
| enter | apply (a value the parser cannot read is named, and the dialog stays) |
| tab | between *since*, *until* and the buttons |
| escape | cancel; the filter stays as it was |

Both boxes take what ``ledgerx list --since/--until`` takes: ``2h``, ``90m``, ``3d``, ``1w``,
``today``, ``yesterday``, an ISO date (a whole local day) or date-time (local unless it names a
zone). Empty boxes (or **Clear**) remove the time filter. Runs are kept by their start.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from ledger_core.triage import FORMS, TimeRange


class TimeFilterScreen(ModalScreen[TimeRange | None]):
    """Asks for *since* and *until*; the result is the parsed range (open: no filter) or None."""

    CSS_PATH = "time_filter_screen.tcss"
    AUTO_FOCUS = "#since"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", tooltip="Close; the filter stays as it was"),
    ]

    def __init__(self, current: TimeRange, now: Callable[[], float]) -> None:
        super().__init__()
        self.current = current
        self.now = now

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Text("Runs that started in a time span", style="bold"), id="title")
            yield Static(Text(f"e.g. {FORMS}; empty: no limit"), id="about")
            with Horizontal(classes="row"):
                yield Static("since", classes="label")
                yield Input(value=self.current.since_text, placeholder="e.g. 24h", id="since")
            with Horizontal(classes="row"):
                yield Static("until", classes="label")
                yield Input(value=self.current.until_text, placeholder="e.g. today", id="until")
            yield Static(id="problem")
            with Horizontal(id="buttons"):
                yield Button("Apply", id="apply", variant="primary")
                yield Button("Clear", id="clear")
                yield Button("Cancel", id="cancel")

    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Submitted)
    @on(Button.Pressed, "#apply")
    def apply(self) -> None:
        since = self.query_one("#since", Input).value
        until = self.query_one("#until", Input).value
        now = datetime.fromtimestamp(self.now(), UTC)
        try:
            span = TimeRange.parse(since, until, now=now)
        except ValueError as exc:
            self.query_one("#problem", Static).update(Text(str(exc), style="bold red"))
            return
        self.dismiss(span)

    @on(Button.Pressed, "#clear")
    def clear(self) -> None:
        self.dismiss(TimeRange())

    @on(Button.Pressed, "#cancel")
    def cancel(self) -> None:
        self.dismiss(None)
