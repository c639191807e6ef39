"""The confirmation dialog of a rollback: what will be deleted, where, and a deliberate act.

Confirm stays disabled until the user has typed the first characters of the run id; Cancel is
focused when the dialog opens, so the ``enter`` that opened it (or any stray ``enter``) can only
cancel. The dialog's result (a ``RollbackDecision``) says go only when Confirm is pressed with
the right characters *and* the core's re-check still passes.

No key or prompt here overrides a refusal: the dialog asks the core (``check``, e.g.
``ledger_core.rollback.executor.recheck`` on the profiles file as it is now) when it opens and
again on Confirm, in a thread worker; a refusal that appeared meanwhile closes the dialog with it,
and the preview shows the refusal dialog.

Keys: ``escape`` cancels; type the id's first 6 characters, then ``enter`` (in the box) or
Confirm; ``tab`` moves between the box and the buttons.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.events import Key
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from ledger_core.errors import RollbackRefused
from ledger_core.rollback import Plan

from ..widgets.safe import plain
from ..widgets.urls import origin, squeeze

TYPE_CHARS = 6
SHOW_TARGETS = 3


def confirm_code(run_id: str) -> str:
    """What the user must type: the first characters of the run id as shown (escaped)."""
    return plain(run_id, None)[:TYPE_CHARS]


def origins(plan: Plan) -> list[str]:
    """The distinct ``scheme://host:port`` the plan's DELETEs go to."""
    return list(dict.fromkeys(origin(action.target) for action in plan.deletes))


@dataclass(frozen=True)
class RollbackDecision:
    """What the confirmation dialog decided: ``go`` sends; ``refusal`` came from the core."""

    go: bool
    refusal: RollbackRefused | None = None


def _no_check() -> None:
    return None


class ConfirmRollbackScreen(ModalScreen[RollbackDecision]):
    """Asks for a deliberate act before a rollback; ``go`` means send the DELETEs."""

    CSS_PATH = "confirm_screen.tcss"
    AUTO_FOCUS = "#cancel"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", tooltip="Close the dialog; nothing is sent"),
    ]

    @dataclass
    class Checked(Message):
        """The core's re-check finished (``refusal`` is None when the plan may still run)."""

        refusal: RollbackRefused | None
        confirming: bool

    def __init__(self, plan: Plan, check: Callable[[], object] = _no_check) -> None:
        super().__init__()
        self.plan = plan
        self.code = confirm_code(plan.run_id)
        self.check = check
        self.checking = False

    def compose(self) -> ComposeResult:
        plan = self.plan
        deletes = plan.deletes
        run_id = plain(plan.run_id, 80)
        with Vertical(id="dialog"):
            yield Static(Text("Roll back this run?", style="bold"), id="title")
            yield Static(
                Text.assemble(
                    ("Run ", "dim"),
                    (run_id[:TYPE_CHARS], "bold reverse"),
                    (run_id[TYPE_CHARS:], "bold"),
                    ("  profile ", "dim"),
                    (plain(plan.profile, 40) or "—", "bold"),
                ),
                id="run",
            )
            where = ", ".join(plain(o, 80) for o in origins(plan)) or "—"
            yield Static(
                Text.assemble(
                    (f"{len(deletes)} DELETE request{'s' if len(deletes) != 1 else ''}", "bold"),
                    " → ",
                    (where, "bold"),
                    ", newest step first:",
                ),
                id="what",
            )
            lines = Text()
            for action in deletes[:SHOW_TARGETS]:
                lines.append(f"  #{action.seq} DELETE ", style="dim")
                lines.append(squeeze(plain(action.target, 400), 56) + "\n")
            if len(deletes) > SHOW_TARGETS:
                lines.append(f"  … and {len(deletes) - SHOW_TARGETS} more\n", style="dim")
            lines.rstrip()
            yield Static(lines, id="targets")
            left = len(plan.cannot_undo) + len(plan.in_doubt)
            if left:
                yield Static(
                    Text(
                        f"{left} other step{'s' if left != 1 else ''} will be left as "
                        f"{'they are' if left != 1 else 'it is'} (cannot undo / in doubt): "
                        "see the preview.",
                        style="italic",
                    ),
                    id="left",
                )
            yield Static(
                Text.assemble(
                    "Type the first ",
                    (str(TYPE_CHARS), "bold"),
                    " characters of the run id to enable Confirm:",
                ),
                id="prompt",
            )
            yield Input(
                placeholder=f"{TYPE_CHARS} characters",
                max_length=TYPE_CHARS,
                select_on_focus=False,
                id="code",
            )
            with Horizontal(id="buttons"):
                yield Button("Cancel", id="cancel", variant="primary")
                yield Button("Confirm rollback", id="confirm", variant="error", disabled=True)

    def action_cancel(self) -> None:
        self.dismiss(RollbackDecision(False))

    def on_mount(self) -> None:
        self._recheck(confirming=False)

    @work(thread=True, group="confirm-recheck")
    def _recheck(self, confirming: bool) -> None:
        try:
            self.check()
        except RollbackRefused as refusal:
            self.post_message(self.Checked(refusal, confirming))
            return
        self.post_message(self.Checked(None, confirming))

    @on(Checked)
    def checked(self, message: Checked) -> None:
        self.checking = False
        if not self.is_active:
            return  # cancelled (or covered) meanwhile: nothing to decide here
        if message.refusal is not None:
            self.dismiss(RollbackDecision(False, message.refusal))
        elif message.confirming:
            self.dismiss(RollbackDecision(True))
        else:
            self.check_code()

    def _go(self) -> None:
        """Confirmed with the right characters: ask the core once more, then decide."""
        if self.checking:
            return
        self.checking = True
        self.query_one("#confirm", Button).disabled = True
        self._recheck(confirming=True)

    def on_key(self, event: Key) -> None:
        # Typing while Cancel has focus goes to the box: the id can be typed straight away,
        # while a stray enter still lands on Cancel.
        code_box = self.query_one("#code", Input)
        if event.is_printable and event.character and not code_box.has_focus:
            event.stop()
            event.prevent_default()
            code_box.focus()
            code_box.insert_text_at_cursor(event.character)

    @property
    def typed_ok(self) -> bool:
        return self.query_one("#code", Input).value == self.code

    @on(Input.Changed, "#code")
    def check_code(self) -> None:
        self.query_one("#confirm", Button).disabled = self.checking or not self.typed_ok

    @on(Input.Submitted, "#code")
    def submit_code(self) -> None:
        if self.typed_ok:
            self._go()
        else:
            self.notify(
                f"Type the first {TYPE_CHARS} characters of the run id first.",
                severity="warning",
                markup=False,
            )

    @on(Button.Pressed, "#confirm")
    def confirm(self) -> None:
        if self.typed_ok:
            self._go()

    @on(Button.Pressed, "#cancel")
    def cancel(self) -> None:
        self.dismiss(RollbackDecision(False))
