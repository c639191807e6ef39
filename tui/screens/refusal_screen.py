"""The refusal dialog: a rollback that will not happen, why, and what to do instead.

Shown for every refusal, whether the preview already knew it (write-disabled or unknown profile,
read-only session) or the core raised it later — when the confirmation dialog opened, on
Confirm, or at execution time (profiles file changed, stale plan, rollback in progress). A
refusal raised after the preview always comes with a preview planned again, so the advice can
say so.
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
    "readonly": "The session is read-only (--readonly, served without --allow-writes, or "
    "readonly = true in [defaults]). Restart ledgerx without the flag, or remove the setting "
    "and press R in the preview to plan again. Meanwhile m in the preview saves the checklist.",
    "unknown_profile": "Add a [profiles.NAME] table for this run's profile to the profiles "
    "file, then press R in the preview to plan again; m in the preview saves the checklist.",
    "no_base_url": "Set base_url for this profile in the profiles file, then press R in the "
    "preview to plan again.",
    "profiles_changed": "The profiles file changed after the plan was shown. The preview has "
    "been planned again from the file as it is now: read it, then confirm again.",
    "profiles_error": "Fix the profiles file (the message above says where), then press R in "
    "the preview to plan again. Browsing works meanwhile; m in the preview saves the checklist.",
    "misspelled_key": "Spell the key as the message says in the profiles file, then press R "
    "in the preview to plan again. Until then the profile counts as write-disabled.",
    "misplaced_key": "Move or rename the key as the message says in the profiles file, then "
    "press R in the preview to plan again. Until then writes count as disabled.",
    "foreign_origin": "A rollback target points at a server other than the profile's "
    "base_url. Check the ledger by hand; m in the preview saves the checklist.",
    "bad_target": "A rollback target would not be sent as shown (a . or .. segment, a "
    "#fragment, a bad port or hidden characters). Check the ledger by hand; m in the preview "
    "saves the checklist.",
    "outside_base_url": "A rollback target lies outside the profile's base_url path (another "
    "environment on the same server?). Check the ledger by hand; m in the preview saves the "
    "checklist.",
    "run_alive": "The run still looks alive. Wait for it to finish or stop its writer, then "
    "reopen the preview with r.",
    "stale_plan": "The ledger changed after the plan was shown. The preview has been "
    "recomputed: read the new plan, then confirm again.",
    "rollback_in_progress": "Another rollback of this run is under way. Wait for it to "
    "finish, then reopen the run.",
    "nothing_to_do": "Nothing in this run can be undone automatically. The checklist (m in "
    "the preview) lists what to check by hand.",
    "credentials_in_url": "Remove the user name and password from the URL (use token_env for "
    "a bearer token), or undo the steps by hand; m in the preview saves the checklist.",
    "insecure_token": "Change the profile's base_url to https:// in the profiles file, then "
    "reopen the preview with r.",
    "missing_token": "Set the token's environment variable and restart ledgerx with it.",
    "bad_token": "Fix the token's environment variable (one line, ASCII, no spaces around it) "
    "and restart ledgerx with it.",
    "ledger_busy": "Another process is writing the ledger. Wait for it, then confirm again.",
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
