"""A one-line hint for first-time users: which key to press next, for the highlighted run.

Shown in the demo and on a first start until dismissed (``x`` on the runs list); remembered in
``tui.settings.Settings.hints``; the palette command "Show hints" brings it back. The words
depend on the run's verdict, so the next step is always the one that run calls for.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from ledger_core.models import RunSummary

DISMISS = "x hides hints"

# verdict -> what to do about it; the keys are the runs list's own bindings.
_BY_VERDICT = {
    "crashed": "This run crashed: enter opens its steps · r previews its rollback",
    "in_doubt": "A request may have landed: enter opens the run on its steps · r previews rollback",
    "rollback_incomplete": "Its rollback did not finish: enter shows what failed · r retries",
    "partially_committed": "Some steps landed, some failed: enter opens them · r previews rollback",
    "failed": "This run failed: enter opens its steps and the error",
    "running": "Still being written: the list updates by itself · enter watches its steps",
}
_DEFAULT = "enter opens the run · f filters · / searches · p lists files that could not be read"
_EMPTY = "f shows the next filter · escape clears the search · ? lists every key"


def hint_for(run: RunSummary | None) -> str:
    """The hint for ``run`` (``None``: nothing highlighted), then how to explain or hide it."""
    first = _EMPTY if run is None else _BY_VERDICT.get(run.verdict or run.state, _DEFAULT)
    return f"{first} · ? explains · {DISMISS}"


class HintBar(Static):
    """One line of our own words (no ledger text), above the footer."""

    DEFAULT_CSS = """
    HintBar {
        height: 1;
        padding: 0 1;
        background: $primary-muted;
        color: $text;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def show_for(self, run: RunSummary | None) -> None:
        text = Text("hint ", style="bold")
        text.append(hint_for(run))
        self.update(text)
