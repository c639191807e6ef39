"""The problems view: every file or source that could not be read, its kind and the reason.

| Key | Action |
| :- | :- |
| escape / p | back to the runs list |
| j / k, g / G | move through the problems |
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Header, Static

from ledger_core.ledgers import Changes
from ledger_core.models import Problem

from ..widgets.footer import LedgerxFooter
from ..widgets.safe import safe_text
from ..widgets.virtual_table import Column, VirtualTable

# Kinds that mean "nothing wrong with the data, just not ours" are shown calmer than damage.
_KIND_STYLES = {
    "corrupt": "bold red",
    "needs_recovery": "bold red",
    "newer_schema": "yellow",
    "locked": "yellow",
    "missing": "yellow",
    "empty": "yellow",
    "not_sqlite": "dim",
    "not_a_ledger": "dim",
}


def _name(problem: Problem) -> Text:
    return safe_text(Path(problem.path).name or problem.path, 200)


def _kind(problem: Problem) -> Text:
    return safe_text(problem.kind.replace("_", " "), 30, style=_KIND_STYLES.get(problem.kind, ""))


def _reason(problem: Problem) -> Text:
    return safe_text(problem.reason, 500)


def _folder(problem: Problem) -> Text:
    return safe_text(str(Path(problem.path).parent), 300, style="dim")


class ProblemsScreen(Screen[None]):
    """Unreadable files are listed, never silently dropped (SPEC §5)."""

    CSS_PATH = "problems_screen.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,p", "back", "Back", tooltip="Back to the runs list"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="problems-status")
        yield VirtualTable(
            [
                Column("file", "File", _name, width=24, min_width=14, sort_key=_sort_name),
                Column("kind", "Kind", _kind, width=14, min_width=12, sort_key=lambda p: p.kind),
                Column("reason", "Reason", _reason, width=40, min_width=30, flex=True),
                Column("folder", "Folder", _folder, width=20, min_width=6),
            ],
            row_key=lambda p: p.path,
            empty_message="No problems: every file in the sources could be read.",
            id="problems-table",
            selectable=False,  # the detail below already shows the whole row
        )
        yield Static(id="problem-detail")
        yield LedgerxFooter()

    def action_back(self) -> None:
        self.dismiss(None)

    def on_mount(self) -> None:
        self.title = "Problems"
        self._show(self.app.problems)  # type: ignore[attr-defined]
        self.query_one(VirtualTable).focus()

    @on(VirtualTable.RowHighlighted, "#problems-table")
    def show_detail(self, event: VirtualTable.RowHighlighted) -> None:
        problem: Problem = event.row
        detail = Text()
        detail.append_text(safe_text(problem.path, 1000, style="bold"))
        detail.append("\n")
        detail.append_text(_kind(problem))
        detail.append(": ")
        detail.append_text(safe_text(problem.reason, 2000))
        self.query_one("#problem-detail", Static).update(detail)

    def sources_changed(self, changes: Changes) -> None:
        """Called by the app after each scan."""
        self._show(changes.problems)

    def _show(self, problems: tuple[Problem, ...]) -> None:
        self.query_one(VirtualTable).set_rows(problems)
        if not problems:
            self.query_one("#problem-detail", Static).update("")
        count = len(problems)
        words = "file or source" if count == 1 else "files or sources"
        status = Text(f" {count} {words} could not be read", style="bold" if count else "")
        status.append("   escape: back", style="dim")
        self.query_one("#problems-status", Static).update(status)


def _sort_name(problem: Problem) -> str:
    return Path(problem.path).name.lower()
