"""The rollback preview: the plan ``ledger_core.rollback.executor.preview`` makes, action by action.

| Key | Action |
| :- | :- |
| enter | confirm the rollback (or see why it is refused) |
| m | save the plan as a Markdown checklist (asks where first) |
| R, ctrl+r | compute the plan again from the ledger and the profiles file as they are now |
| j / k, pageup / pagedown | scroll the plan |
| escape | back |

The run and the profiles file are read again and planned in a thread worker, so the plan
reflects both as they are now; nothing here decides what can be undone or refused — the core
does, again when the confirmation dialog opens, on Confirm, and before the first DELETE.
Groups are shown apart, newest step first: *in doubt* (check by hand, with correlation ids) on
top, then *will undo*, *cannot undo* (why) and *nothing to undo*. A refused plan says why
before anything else.
"""

from __future__ import annotations

import io
import re
import time
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
from textual.widgets import Header, Static
from textual.worker import get_current_worker

from ledger_core.derive import DEFAULT_STALE_AFTER
from ledger_core.errors import LedgerxError, RollbackRefused
from ledger_core.ledgers import read_run
from ledger_core.models import RunDetail
from ledger_core.rollback import (
    CANNOT,
    DOUBT,
    NO_ROLLBACK_FOR_FORMAT,
    NOTHING,
    UNDO,
    Plan,
    PlanAction,
    safe_files,
)

from ..widgets.footer import LedgerxFooter
from ..widgets.lines_view import LinesView
from ..widgets.safe import liveness_text, plain, state_text, verdict_text
from ..widgets.urls import squeeze
from .confirm_screen import ConfirmRollbackScreen, RollbackDecision, origins
from .refusal_screen import RefusalScreen
from .save_checklist_screen import (
    ChecklistTarget,
    SaveChecklistScreen,
    checklist_path,
    default_checklist_dir,
)

GROUP_HEADINGS = {
    UNDO: ("WILL UNDO", "bold green", "a DELETE is sent for each, newest first"),
    CANNOT: ("CANNOT UNDO", "bold yellow", "stays as it is; the reason is given"),
    DOUBT: ("IN DOUBT", "bold magenta", "may or may not have landed: check these by hand first"),
    NOTHING: ("NOTHING TO UNDO", "dim bold", "read-only, failed or already undone"),
}
REFUSED_UNDO = ("WOULD UNDO", "bold", "if the rollback were allowed; nothing will be sent")
INDENT = "        "
STEP_PREFIX = 15  # "  #seq  METHOD  "


def plan_lines(plan: Plan) -> list[tuple[Any, ...]]:
    """The plan as lines to show: group headings, then per action its facts, newest first."""
    lines: list[tuple[Any, ...]] = []
    # In doubt comes first: a request that may have landed is checked by hand before anything
    # is undone, and a long list of DELETEs must not push it out of sight.
    for group in (DOUBT, UNDO, CANNOT, NOTHING):
        actions = plan.group(group)
        if not actions:
            continue
        if lines:
            lines.append(("blank",))
        lines.append(("group", group, len(actions), bool(plan.refusal)))
        for action in actions:
            lines.append(("step", action))
            if action.action == "delete":
                lines.append(("target", action, bool(plan.refusal)))
            lines.append(("reason", action))
            if group == DOUBT:
                lines.append(("cid", action))
    return lines


def render_plan_line(item: tuple[Any, ...], width: int) -> Text:
    """One line of the plan; every ledger value goes through ``plain`` and stays literal."""
    kind = item[0]
    if kind == "blank":
        return Text("")
    if kind == "group":
        refused = item[1] == UNDO and item[3]
        title, style, note = REFUSED_UNDO if refused else GROUP_HEADINGS[item[1]]
        return Text.assemble((f"{title} ({item[2]})", style), ("  " + note, "dim"))
    action: PlanAction = item[1]
    if kind == "step":
        seq = "?" if action.seq is None else str(action.seq)
        method = plain(action.method, 10) or "?"
        status = state_text(action.derived_status)
        room = max(10, width - STEP_PREFIX - 2 - len(status.plain))
        return Text.assemble(
            (f"  #{seq:<4} ", "bold"),
            (f"{method:<6} ", "bold"),
            squeeze(plain(action.url, 400) or "—", room),
            ("  ", ""),
            status,
        )
    if kind == "target":
        arrow = INDENT + ("→ would DELETE " if item[2] else "→ DELETE ")
        room = max(10, width - len(arrow))
        return Text.assemble(
            (arrow, "bold" if item[2] else "bold green"), squeeze(plain(action.target, 400), room)
        )
    if kind == "reason":
        line = Text(INDENT + plain(action.reason, 300), style="italic")
        cid = plain(action.correlation_id, 80)
        if cid and action.group not in (DOUBT, NOTHING):
            line.append("  · correlation id ", style="dim")
            line.append(cid)
        return line
    if kind == "cid":
        cid = plain(action.correlation_id, 120)
        if not cid:
            return Text(INDENT + "no correlation id recorded: match by URL and time", style="dim")
        return Text.assemble((INDENT + "correlation id ", "dim"), (cid, "bold"))
    return Text("")


def _write_new_or_replace(path: Path, text: str, *, replace: bool) -> None:
    """Write ``text`` to a new file, or, when ``replace``, over an earlier checklist only.

    ``ledger_core.rollback.safe_files``: ``O_EXCL`` fails if a file appeared since the dialog
    looked, links are never followed, and only ledgerx's own checklist is ever replaced
    (atomically): never a ledger or its ``-wal`` named by mistake.
    """
    if replace:
        safe_files.replace_own(path, text, "checklist")
    else:
        safe_files.write_new(path, text)


class RollbackScreen(Screen[None]):
    """Preview of a run's rollback; the way to its confirmation or its refusal."""

    CSS_PATH = "rollback_screen.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", tooltip="Back to the run"),
        Binding("enter", "confirm", "Roll back…", tooltip="Confirm (or see why it is refused)"),
        Binding("m", "save_checklist", "Save checklist", tooltip="Save the plan as Markdown"),
        Binding(
            "R,ctrl+r",
            "reload",
            "Recompute",
            tooltip="Read the run and the profiles file again and re-plan",
        ),
    ]

    @dataclass
    class PlanReady(Message):
        """The worker planned the run."""

        plan: Plan
        detail: RunDetail

    @dataclass
    class PlanFailed(Message):
        """The run could not be read or planned."""

        reason: str

    def __init__(self, detail: RunDetail, *, checklist_dir: Path | None = None) -> None:
        super().__init__()
        self.detail = detail
        self.plan: Plan | None = None
        self.checklist_dir = checklist_dir

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="rollback-body"):
            yield Static(id="rollback-run")
            yield Static(id="rollback-profile")
            yield Static(id="rollback-refusal")
            yield Static(id="rollback-summary")
            yield LinesView(render_plan_line, id="rollback-plan")
        yield LedgerxFooter()

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_confirm(self) -> None:
        plan = self.plan
        if plan is None:
            self.notify("The plan is still being computed.", markup=False)
            return
        if plan.refusal:
            self.app.push_screen(RefusalScreen(plan.refusal_code, plan.refusal))
            return
        self.app.push_screen(ConfirmRollbackScreen(plan, self._recheck(plan)), self._confirmed)

    def action_save_checklist(self) -> None:
        plan = self.plan
        if plan is None:
            self.notify("The plan is still being computed.", markup=False)
            return
        if self.app.is_web:
            # Served to a browser (ledgerx serve): the checklist goes to the reader's machine
            # as a download; nothing is written on the server.
            stem = re.sub(r"[^A-Za-z0-9_-]", "_", plan.run_id)[:8] or "run"
            self.app.deliver_text(
                io.StringIO(plan.to_markdown()), save_filename=f"ledgerx-rollback-{stem}.md"
            )
            return
        folder = self.checklist_dir or default_checklist_dir()
        self.app.push_screen(
            SaveChecklistScreen(checklist_path(folder, plan.run_id), default_dir=folder),
            lambda target: self._save_checklist(plan, target) if target else None,
        )

    def action_reload(self) -> None:
        self.query_one("#rollback-plan", LinesView).loading = True
        self._compute()

    # -- lifecycle ----------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.title = "ledgerx"
        self.sub_title = plain(f"rollback preview · run {self.detail.summary.run_id}", 80)
        self._show_run(self.detail)
        self.query_one("#rollback-refusal", Static).display = False
        self.query_one("#rollback-summary", Static).update(Text("Computing the plan…"))
        view = self.query_one("#rollback-plan", LinesView)
        view.loading = True
        view.focus()
        self._compute()

    @work(thread=True, exclusive=True, group="rollback-preview")
    def _compute(self) -> None:
        from ledger_core.rollback import executor as rollback

        worker = get_current_worker()
        run = self.detail.summary
        try:
            detail = read_run(
                Path(run.source), run.run_id, now=self._now(), stale_after=self._stale_after()
            )
            app: Any = self.app
            app.read_profiles()  # what the run header shows follows the file too
            plan = rollback.preview(
                detail, app.profiles_source, readonly=self._readonly(), now=self._now()
            )
        except LedgerxError as exc:
            if not worker.is_cancelled:
                self.post_message(self.PlanFailed(str(exc)))
            return
        if not worker.is_cancelled:
            self.post_message(self.PlanReady(plan, detail))

    @on(PlanReady)
    def show_plan(self, message: PlanReady) -> None:
        self.plan, self.detail = message.plan, message.detail
        plan = message.plan
        self._show_run(message.detail)
        self._show_profile(plan)
        refusal = self.query_one("#rollback-refusal", Static)
        if plan.refusal:
            refusal.update(
                Text.assemble(
                    ("REFUSED ", "bold"),
                    (f"({plain(plan.refusal_code, 40)}) ", ""),
                    plain(plan.refusal, 400),
                    ("\nNothing can be sent from here. enter: why · m: save the checklist", ""),
                )
            )
        refusal.display = bool(plan.refusal)
        summary = Text.assemble(("Summary: ", "bold"), plan.summary())
        if plan.deletes and not plan.refusal:
            where = ", ".join(plain(o, 80) for o in origins(plan))
            summary.append(f"  ·  {len(plan.deletes)} DELETE → {where}")
        self.query_one("#rollback-summary", Static).update(summary)
        view = self.query_one("#rollback-plan", LinesView)
        view.set_items(plan_lines(plan))
        view.loading = False

    @on(PlanFailed)
    def show_failure(self, message: PlanFailed) -> None:
        self.plan = None
        self.query_one("#rollback-summary", Static).update(
            Text.assemble(("Cannot plan this run: ", "bold red"), plain(message.reason, 500))
        )
        view = self.query_one("#rollback-plan", LinesView)
        view.set_items([])
        view.loading = False

    # -- confirmation and execution ----------------------------------------------------------

    def _recheck(self, plan: Plan):
        """The core's check of ``plan`` against the profiles file as it is at call time."""
        from ledger_core.rollback import executor as rollback

        app: Any = self.app
        return lambda: rollback.recheck(plan, app.profiles_source, readonly=self._readonly())

    def _confirmed(self, decision: RollbackDecision | None) -> None:
        if decision is not None and decision.refusal is not None:
            self._executed(decision.refusal)
            return
        if decision is None or not decision.go or self.plan is None:
            return
        from .execution_screen import ExecutionScreen

        self.app.push_screen(ExecutionScreen(self.plan), self._executed)

    def _executed(self, outcome: object) -> None:
        if isinstance(outcome, RollbackRefused):
            # The core refused after the preview (profiles changed, stale plan, lock...): say
            # so, and show the plan as the ledger and the profiles file now stand.
            self.action_reload()
            self.app.push_screen(RefusalScreen(outcome.code, outcome.reason))
            return
        if isinstance(outcome, RunDetail):
            self._back_to_run(outcome)
            return
        self.action_reload()

    def _back_to_run(self, detail: RunDetail) -> None:
        """Leave the preview for the run screen of this run, read afresh."""
        from .run_screen import RunScreen

        self.app.pop_screen()
        below = self.app.screen
        if isinstance(below, RunScreen) and below.summary.run_id == detail.summary.run_id:
            below.action_refresh()
        else:
            self.app.push_screen(RunScreen(detail.summary))

    # -- checklist ----------------------------------------------------------------------------

    @work(thread=True, group="rollback-checklist")
    def _save_checklist(self, plan: Plan, target: ChecklistTarget) -> None:
        path = target.path
        try:
            if target.create_folder:
                path.parent.mkdir(parents=True, exist_ok=True)
            _write_new_or_replace(path, plan.to_markdown(self.detail), replace=target.overwrite)
        except FileExistsError:
            message = (
                f"Not saved: {plain(path, 300)} appeared meanwhile and was left as it is. "
                "Press m to choose another name."
            )
            self.app.call_from_thread(self.notify, message, severity="error", markup=False)
            return
        except safe_files.NotOurs as exc:
            message = f"Not saved to {plain(path, 300)}: {plain(exc.strerror, 300)}"
            self.app.call_from_thread(self.notify, message, severity="error", markup=False)
            return
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            message = f"Could not save the checklist to {plain(path, 300)}: {plain(reason, 200)}"
            self.app.call_from_thread(self.notify, message, severity="error", markup=False)
            return
        verb = "replaced" if target.overwrite else "saved to"
        self.app.call_from_thread(
            self.notify, f"Checklist {verb} {plain(path.absolute(), 300)}", markup=False, timeout=8
        )

    # -- helpers ------------------------------------------------------------------------------

    def _now(self) -> float:
        now = getattr(self.app, "now", None)
        return float(now()) if callable(now) else time.time()

    def _stale_after(self) -> float:
        return float(getattr(self.app, "stale_after", DEFAULT_STALE_AFTER) or DEFAULT_STALE_AFTER)

    def _readonly(self) -> bool | str:
        """``--readonly`` only, or the reason itself (e.g. "served read-only", which the core's
        refusal quotes): the core reads ``[defaults] readonly`` from the file itself."""
        return getattr(self.app, "readonly_flag", False) or False

    def _show_run(self, detail: RunDetail) -> None:
        run = detail.summary
        self.query_one("#rollback-run", Static).update(
            Text.assemble(
                ("Run ", "dim"),
                (plain(run.run_id, 60), "bold"),
                "  ",
                verdict_text(run.verdict or run.state),
                ("  state ", "dim"),
                state_text(run.state),
                ("  ", ""),
                liveness_text(run.liveness),
                ("  ", ""),
                (f"{run.step_count} steps", "dim"),
                ("  ", ""),
                (plain(Path(run.source).name, 60), "dim"),
            )
        )

    def _show_profile(self, plan: Plan) -> None:
        """The profile as the plan saw it (its snapshot of the profiles file)."""
        snap = plan.profile_snapshot
        line = Text.assemble(("Profile ", "dim"), (plain(plan.profile, 40) or "—", "bold"), " ")
        if plan.refusal_code == NO_ROLLBACK_FOR_FORMAT:  # the format's refusal, not the file's
            line.append("no rollback for this format", style="bold red")
        elif snap is None or snap.error:
            line.append("profiles file cannot be used", style="bold red")
        elif not snap.present:
            line.append("not in the profiles file", style="bold red")
        elif snap.disable_writes:
            line.append("writes DISABLED", style="bold red")
        else:
            line.append("writes allowed", style="bold green")
            if snap.base_url:
                line.append("  " + plain(snap.base_url, 80), style="dim")
        if self._readonly() or (snap is not None and snap.readonly):
            line.append("   ")
            line.append(" RO ", style="bold reverse")
            line.append(" read-only session", style="bold")
        self.query_one("#rollback-profile", Static).update(line)
