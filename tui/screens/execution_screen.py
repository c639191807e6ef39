"""The rollback in progress: one line per DELETE as results land, then a summary.

| Key | Action |
| :- | :- |
| enter / escape | when finished: back to the run, read afresh |
| j / k | scroll the steps |

``ledger_core.rollback.executor.execute`` runs in an async worker; its ``on_progress`` reports
arrive as Messages, so the screen stays responsive while requests are in flight. The screen's
result is the run read again after the rollback (``RunDetail``), the ``RollbackRefused`` the core
raised before sending anything, or ``None`` if the run could not be read back.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Header, ProgressBar, Static

from ledger_core.derive import DEFAULT_STALE_AFTER
from ledger_core.errors import LedgerxError, RollbackRefused
from ledger_core.ledgers import read_run
from ledger_core.models import RunDetail
from ledger_core.rollback import Plan, PlanAction

from ..widgets.footer import LedgerxFooter
from ..widgets.lines_view import LinesView
from ..widgets.safe import plain
from ..widgets.urls import squeeze
from .confirm_screen import origins

RESULT_WORDS = {
    "rolled_back": ("rolled back", "bold green"),
    "rollback_failed": ("FAILED", "bold red"),
    "in_doubt": ("IN DOUBT", "bold magenta"),
}


@dataclass
class StepRow:
    """What is known about one DELETE of the plan."""

    action: PlanAction
    phase: str = "waiting"  # waiting | sending | done
    result: str | None = None
    http_status: int | None = None
    message: str = ""


def render_row(item: tuple[StepRow, str], width: int) -> Text:
    """Each DELETE takes two lines: its state, step and target; then what came back."""
    row, part = item
    if part == "note":
        if row.phase != "done":
            return Text("")
        if row.message:  # the core's words, sanitised there; they include the HTTP status
            note = plain(row.message, 300)
        else:
            note = f"HTTP {row.http_status}" if row.http_status is not None else ""
        style = "red" if row.result == "rollback_failed" else "dim"
        return Text(" " * 13 + note, style=style)
    if row.phase == "waiting":
        word, style = "waiting", "dim"
    elif row.phase == "sending":
        word, style = "sending…", "bold yellow"
    else:
        word, style = RESULT_WORDS.get(row.result or "", (plain(row.result, 20) or "?", "bold"))
    seq = "?" if row.action.seq is None else str(row.action.seq)
    room = max(10, width - 27)  # 27: the word, the step and DELETE
    return Text.assemble(
        (f"{word:<12} ", style),
        (f"#{seq:<5} ", "bold"),
        ("DELETE ", "dim"),
        squeeze(plain(row.action.target, 400), room),
    )


class ExecutionScreen(Screen[Any]):
    """Runs a confirmed plan and shows each DELETE's result as it lands."""

    CSS_PATH = "execution_screen.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "done", "Back to the run", tooltip="When finished: the updated run"),
        Binding("escape", "done", "Back", show=False),
    ]

    @dataclass
    class Progress(Message):
        """A DELETE is being sent, or its result came back."""

        report: Any  # ledger_core.rollback.executor.RollbackProgress

    @dataclass
    class Finished(Message):
        """The rollback ended (``result`` is ``None`` when it stopped on an error)."""

        result: Any
        detail: RunDetail | None
        error: str | None = None

    @dataclass
    class Refused(Message):
        """The core refused the rollback before sending anything."""

        refusal: RollbackRefused

    def __init__(self, plan: Plan) -> None:
        super().__init__()
        self.plan = plan
        self.rows = [StepRow(action) for action in plan.deletes]
        self._index = {row.action.step_id: i for i, row in enumerate(self.rows)}
        self.finished = False
        self.detail: RunDetail | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="execution-body"):
            yield Static(id="execution-title")
            yield ProgressBar(total=max(1, len(self.rows)), show_eta=False, id="execution-bar")
            yield LinesView(render_row, id="execution-steps")
            yield Static(id="execution-summary")
        yield LedgerxFooter()

    def action_done(self) -> None:
        if not self.finished:
            self.notify(
                "The rollback is still running; every request is recorded in the ledger. "
                "Wait for it to finish.",
                markup=False,
            )
            return
        self.dismiss(self.detail)

    # -- lifecycle ----------------------------------------------------------------------------

    def on_mount(self) -> None:
        plan = self.plan
        self.title = "ledgerx"
        self.sub_title = plain(f"rolling back run {plan.run_id}", 80)
        where = ", ".join(plain(o, 80) for o in origins(plan)) or "—"
        self.query_one("#execution-title", Static).update(
            Text.assemble(
                ("Rolling back run ", "bold"),
                (plain(plan.run_id, 60), "bold"),
                ("  profile ", "dim"),
                (plain(plan.profile, 40), "bold"),
                ("  → ", "dim"),
                where,
            )
        )
        self.query_one("#execution-summary", Static).update(
            Text(f"Sending {len(self.rows)} DELETE requests, newest step first…")
        )
        view = self.query_one("#execution-steps", LinesView)
        view.set_items([(row, part) for row in self.rows for part in ("main", "note")])
        view.focus()
        self.run_rollback()

    @work(exclusive=True, group="rollback-execute", exit_on_error=False)
    async def run_rollback(self) -> None:
        from ledger_core.rollback import executor as rollback

        app: Any = self.app
        # --readonly (or the reason a served session is read-only) only; the core reads the
        # profiles file (and its [defaults]) itself, again right before the first DELETE.
        readonly = getattr(app, "readonly_flag", False) or False
        stale_after = float(getattr(app, "stale_after", DEFAULT_STALE_AFTER) or DEFAULT_STALE_AFTER)
        result, error = None, None
        try:
            result = await rollback.execute(
                self.plan,
                app.profiles_source,
                readonly=readonly,
                on_progress=lambda report: self.post_message(self.Progress(report)),
                stale_after=stale_after,
            )
        except RollbackRefused as refusal:
            self.post_message(self.Refused(refusal))
            return
        except LedgerxError as exc:
            error = str(exc)
        except Exception as exc:  # noqa: BLE001 - a bug must not take the session down
            error = f"unexpected error: {type(exc).__name__}: {exc}"
        detail = None
        try:
            now = getattr(app, "now", None)
            detail = await asyncio.to_thread(
                read_run,
                Path(self.plan.source),
                self.plan.run_id,
                now=float(now()) if callable(now) else None,
                stale_after=stale_after,
            )
        except LedgerxError as exc:
            error = error or f"the run could not be read back: {exc}"
        self.post_message(self.Finished(result, detail, error))

    @on(Progress)
    def show_progress(self, message: Progress) -> None:
        report = message.report
        index = self._index.get(report.step_id)
        if index is None:
            return
        row = self.rows[index]
        row.phase = report.phase
        row.result = report.result
        row.http_status = report.http_status
        row.message = report.message or ""
        view = self.query_one("#execution-steps", LinesView)
        view.replace(2 * index, (row, "main"))
        view.replace(2 * index + 1, (row, "note"))
        if report.phase == "done":
            done = sum(1 for r in self.rows if r.phase == "done")
            self.query_one("#execution-bar", ProgressBar).update(progress=done)
        else:
            # Keep the step being sent in the middle, starting on a row (never on a note line).
            top = max(0, 2 * index - view.size.height // 2) // 2 * 2
            view.scroll_to(y=top, animate=False)

    @on(Refused)
    def show_refusal(self, message: Refused) -> None:
        self.finished = True
        self.dismiss(message.refusal)

    @on(Finished)
    def show_finished(self, message: Finished) -> None:
        self.finished = True
        self.detail = message.detail
        # From the first DELETE down: the end of the list may not start on a whole row.
        self.query_one("#execution-steps", LinesView).scroll_home(animate=False)
        result = message.result
        summary = Text()
        if result is not None:
            summary.append("Done: ", style="bold")
            summary.append(f"{len(result.rolled_back)} rolled back", style="bold green")
            summary.append(", ")
            summary.append(
                f"{len(result.failed)} failed", style="bold red" if result.failed else ""
            )
            summary.append(", ")
            summary.append(
                f"{len(result.in_doubt)} in doubt",
                style="bold magenta" if result.in_doubt else "",
            )
            summary.append(".")
            if result.run_stamped:
                summary.append(f" Run stamped {plain(result.run_stamped, 40)}.", style="bold")
            elif result.not_stamped:
                summary.append(" Run not stamped: ", style="bold")
                summary.append(plain(result.not_stamped, 400))
            elif not result.ok:
                summary.append(" Run not stamped: check the failed / in-doubt steps.")
            if result.stopped:
                summary.append("\nStopped: ", style="bold red")
                summary.append(plain(result.stopped, 400))
            left = len(self.plan.cannot_undo) + len(self.plan.in_doubt)
            if left:
                summary.append(
                    f"\n{left} step{'s' if left != 1 else ''} could not be undone automatically "
                    "(cannot undo / in doubt): the run screen and the checklist list them.",
                    style="italic",
                )
            self.query_one("#execution-bar", ProgressBar).update(
                progress=len(self.rows) or 1, total=len(self.rows) or 1
            )
        if message.error:
            summary.append("\n")
            summary.append("Stopped: ", style="bold red")
            summary.append(plain(message.error, 400))
        summary.append("\n")
        summary.append("enter / escape: back to the run, read afresh", style="dim")
        self.query_one("#execution-summary", Static).update(summary)
