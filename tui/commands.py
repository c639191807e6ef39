"""ledgerx commands for the command palette (ctrl+p): open a run by id, filters, sort, views.

Run ids are untrusted text: a hit's display is built as ``Text`` (the palette parses plain
strings as markup) and its help line is always our own words.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual.command import DiscoveryHit, Hit, Hits, Provider

from ledger_core.triage import GROUP_FACETS

from .widgets.safe import plain, safe_text, state_text

if TYPE_CHECKING:
    from .app import LedgerxApp

MAX_RUN_HITS = 20


class LedgerxCommands(Provider):
    """Palette entries for what the runs list can do, plus one entry per matching run."""

    @property
    def _app(self) -> LedgerxApp:
        return cast("LedgerxApp", self.app)

    def _fixed(self) -> list[tuple[str, Callable[[], object], str]]:
        from .screens.runs_screen import FILTERS

        app = self._app
        out: list[tuple[str, Callable[[], object], str]] = [
            ("Show problems", app.action_problems, "files that could not be read, and why"),
            ("Help: keys", app.action_help, "every key, grouped"),
            ("Refresh", app.action_refresh, "scan the ledger sources again now"),
            ("Search runs", partial(app.runs_command, "search"), "filter the list as you type"),
            ("Sort: next column", partial(app.runs_command, "sort"), "cycle the sort order"),
            ("Time filter", partial(app.runs_command, "time"), "runs that started since / until"),
            ("Facets", partial(app.runs_command, "facets"), "filter by manifest, company, …"),
            ("Times: UTC / local", app.action_toggle_utc, "show times in UTC or the local zone"),
            ("Show hints", partial(app.set_hints, True), "the one-line hint bar for new users"),
            ("Hide hints", partial(app.set_hints, False), "hide the hint bar (x does too)"),
        ]
        out.append(("Group: none", partial(app.runs_command, "group", None), "one flat list"))
        for facet in GROUP_FACETS:
            out.append(
                (
                    f"Group by {facet}",
                    partial(app.runs_command, "group", facet),
                    "headings with counts; space folds, ] and [ jump (b cycles)",
                )
            )
        for key, label, _ in FILTERS:
            out.append(
                (f"Filter: {label}", partial(app.runs_command, "filter", key), "preset view")
            )
        return out

    async def discover(self) -> Hits:
        for name, callback, help_text in self._fixed():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in self._fixed():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
        # Substring match on ids: cheap enough for 10,000 runs, unlike fuzzy scoring of each.
        needle = query.strip().lower()
        if not needle:
            return
        found = 0
        for run in self._app.runs:
            position = run.run_id.lower().find(needle)
            if position < 0:
                continue
            prompt = Text.assemble(
                "Open run ", safe_text(run.run_id, 80, style="bold"), "  ", state_text(run.state)
            )
            score = 0.9 if position == 0 else 0.6
            yield Hit(
                score,
                prompt,
                partial(self._app.open_run, run),
                text=f"Open run {plain(run.run_id, 80)}",
                help="open this run's steps, timeline and diagnosis",
            )
            found += 1
            if found >= MAX_RUN_HITS:
                return
