"""A one-line hint for first-time users: which key to press next, for the highlighted run.

Shown in the demo and on a first start until dismissed (``x`` on the runs list); remembered in
``tui.settings.Settings.hints``; the palette command "Show hints" brings it back. The words
depend on the run's verdict, so the next step is always the one that run calls for.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from ledger_core.models import RunSummary

# verdict -> what to do about it; the keys are the runs list's own bindings. Each fits, with
# the ending, in 80 columns: a hint cut off at the edge would hide the key to press.
_BY_VERDICT = {
    "crashed": "Crashed: enter opens steps · r previews rollback",
    "in_doubt": "A request may have landed: enter checks the steps",
    "rollback_incomplete": "Rollback unfinished: enter shows what failed",
    "partially_committed": "Partial: enter opens steps · r previews rollback",
    "failed": "Failed: enter opens its steps and the error",
    "running": "Being written: the list updates · enter opens it",
}
_DEFAULT = "enter opens the run · f filters · / searches"
_NO_MATCH = "f shows the next filter · escape clears the search"
_NO_RUNS = "No ledgers here: try `ledgerx --demo`"
ENDING = " · ? explains · x hides"


def hint_for(run: RunSummary | None, any_runs: bool = True) -> str:
    """The hint for ``run`` (``None``: nothing highlighted; ``any_runs`` false: no run at all),
    then how to have it explained or hide it."""
    if run is None:
        first = _NO_MATCH if any_runs else _NO_RUNS
    elif run.liveness == "dead":  # its writer died mid-run, whatever the verdict weighs most
        first = _BY_VERDICT["crashed"]
    else:
        first = _BY_VERDICT.get(run.verdict or run.state, _DEFAULT)
    return first + ENDING


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

    def show_for(self, run: RunSummary | None, any_runs: bool = True) -> None:
        text = Text("hint ", style="bold")
        text.append(hint_for(run, any_runs))
        self.update(text)
