"""``ledgerx rollback RUN``: preview a run's rollback plan, save it, or execute it (SPEC §3, §4).

* ``--dry-run [--format table|json|markdown]`` prints the plan and whether ``--yes`` would be
  refused, and why; nothing is sent and the exit code is 0 (the refusal is part of what is shown).
* ``--save-plan FILE`` writes the plan as JSON (with or without ``--dry-run``) to a new file:
  an existing one is replaced only with ``--force``, and never if it is not a regular file.
* ``--plan FILE`` executes exactly that saved plan: ``ledger_core`` refuses it if the ledger
  or the profile moved since it was made (``--plan FILE --dry-run`` says so beforehand).
* Without ``--yes``, on a terminal, the user types the run id's first 6 characters; without a
  terminal, it is refused (exit 3). Progress goes to stderr as each DELETE lands; with
  ``--format json`` the result is one JSON document on stdout.

Exit codes (also in ``--help``): 0 done, or nothing left to undo; 2 usage error, run or plan
file not found, a plan file that exists or is not a regular file; 3 refused (nothing sent);
4 finished with failed or in-doubt DELETEs, stopped early (a locked ledger, Ctrl-C) or not
stamped because steps were added meanwhile.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ledger_core.errors import LedgerxError, PlanFileError, RollbackRefused
from ledger_core.ledgers import read_regular_file, read_run
from ledger_core.models import RunDetail
from ledger_core.rollback import NO_ROLLBACK_FOR_FORMAT, Plan, ProfilesSource
from ledger_core.rollback import executor as rollback
from ledger_core.sanitize import clean

from .new_file import write_new_file as _save_plan
from .output import emit_json, fail, load_detail, make_console, stale_after_seconds

EXIT_OK, EXIT_CANCELLED, EXIT_USAGE, EXIT_FAILURES, EXIT_INTERRUPTED = 0, 1, 2, 4, 130
CONFIRM_CHARS = 6
_GROUP_STYLE = {"undo": "green", "cannot": "yellow", "in_doubt": "bold magenta", "nothing": "dim"}
# What the action column says per plan group: "skip" alone would hide an in-doubt step (which a
# person must check) among steps that simply cannot be undone.
_GROUP_ACTION = {
    "undo": "DELETE",
    "cannot": "cannot undo",
    "in_doubt": "in doubt — check by hand",
    "nothing": "nothing to undo",
}
NOTHING_TO_DO = "nothing_to_do"


def _cell(value: object, limit: int = 200, style: str = "") -> Text:
    return Text(clean(value, limit) if value is not None else "—", style=style)


def _plan_table(plan: Plan) -> Table:
    """One row per step, newest first; a DELETE row shows the URL it will delete.

    ``method`` is the step's own request; ``action`` what the rollback does about it.
    """
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for name in ("seq", "method", "action", "url", "reason"):
        table.add_column(name, overflow="fold")
    for a in plan.actions:
        deleting = a.action == "delete"
        action = "DELETE" if deleting else _GROUP_ACTION.get(a.group, "skip")
        table.add_row(
            _cell(a.seq),
            _cell(a.method, 10),
            Text(action, style=_GROUP_STYLE.get(a.group, "")),
            _cell(a.target if deleting else a.url, 200),
            _cell(a.reason, 200),
        )
    return table


# Refusals where "writes DISABLED" would misstate the profile's own setting.
_NOT_A_WRITE_SETTING = frozenset({"profiles_error", "unknown_profile", "profiles_changed"})


def _print_plan(plan: Plan, console: Console, *, dry_run: bool = True) -> None:
    """The plan, then (for a dry run) what ``--yes`` would do with it."""
    head = Text()
    head.append("Rollback plan for run ")
    head.append(clean(plan.run_id, 80), style="bold")
    head.append(f"\n  ledger   {clean(plan.source, 300)}")
    head.append(f"\n  profile  {clean(plan.profile, 80) or '—'} ")
    if plan.refusal_code == NO_ROLLBACK_FOR_FORMAT:  # the format's refusal, not the profile's
        head.append("(no rollback for this format)", style="bold red")
    elif plan.writes_enabled:
        head.append("(writes enabled)")
    elif plan.refusal_code in _NOT_A_WRITE_SETTING:
        # Not the profile's setting: the file cannot be read or does not name the profile.
        head.append("(writes refused: see below)", style="bold red")
    else:
        head.append("(writes DISABLED)", style="bold red")
    head.append(f"\n  summary  {plan.summary()}")
    console.print(head)
    if plan.actions:
        console.print(_plan_table(plan))
    if not dry_run:
        return  # executing: a refusal is the error line that follows, progress the rest
    if plan.refusal_code == NOTHING_TO_DO:
        console.print(Text(_sentence(plan.refusal)))
    elif plan.refusal:
        line = Text("Would be refused: ", style="bold red")
        line.append(clean(plan.refusal, 1000))
        console.print(line)
    else:
        count = len(plan.deletes)
        console.print(
            Text(
                f"Would not be refused: --yes would send the {count} DELETE(s) above, newest "
                "first (every rule is checked again before the first one is sent)."
            )
        )


def _sentence(text: str | None) -> str:
    value = clean(text, 1000)
    return value[:1].upper() + value[1:]


def _emit(plan: Plan, fmt: str, detail: RunDetail | None = None) -> None:
    if fmt == "json":
        emit_json(plan.to_dict())
    elif fmt == "markdown":
        sys.stdout.write(plan.to_markdown(detail))
    else:
        _print_plan(plan, make_console())


def _context(plan: Plan, args: argparse.Namespace) -> RunDetail | None:
    """The run a checklist describes (verdict, company, diagnosis …); ``None`` when it can no
    longer be read (the checklist then holds the plan alone)."""
    try:
        return read_run(Path(plan.source), plan.run_id, stale_after=stale_after_seconds(args))
    except LedgerxError:
        return None


def _load_plan(path: str) -> Plan:
    try:
        text = read_regular_file(path).decode("utf-8")
    except FileNotFoundError:
        raise PlanFileError(f"{path}: plan file not found") from None
    except OSError as exc:
        raise PlanFileError(f"{path}: cannot be read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise PlanFileError(f"{path}: not UTF-8 text") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise PlanFileError(f"{path}: not JSON ({exc})") from None
    try:
        return Plan.from_dict(data)
    except PlanFileError as exc:
        raise PlanFileError(f"{path}: {exc}") from None


def _preview(args: argparse.Namespace, profiles) -> Plan:
    return rollback.preview(load_detail(args), profiles, readonly=args.readonly)


def _confirm(plan: Plan) -> bool:
    """Ask for the run id's first characters on a terminal (refused without one); ``False``
    when the person typed anything else: cancelled."""
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        raise RollbackRefused(
            "not_confirmed",
            "no terminal to confirm on: pass --yes to execute without asking "
            "(or --dry-run to preview).",
        )
    expected = plan.run_id[:CONFIRM_CHARS]
    count = len(plan.deletes)
    # The characters to type are not repeated here: copying them from the prompt would make the
    # confirmation a reflex; reading them from the run id above is the deliberate act.
    prompt = (
        f"About to send {count} DELETE(s) for run {clean(plan.run_id, 80)} on profile "
        f"'{clean(plan.profile, 80)}'.\nType the first {CONFIRM_CHARS} characters of the run "
        "id shown above to go ahead; anything else cancels: "
    )
    sys.stderr.write(prompt)
    sys.stderr.flush()
    answer = sys.stdin.readline().strip()
    return answer == expected


def _progress_line(item: rollback.RollbackProgress) -> str:
    status = f" ({item.http_status})" if item.http_status is not None else ""
    return (
        f"[{item.index}/{item.total}] step {item.seq} DELETE {clean(item.target, 200)}: "
        f"{item.result}{status} — {clean(item.message, 300)}"
    )


def _execute(plan: Plan, profiles, args: argparse.Namespace) -> int:
    """Run the rollback, printing each DELETE as it lands; Ctrl-C stops it with a summary."""
    done: list[rollback.RollbackProgress] = []

    def progress(item: rollback.RollbackProgress) -> None:
        if item.phase == "done":
            done.append(item)
            print(_progress_line(item), file=sys.stderr, flush=True)

    try:
        result = asyncio.run(
            rollback.execute(
                plan,
                profiles,
                readonly=args.readonly,
                on_progress=progress,
                stale_after=stale_after_seconds(args),
            )
        )
    except KeyboardInterrupt:
        # asyncio cancelled the rollback: the DELETE in flight was reported in doubt (its
        # intent row is in the ledger); nothing after it was sent.
        partial = rollback.RollbackResult(
            plan.run_id, tuple(done), None, stopped="interrupted (Ctrl-C): nothing more was sent"
        )
        _report(partial, args)
        return EXIT_FAILURES if partial.in_doubt else EXIT_INTERRUPTED
    _report(result, args)
    return EXIT_OK if result.ok else EXIT_FAILURES


def _report(result: rollback.RollbackResult, args: argparse.Namespace) -> None:
    summary = (
        f"{len(result.rolled_back)} rolled back, {len(result.failed)} failed, "
        f"{len(result.in_doubt)} in doubt"
        + (f"; run stamped {result.run_stamped}" if result.run_stamped else "")
    )
    print(f"ledgerx: {summary}", file=sys.stderr)
    if result.stopped:
        print(f"ledgerx: stopped: {clean(result.stopped, 1000)}", file=sys.stderr)
    if result.not_stamped:
        print(f"ledgerx: not stamped: {clean(result.not_stamped, 1000)}", file=sys.stderr)
    if result.in_doubt:
        print(
            "ledgerx: in-doubt DELETEs may or may not have landed; run the rollback again to "
            "resend them (404 counts as done).",
            file=sys.stderr,
        )
    if args.format == "json":
        emit_json(
            {
                "run_id": result.run_id,
                "ok": result.ok,
                "run_stamped": result.run_stamped,
                "stopped": result.stopped,
                "not_stamped": result.not_stamped,
                "outcomes": [
                    {
                        "step_id": o.step_id,
                        "seq": o.seq,
                        "target": o.target,
                        "result": o.result,
                        "http_status": o.http_status,
                        "message": o.message,
                    }
                    for o in result.outcomes
                ],
            }
        )


def run_rollback(args: argparse.Namespace) -> int:
    """Preview, save or execute one run's rollback; returns the exit code."""
    # Read afresh by the core at each decision (preview, check, just before the first DELETE);
    # a malformed file refuses the rollback with its error instead of stopping the command.
    profiles = ProfilesSource.lookup(args.profiles)
    if args.plan:
        plan = _load_plan(args.plan)
        if args.run and not plan.run_id.startswith(args.run):
            fail(f"the plan in {args.plan} is for run {plan.run_id}, not {args.run}")
            return EXIT_USAGE
    elif not args.run:
        fail("rollback needs a RUN id (or --plan FILE)")
        return EXIT_USAGE
    else:
        plan = _preview(args, profiles)

    if args.save_plan is not None:
        why = _save_plan(args.save_plan, plan.to_json() + "\n", args.force)
        if why:
            fail(f"{args.save_plan}: the plan was not saved: {why}")
            return EXIT_USAGE
        print(f"ledgerx: plan saved to {clean(args.save_plan, 500)}", file=sys.stderr)
    if args.dry_run:
        if args.plan:  # a saved plan: say what --yes would meet now, not what it met then
            plan = rollback.as_it_stands(
                plan, profiles, readonly=args.readonly, stale_after=stale_after_seconds(args)
            )
        _emit(plan, args.format, _context(plan, args) if args.format == "markdown" else None)
        return EXIT_OK
    if args.save_plan is not None and not args.yes:
        return EXIT_OK  # saving is its own act; executing needs --plan FILE later

    if args.format == "table":
        _print_plan(plan, make_console(stderr=True), dry_run=False)
    try:
        rollback.check_refusal(plan, profiles, readonly=args.readonly)
        if not args.yes and not _confirm(plan):
            fail("cancelled: nothing was sent.")
            return EXIT_CANCELLED
        return _execute(plan, profiles, args)
    except RollbackRefused as refused:
        if refused.code != NOTHING_TO_DO:
            raise
        # Not a refusal: there is simply nothing to send, which is what was asked for.
        print(f"ledgerx: {clean(refused.reason, 1000)}", file=sys.stderr)
        if args.format == "json":
            _report(rollback.RollbackResult(plan.run_id, (), None), args)
        return EXIT_OK
