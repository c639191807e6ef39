"""The dialog that records what a person found out about an in-doubt step.

| Key | Action |
| :- | :- |
| tab / shift+tab | move between the choices, the boxes and the buttons |
| space / enter | on a choice: pick it |
| escape | cancel; nothing is recorded |

Three choices (landed / did not land / still unknown), a note (required: how you know), who
(prefilled from ``$LEDGERX_USER`` / ``$USER``, editable) and, for *landed*, the created record's
URL, which lets the rollback plan delete it. Cancel has the focus when the dialog opens: enter
alone records nothing. The dialog only collects; the run screen records through
``ledger_core.triage.resolutions`` in a worker, and the core refuses what it must (read-only
session, a step no longer in doubt, a URL with credentials). A bad URL or an over-long note is
said in the dialog itself, which stays open with what was typed.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, RadioButton, RadioSet, Static

from ledger_core.errors import ResolutionRefused
from ledger_core.models import Step
from ledger_core.triage import LANDED, NOT_LANDED, NOTE_LIMIT, UNKNOWN, check_url, default_who

from ..widgets.safe import plain, safe_text

_CHOICES = ((LANDED, "landed"), (NOT_LANDED, "did not land"), (UNKNOWN, "still unknown"))


@dataclass(frozen=True)
class ResolutionChoice:
    """What the person decided, to be recorded by the core."""

    seq: int
    outcome: str
    note: str
    who: str
    url: str | None


class ResolutionScreen(ModalScreen[ResolutionChoice | None]):
    """Asks landed / did not land / still unknown, a note, who and a URL; None: cancelled."""

    CSS_PATH = "resolution_screen.tcss"
    AUTO_FOCUS = "#cancel"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", tooltip="Close the dialog; nothing is recorded"),
    ]

    def __init__(self, run_id: str, step: Step) -> None:
        super().__init__()
        self.run_id = run_id
        self.step = step

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="dialog"):
            seq, run = plain(self.step.seq, 20), plain(self.run_id, 40)
            yield Static(Text(f"Resolve step {seq} of run {run}", style="bold"), id="title")
            request = Text("Did this request land? ")
            request.append_text(safe_text(self.step.method, 10))
            request.append(" ")
            request.append_text(safe_text(self.step.url, 300))
            if self.step.bc_correlation_id:
                request.append(" · correlation id ")
                request.append_text(safe_text(self.step.bc_correlation_id, 80))
            yield Static(request, id="about")
            with RadioSet(id="outcome"):
                for value, label in _CHOICES:
                    yield RadioButton(label, id=f"choice-{value}")
            yield Input(placeholder="note (required): how do you know?", id="note")
            yield Input(value=default_who(), placeholder="who", id="who")
            yield Input(placeholder="URL of the created record (landed only; optional)", id="url")
            yield Static(id="problem")
            with Horizontal(id="buttons"):
                yield Button("Record", id="record", variant="primary")
                yield Button("Cancel", id="cancel")

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_mount(self) -> None:
        self._say(None)
        # Labels in the boxes' borders: no extra lines, so the dialog fits 80x24.
        self.query_one("#note", Input).border_title = "note (required)"
        self.query_one("#who", Input).border_title = "who"
        self.query_one("#url", Input).border_title = "record URL (optional)"
        self.query_one("#url", Input).display = False

    @on(RadioSet.Changed, "#outcome")
    def outcome_chosen(self) -> None:
        self.query_one("#url", Input).display = self._outcome() == LANDED
        self._say(None)

    @on(Button.Pressed, "#cancel")
    def cancel(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#record")
    def record(self) -> None:
        outcome = self._outcome()
        if outcome is None:
            self._say("Choose one: landed, did not land, or still unknown.")
            return
        note = self.query_one("#note", Input).value.strip()
        if not note:
            self._say("A note is required: say how you know.")
            return
        if len(note) > NOTE_LIMIT:  # the core's limit: said here, so what was typed stays
            self._say(f"The note is {len(note)} characters; the limit is {NOTE_LIMIT}: shorten it.")
            return
        url: str | None = None
        if outcome == LANDED:
            try:
                url = check_url(self.query_one("#url", Input).value)
            except ResolutionRefused as refused:
                self._say(refused.reason)
                return
        who = self.query_one("#who", Input).value.strip() or default_who()
        seq = self.step.seq if self.step.seq is not None else -1
        self.dismiss(ResolutionChoice(seq, outcome, note, who, url))

    def _outcome(self) -> str | None:
        pressed = self.query_one("#outcome", RadioSet).pressed_button
        if pressed is None or pressed.id is None:
            return None
        return pressed.id.removeprefix("choice-")

    def _say(self, problem: str | None) -> None:
        widget = self.query_one("#problem", Static)
        widget.update(Text(plain(problem or "", 300), style="bold yellow"))
        widget.display = bool(problem)
