"""The refusal dialog: a rollback that will not happen, why, and what to do instead.

Shown for every refusal, whether the preview already knew it (write-disabled or unknown profile,
read-only session) or the core raised it at execution time (stale plan, rollback in progress).
It offers only a way back: there is no key or button here that sends anything.

Keys: ``escape`` / ``enter`` (on Back) / ``b`` close the dialog.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from tui.widgets.safe import plain, safe_text

# What a person can do about each rule (codes from ledger_core.errors.RollbackRefused).
# The dialog itself has no key but "back": advice names m as the preview's key, where it works.
ADVICE: dict[str, str] = {
    "writes_disabled": "Undo the steps by hand (back in the preview, m saves the checklist), "
    "or have the rollback run where a profile may write to this server.",
    "readonly": "The session is read-only (--readonly, readonly = true in [defaults], or served "
    "without --allow-writes). Restart ledgerx without it to roll back; meanwhile m in the "
    "preview saves the checklist.",
    "unknown_profile": "Add a [profiles.NAME] table for this run's profile to the profiles "
    "file and reopen the preview; m in the preview saves the checklist.",
    "no_base_url": "Set base_url for this profile in the profiles file and reopen the preview.",
    "foreign_origin": "A rollback target points at a server other than the profile's "
    "base_url. Check the ledger by hand; m in the preview saves the checklist.",
    "run_alive": "The run still looks alive. Wait for it to finish or stop its writer, then "
    "reopen the preview with r.",
    "stale_plan": "The ledger changed after the plan was shown. The preview has been "
    "recomputed: read the new plan, then confirm again.",
    "rollback_in_progress": "Another rollback of this run is under way. Wait for it to "
    "finish, then reopen the run.",
    "nothing_to_do": "Nothing in this run can be undone automatically. The checklist (m in "
    "the preview) lists what to check by hand.",
}
DEFAULT_ADVICE = "Handle the run by hand; m in the preview saves the checklist."


class RefusalScreen(ModalScreen[None]):
    """Says why a rollback is refused; only a way back."""

    CSS_PATH = "refusal_screen.tcss"
    AUTO_FOCUS = "#back"
    BINDINGS = [
        Binding("escape,b", "back", "Back", tooltip="Close this dialog; nothing is sent"),
    ]

    def __init__(self, code: str | None, reason: str, *, title: str = "Rollback refused") -> None:
        super().__init__()
        self.code = code or "refused"
        self.reason = reason
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Text(self.title_text, style="bold"), id="title")
            yield Static(safe_text(self.reason, 600), id="reason")
            yield Static(
                Text.assemble(("Rule: ", "dim"), (plain(self.code, 40), "bold")), id="rule"
            )
            yield Static(Text("No request was sent.", style="bold"), id="nothing-sent")
            yield Static(
                Text.assemble(("Instead: ", "bold"), ADVICE.get(self.code, DEFAULT_ADVICE)),
                id="advice",
            )
            with Horizontal(id="buttons"):
                yield Button("Back", id="back", variant="primary")

    def action_back(self) -> None:
        self.dismiss(None)

    @on(Button.Pressed, "#back")
    def go_back(self) -> None:
        self.dismiss(None)
