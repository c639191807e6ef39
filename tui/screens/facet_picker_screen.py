"""The facet picker: each facet's values among the runs, with counts; pick one to filter by.

| Key | Action |
| :- | :- |
| up / down, j / k | move |
| enter | filter the runs list by the value (or *any*: drop that facet's filter) |
| escape | close; the filters stay as they were |

Facets are the core's (``ledger_core.triage.facets``): manifest, company, profile, environment and
format, the same as ``ledgerx list --manifest/--company/--profile/--environment/--ledger-format``.
Values come from ledger files, so they are shown inert (``safe_text``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from ledger_core.models import RunSummary
from ledger_core.textfit import shorten_middle
from ledger_core.triage import FACETS, facet_counts

from ..widgets.safe import plain, safe_text

MAX_VALUES = 50  # per facet: a picker, not a report; the rest are counted in one line
VALUE_WIDTH = 48  # a value and its count on one line; a long one loses its middle, not its end


@dataclass(frozen=True, slots=True)
class FacetChoice:
    """Filter by ``facet`` = ``value``; ``value`` None: no filter on that facet."""

    facet: str
    value: str | None


class FacetPickerScreen(ModalScreen[FacetChoice | None]):
    """Lists every facet's values with counts; the result is the chosen value, or None."""

    CSS_PATH = "facet_picker_screen.tcss"
    AUTO_FOCUS = "#facet-options"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", tooltip="Close; the filters stay as they were"),
        Binding("j", "cursor('down')", show=False),
        Binding("k", "cursor('up')", show=False),
    ]

    def __init__(self, runs: Sequence[RunSummary], selected: Mapping[str, str]) -> None:
        super().__init__()
        self.runs = runs
        self.selected = dict(selected)
        self._choices: dict[str, FacetChoice] = {}

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(Text("Filter by facet", style="bold"), id="title")
            yield OptionList(*self._options(), id="facet-options")

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_cursor(self, direction: str) -> None:
        options = self.query_one(OptionList)
        options.action_cursor_down() if direction == "down" else options.action_cursor_up()

    @on(OptionList.OptionSelected)
    def pick(self, event: OptionList.OptionSelected) -> None:
        choice = self._choices.get(event.option.id or "")
        if choice is not None:
            self.dismiss(choice)

    def _options(self) -> list[Option]:
        options: list[Option] = []
        for facet in FACETS:
            counts = facet_counts(self.runs, facet)
            current = self.selected.get(facet)
            heading = Text(facet, style="bold underline")
            if current is not None:
                heading.append("  = ", style="dim")
                heading.append_text(safe_text(current or "(none)", 40, style="bold"))
            options.append(Option(heading, disabled=True))
            any_id = f"{facet}:any"
            self._choices[any_id] = FacetChoice(facet, None)
            mark = "✓ " if current is None else "  "
            options.append(Option(Text(f"{mark}any {facet}", style="dim"), id=any_id))
            for n, (value, count) in enumerate(counts[:MAX_VALUES]):
                option_id = f"{facet}:{n}"
                self._choices[option_id] = FacetChoice(facet, value)
                label = Text("✓ " if current == value else "  ")
                shown = Text(shorten_middle(plain(value, None), VALUE_WIDTH)) if value else None
                label.append_text(shown or Text("(none)", style="dim"))
                label.append(f"  {count:,}", style="dim")
                options.append(Option(label, id=option_id))
            if len(counts) > MAX_VALUES:
                rest = sum(c for _, c in counts[MAX_VALUES:])
                more = f"  … {len(counts) - MAX_VALUES} more values ({rest:,} runs)"
                options.append(Option(Text(more, style="dim"), disabled=True))
        return options
