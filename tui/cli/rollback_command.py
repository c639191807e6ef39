"""``ledgerx rollback RUN``: preview a run's rollback plan, save it, or execute it (SPEC §3, §4).

* ``--dry-run [--format table|json|markdown]`` prints the plan and whether it would be refused;
  nothing is sent and the exit code is 0 (the refusal is part of what is shown).
* ``--save-plan FILE`` writes the plan as JSON (with or without ``--dry-run``).
* ``--plan FILE`` executes exactly that saved plan: ``ledger_core`` refuses it if the ledger
  or the profile moved since it was made.
* Without ``--yes``, on a terminal, the user types the run id's first 6 characters; without a
  terminal, it is refused (exit 3). Progress goes to stderr as each DELETE lands; with
  ``--format json`` the result is one JSON document on stdout.

Exit codes: 0 done; 2 run or plan file not found; 3 refused (nothing sent); 4 finished with
failed or in-doubt DELETEs.
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

from ledger_core import rollback
from ledger_core.access import read_regular_file
from ledger_core.errors import PlanFileError, RollbackRefused
from ledger_core.plan import Plan
from ledger_core.profiles import ProfilesSource
from ledger_core.sanitize import clean

from .output import emit_json, fail, load_detail, piped_width, stale_after_seconds

EXIT_OK, EXIT_USAGE, EXIT_FAILURES = 0, 2, 4
CONFIRM_CHARS = 6
_GROUP_STYLE = {"undo": "green", "cannot": "yellow", "in_doubt": "bold magenta", "nothing": "dim"}


def _console(stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    if stream.isatty():
        return Console(file=stream, markup=False, highlight=False, emoji=False)
    width = piped_width(200)
    return Console(
        file=stream, markup=False, highlight=False, emoji=False, width=width, color_system=None
    )


def _cell(value: object, limit: int = 200, style: str = "") -> Text:
    return Text(clean(value, limit) if value is not None else "—", style=style)


def _plan_table(plan: Plan) -> Table:
    """One row per step, newest first; a DELETE row shows the URL it will delete."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    for name in ("seq", "step", "action", "url", "reason"):
        table.add_column(name, overflow="fold")
    for a in plan.actions:
        deleting = a.action == "delete"
        table.add_row(
            _cell(a.seq),
            _cell(a.method, 10),
            Text("DELETE" if deleting else "skip", style=_GROUP_STYLE.get(a.group, "")),
            _cell(a.target if deleting else a.url, 200),
            _cell(a.reason, 200),
        )
    return table


def _print_plan(plan: Plan, console: Console) -> None:
    head = Text()
    head.append("Rollback plan for run ")
    head.append(clean(plan.run_id, 80), style="bold")
    head.append(f"\n  ledger   {clean(plan.source, 300)}")
    head.append(f"\n  profile  {clean(plan.profile, 80) or '—'} ")
    head.append(
        "(writes enabled)" if plan.writes_enabled else "(writes DISABLED)",
        style="" if plan.writes_enabled else "bold red",
    )
    head.append(f"\n  summary  {plan.summary()}")
    console.print(head)
    if plan.actions:
        console.print(_plan_table(plan))
    if plan.refusal:
        line = Text("Refused: ", style="bold red")
        line.append(clean(plan.refusal, 1000))
        console.print(line)
    else:
        console.print(Text("Not refused: `--yes` would send the DELETEs above, newest first."))


def _emit(plan: Plan, fmt: str) -> None:
    if fmt == "json":
        emit_json(plan.to_dict())
    elif fmt == "markdown":
        sys.stdout.write(plan.to_markdown())
    else:
        _print_plan(plan, _console())


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


def _confirm(plan: Plan) -> None:
    """Ask for the run id's first characters on a terminal; refuse without one."""
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        raise RollbackRefused(
            "not_confirmed",
            "no terminal to confirm on: pass --yes to execute without asking "
            "(or --dry-run to preview).",
        )
    expected = plan.run_id[:CONFIRM_CHARS]
    count = len(plan.deletes)
    prompt = (
        f"About to send {count} DELETE(s) for run {clean(plan.run_id, 80)} on profile "
        f"'{clean(plan.profile, 80)}'.\nType the run id's first {CONFIRM_CHARS} characters "
        f"({clean(expected, 20)}) to go ahead, anything else cancels: "
    )
    sys.stderr.write(prompt)
    sys.stderr.flush()
    answer = sys.stdin.readline().strip()
    if answer != expected:
        raise RollbackRefused("not_confirmed", "not confirmed: nothing was sent.")


def _progress(item: rollback.RollbackProgress) -> None:
    if item.phase != "done":
        return
    status = f" ({item.http_status})" if item.http_status is not None else ""
    line = (
        f"[{item.index}/{item.total}] step {item.seq} DELETE {clean(item.target, 200)}: "
        f"{item.result}{status} — {clean(item.message, 300)}"
    )
    print(line, file=sys.stderr, flush=True)


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

    if args.save_plan:
        try:
            Path(args.save_plan).write_text(plan.to_json() + "\n", encoding="utf-8")
        except OSError as exc:
            fail(f"{args.save_plan}: the plan cannot be saved ({exc.strerror})")
            return EXIT_USAGE
        print(f"ledgerx: plan saved to {clean(args.save_plan, 500)}", file=sys.stderr)
    if args.dry_run:
        _emit(plan, args.format)
        return EXIT_OK
    if args.save_plan and not args.yes:
        return EXIT_OK  # saving is its own act; executing needs --plan FILE later

    if args.format == "table":
        _print_plan(plan, _console(stderr=True))
    rollback.check_refusal(plan, profiles, readonly=args.readonly)
    if not args.yes:
        _confirm(plan)
    result = asyncio.run(
        rollback.execute(
            plan,
            profiles,
            readonly=args.readonly,
            on_progress=_progress,
            stale_after=stale_after_seconds(args),
        )
    )
    summary = (
        f"{len(result.rolled_back)} rolled back, {len(result.failed)} failed, "
        f"{len(result.in_doubt)} in doubt"
        + (f"; run stamped {result.run_stamped}" if result.run_stamped else "")
    )
    print(f"ledgerx: {summary}", file=sys.stderr)
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
    return EXIT_OK if result.ok else EXIT_FAILURES
