"""The dialog that asks where to save a file (a rollback checklist, an incident bundle), and
never overwrites silently.

| Key | Action |
| :- | :- |
| enter | save to the path in the box (a file that exists is never replaced by enter) |
| escape | cancel; nothing is written |
| tab | move between the box and the buttons |

The box holds a default path, shown and editable before anything is written. When the file
already exists, the dialog says so, leaves it untouched, puts a free name in the box, and offers
**Overwrite NAME** as a separate, explicit button. The dialog only decides where; the preview
writes the file (in a worker) and says where it went or why it could not.

Default folder: ``$XDG_DATA_HOME/ledgerx/checklists`` (``~/.local/share/ledgerx/checklists``).
Not the current directory: ledgerx is often started inside a ledger directory, which browsing
must leave byte-identical (SPEC §6), or in a read-only one; one fixed folder is also where the
operator finds every checklist again.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from ledger_core.rollback import safe_files

from ..widgets.safe import plain


def default_checklist_dir() -> Path:
    """``$XDG_DATA_HOME/ledgerx/checklists``, else ``~/.local/share/ledgerx/checklists``."""
    base = os.environ.get("XDG_DATA_HOME") or ""
    root = Path(base) if os.path.isabs(base) else Path("~/.local/share").expanduser()
    return root / "ledgerx" / "checklists"


def checklist_path(directory: Path, run_id: str) -> Path:
    """``ledgerx-rollback-<id8>.md`` in ``directory``; a numbered name if that one exists."""
    stem = re.sub(r"[^A-Za-z0-9_-]", "_", run_id)[:8] or "run"
    return free_name(directory / f"ledgerx-rollback-{stem}.md")


def free_name(path: Path) -> Path:
    """``path`` if nothing is there, else ``NAME-2.md``, ``NAME-3.md``… whichever is free."""
    stem = re.sub(r"-\d+$", "", path.stem)
    number = 2
    candidate = path
    while candidate.exists() or candidate.is_symlink():
        candidate = path.with_name(f"{stem}-{number}{path.suffix}")
        number += 1
    return candidate


@dataclass(frozen=True)
class ChecklistTarget:
    """Where to write the checklist; ``overwrite`` only after the user chose Overwrite."""

    path: Path
    overwrite: bool = False
    create_folder: bool = False


class SaveChecklistScreen(ModalScreen[ChecklistTarget | None]):
    """Asks where to save the Markdown checklist; the result is the target, or None."""

    CSS_PATH = "save_checklist_screen.tcss"
    AUTO_FOCUS = "#path"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", tooltip="Close the dialog; nothing is written"),
    ]

    def __init__(
        self,
        default: Path,
        *,
        default_dir: Path | None = None,
        title: str = "Save the rollback checklist",
        about: str = (
            "Markdown, to paste into a ticket. Nothing is written until you press "
            "Save; an existing file is never replaced without Overwrite."
        ),
        overwrite: bool = True,
    ) -> None:
        super().__init__()
        self.title_text = title
        self.about_text = about
        self.allow_overwrite = overwrite
        """False: an existing file is never replaced; only a free name is offered."""
        self.default = default
        self.default_dir = default_dir if default_dir is not None else default.parent
        self.existing: Path | None = None
        """The file that exists, while the Overwrite button is offered for it."""

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Text(self.title_text, style="bold"), id="title")
            yield Static(Text(self.about_text), id="about")
            yield Input(value=str(self.default), select_on_focus=False, id="path")
            yield Static(id="problem")
            with Horizontal(id="buttons"):
                yield Button("Save", id="save", variant="primary")
                yield Button("Overwrite", id="overwrite", variant="error")
                yield Button("Cancel", id="cancel")

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_mount(self) -> None:
        self._say(None)
        self.query_one("#overwrite", Button).display = False

    @on(Input.Submitted, "#path")
    @on(Button.Pressed, "#save")
    def save(self) -> None:
        typed = self.query_one("#path", Input).value.strip()
        if not typed:
            self._say("Type a file name to save to.")
            return
        path = Path(typed).expanduser()  # a relative path is relative to where ledgerx runs
        if (problem := safe_files.side_file_problem(path)) is not None:
            self._say(f"{plain(path, 200)}: {problem}.")
            return
        if path.is_dir():
            self._say(f"{plain(path, 200)} is a folder: add a file name to the path.")
            return
        if path.exists() or path.is_symlink():
            self._offer_overwrite(path)
            return
        folder = path.parent
        create = False
        if not folder.is_dir():
            if folder != self.default_dir:
                self._say(f"The folder {plain(folder, 200)} does not exist.")
                return
            create = True  # the default folder is made on first use
        self.dismiss(ChecklistTarget(path, overwrite=False, create_folder=create))

    @on(Button.Pressed, "#overwrite")
    def overwrite(self) -> None:
        if self.existing is not None:
            self.dismiss(ChecklistTarget(self.existing, overwrite=True))

    @on(Button.Pressed, "#cancel")
    def cancel(self) -> None:
        self.dismiss(None)

    @on(Input.Changed, "#path")
    def path_edited(self, event: Input.Changed) -> None:
        if self.existing is not None and event.value != str(self._suggested):
            # A new name typed by hand: the old question no longer applies.
            self.existing = None
            self.query_one("#overwrite", Button).display = False
            self._say(None)

    def _offer_overwrite(self, path: Path) -> None:
        button = self.query_one("#overwrite", Button)
        if not path.is_file() or path.is_symlink():
            self.existing = None
            button.display = False
            self._say(f"{plain(path, 200)} exists and is not a regular file; choose another name.")
            return
        if self.allow_overwrite and not safe_files.is_own(path, "checklist"):
            # Only an earlier checklist may be replaced: never a ledger, its -wal, your notes.
            self.existing = None
            button.display = False
            self._suggested = free_name(path)
            box = self.query_one("#path", Input)
            box.value = str(self._suggested)
            box.cursor_position = len(box.value)
            self._say(
                f"{plain(path, 200)} exists and is not a checklist ledgerx saved, so it is never "
                "replaced. The box now holds a free name."
            )
            return
        self._suggested = free_name(path)
        if not self.allow_overwrite:
            box = self.query_one("#path", Input)
            box.value = str(self._suggested)
            box.cursor_position = len(box.value)
            self._say(
                f"{plain(path, 200)} already exists and was left as it is (it is never "
                "overwritten). The box now holds a free name: Save writes that."
            )
            return
        self.existing = path
        # A file name is data: Content, never markup (a "[b]" in a name is not a style).
        button.label = Content(f"Overwrite {plain(path.name, 30)}")
        button.display = True
        box = self.query_one("#path", Input)
        box.value = str(self._suggested)
        box.cursor_position = len(box.value)
        self._say(
            f"{plain(path, 200)} already exists and was left as it is. The box now holds a "
            "free name: Save writes that, or Overwrite replaces the existing file."
        )

    _suggested: Path | None = None

    def _say(self, problem: str | None) -> None:
        widget = self.query_one("#problem", Static)
        widget.update(Text(problem or "", style="bold yellow"))
        widget.display = bool(problem)
