"""Entry point of the ``ledgerx`` console script: argument parsing and exit codes (SPEC §4).

Exit codes: 0 ok; 1 unexpected error; 2 usage or not found; 3 refused; 4 rollback finished with
failures or requests in doubt, or stopped early; 130 interrupted with nothing in doubt.
Errors are one clear line on stderr, never a traceback (``LEDGERX_DEBUG=1`` shows one).
Subcommands live in their own modules and are imported only when used.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Sequence

from ledger_core.errors import (
    AmbiguousRunId,
    LedgerxError,
    MappingError,
    PlanFileError,
    ProfilesError,
    RollbackRefused,
    RunNotFound,
    SourceError,
)

from .output import OutputClosed, add_group_by, add_run_filters, fail
from .ports import SERVE_PORT

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_REFUSED, EXIT_FAILURES = 0, 1, 2, 3, 4


EXIT_CODES = """exit codes:
  0  ok
  1  unexpected error; `doctor`: some file has a problem
  2  usage error, or a run, file or plan not found
  3  refused: nothing was sent
  4  rollback finished with failed or in-doubt requests"""

ROLLBACK_EXIT_CODES = """\
exit codes:
  0  done, or nothing left to undo; a --dry-run exits 0 whether or not --yes
     would be refused (it says so, and why)
  1  unexpected error, or the confirmation prompt was cancelled
  2  usage error, run or plan file not found, --save-plan FILE exists or is not
     a regular file
  3  refused: nothing was sent (disable_writes, unknown profile, a token that
     would go in clear or cannot be sent, the run alive, the plan stale, ...)
  4  finished with failed or in-doubt DELETEs, stopped early (the ledger stayed
     locked, or Ctrl-C with a DELETE in doubt), or not stamped rolled_back
     because steps were added to the run meanwhile
  130 interrupted (Ctrl-C) with nothing in doubt"""


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors with exit code 2 and no traceback (its default)."""


GLOBAL_NOTE = (
    "global options (--ledger-dir, --ledger, --profiles, --formats, --readonly, --stale-after,\n"
    "--utc)"
    " work before or after the command; `ledgerx --help` describes them."
)

EXAMPLES: dict[str, tuple[str, ...]] = {
    "list": (
        "ledgerx list --ledger-dir ./ledgers",
        "ledgerx list --state partially_committed --limit 20",
        "ledgerx list --format json | jq -r '.[].run_id'",
        "ledgerx list --attention --since 24h",
        "ledgerx list --attention --since 2h --group-by company",
        "ledgerx list --since yesterday --until today --company 'CRONUS USA, Inc.' --utc",
        "ledgerx list --attention --format csv --fields run_id,verdict,started_at > triage.csv",
        "ledgerx list --format tsv --no-headers | cut -f1",
    ),
    "state": (
        "ledgerx state 3f9c2a",
        "ledgerx state 3f9c2a --format json > run.json",
    ),
    "rollback": (
        "ledgerx rollback 3f9c2a --dry-run",
        "ledgerx rollback 3f9c2a --dry-run --format markdown > ticket.md",
        "ledgerx rollback 3f9c2a --save-plan plan.json && ledgerx rollback --plan plan.json --yes",
    ),
    "search": (
        "ledgerx search 'salesOrders(0000'",
        "ledgerx search BadRequest --limit 200",
        "ledgerx search salesOrderLines --since yesterday --company 'CRONUS USA, Inc.'",
        "ledgerx search 2026-05-17 --format json | jq -r '.[].ref' | sort -u",
    ),
    "doctor": ("ledgerx doctor --ledger-dir ./ledgers", "ledgerx doctor --format json"),
    "resolve": (
        "ledgerx resolve 3f9c2a 7 --landed --url 'https://api.example/salesOrders(42)' "
        "--note 'found SO-42 in BC'",
        "ledgerx resolve 3f9c2a 7 --not-landed --note 'no record with correlation id 9d1e'",
        "ledgerx resolve runs.db:3f9c2a 7 --unknown --note 'asked the customer' --who ada",
    ),
    "export": (
        "ledgerx export 3f9c2a > incident.json",
        "ledgerx export 3f9c2a --format markdown --output INC-1234.md",
    ),
    "demo": ("ledgerx demo /tmp/ledgerx-demo",),
    "formats": ("ledgerx formats", "ledgerx --formats ./formats.toml formats --format json"),
    "serve": (
        "ledgerx serve --ledger-dir ./ledgers",
        "ledgerx serve --host 0.0.0.0 --port 9000   # behind the team's authenticating proxy",
    ),
}


def _epilog(name: str | None) -> str:
    examples = EXAMPLES.get(name or "", ())
    parts = []
    if examples:
        parts.append("examples:\n" + "\n".join(f"  {line}" for line in examples))
    if name is not None:
        parts.append(GLOBAL_NOTE)
    parts.append(ROLLBACK_EXIT_CODES if name == "rollback" else EXIT_CODES)
    return "\n\n".join(parts)


def _common(parser: argparse.ArgumentParser, suppress: bool) -> None:
    """Options accepted before or after the subcommand; described once, in ``ledgerx --help``."""
    default = argparse.SUPPRESS if suppress else None

    def described(text: str) -> str:
        return argparse.SUPPRESS if suppress else text

    parser.add_argument(
        "--ledger-dir",
        action="append",
        metavar="DIR",
        default=default,
        help=described(
            "directory of ledger files (repeatable; default $LEDGERX_LEDGER_DIR or "
            "~/.config/bcli/batch)"
        ),
    )
    parser.add_argument(
        "--ledger",
        action="append",
        metavar="FILE",
        default=default,
        help=described("a single ledger file, which may hold many runs (repeatable)"),
    )
    parser.add_argument(
        "--profiles",
        metavar="FILE",
        default=default,
        help=described(
            "profiles file (default $LEDGERX_PROFILES, ~/.config/ledgerx/profiles.toml, "
            "~/.config/bcli/config.toml)"
        ),
    )
    parser.add_argument(
        "--formats",
        metavar="FILE",
        default=default,
        help=described(
            "mapping file describing other ledger formats (default $LEDGERX_FORMATS, "
            "~/.config/ledgerx/formats.toml)"
        ),
    )
    parser.add_argument(
        "--readonly",
        action="store_true",
        default=default if suppress else False,
        help=described("refuse every write for this session"),
    )
    parser.add_argument(
        "--stale-after",
        type=float,
        metavar="MINUTES",
        default=default,
        help=described("an unfinished run with no activity for this long is stale (default 15)"),
    )
    parser.add_argument(
        "--utc",
        action="store_true",
        default=default if suppress else False,
        help=described(
            "show times in UTC (default: the local zone, named in the table; JSON is always UTC)"
        ),
    )


_FORMAT_HELP = "table (default) or json (the only thing on stdout)"


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"ledgerx {version('ledgerx')}"
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "ledgerx (not installed)"


class _VersionAction(argparse.Action):
    """``--version``, looked up only when asked for: reading the installed metadata costs
    more than the rest of a command's start-up."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(
            option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=kwargs.get("help")
        )

    def __call__(self, parser, namespace, values, option_string=None) -> None:  # noqa: ANN001
        sys.stdout.write(_version() + "\n")  # on stdout, as argparse's own version action
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="ledgerx",
        description="Explore SQLite operation ledgers: runs, step timelines, crash states, "
        "rollback. With no command, opens the terminal UI.",
        epilog=_epilog(None),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version", action=_VersionAction, help="show program's version number and exit"
    )
    _common(parser, suppress=False)
    parser.add_argument(
        "--demo",
        action="store_true",
        help="build fresh demo data, start the demo API on loopback and open the TUI",
    )
    # One browser session of `ledgerx serve` (tui/served_session.py); not for people to type.
    parser.add_argument("--served", choices=("read-only", "writable"), help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog=_epilog(name),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        _common(p, suppress=True)
        return p

    p = command("list", "runs, newest first, with derived state")
    p.add_argument(
        "--state",
        action="append",
        metavar="S",
        help="only runs in this state (the runner's rules; a value or the TUI's word, any case)",
    )
    p.add_argument(
        "--verdict",
        action="append",
        metavar="V",
        help="only runs with this verdict: running, rollback_incomplete, in_doubt, crashed, "
        "completed, failed, partially_committed, rolled_back, cancelled, planned (or the TUI's "
        "word, any case; repeat or separate by commas)",
    )
    p.add_argument(
        "--attention",
        action="store_true",
        help="only runs that need attention (the TUI's 'needs attention' filter)",
    )
    p.add_argument(
        "--ledger-format",
        action="append",
        metavar="NAME",
        help="only runs of this ledger format (bcli, cr, agent-orchestrator, event-ledger, "
        "or a mapped one; repeatable)",
    )
    add_run_filters(p)
    add_group_by(p)
    p.add_argument("--limit", type=int, metavar="N", help="at most N runs")
    p.add_argument(
        "--format",
        choices=("table", "json", "csv", "tsv"),
        default="table",
        help="table (default), json, or csv/tsv: one run per line, full values",
    )
    p.add_argument(
        "--fields",
        metavar="A,B,C",
        help="with csv/tsv: these columns in this order (run_id, verdict, state, "
        "stamped_state, liveness, committed, failed, in_doubt, total, started_at, "
        "finished_at, last_activity, profile, environment, company, format, "
        "manifest_path, source)",
    )
    p.add_argument("--no-headers", action="store_true", help="no header line (table, csv and tsv)")

    p = command("state", "one run: run row, steps, diagnosis, rollback attempts")
    p.add_argument("run", metavar="RUN", help="run id or unique prefix")
    p.add_argument("--format", choices=("table", "json"), default="table", help=_FORMAT_HELP)

    p = command("rollback", "preview or execute the rollback of a run")
    p.add_argument("run", metavar="RUN", nargs="?", help="run id or unique prefix")
    p.add_argument("--dry-run", action="store_true", help="show the plan, send nothing")
    p.add_argument("--yes", action="store_true", help="execute without asking")
    p.add_argument(
        "--format",
        choices=("table", "json", "markdown"),
        default="table",
        help="table (default), json, or a markdown checklist for a ticket",
    )
    p.add_argument(
        "--plan", metavar="FILE", help="execute exactly this saved plan (see --save-plan)"
    )
    p.add_argument(
        "--save-plan",
        metavar="FILE",
        help="write the plan as JSON to FILE, a new file (an existing one only with --force)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="let --save-plan replace an existing regular file (never an SQLite database)",
    )

    p = command("resolve", "record what a person found out about an in-doubt step")
    p.add_argument("run", metavar="RUN", help="run id, unique prefix or FILE:RUN")
    p.add_argument("seq", metavar="SEQ", type=int, help="the step's seq")
    found = p.add_mutually_exclusive_group()
    found.add_argument(
        "--landed", dest="outcome", action="store_const", const="landed", help="it landed"
    )
    found.add_argument(
        "--not-landed",
        dest="outcome",
        action="store_const",
        const="not_landed",
        help="it did not land",
    )
    found.add_argument(
        "--unknown",
        dest="outcome",
        action="store_const",
        const="unknown",
        help="still unknown (recorded, the step stays in doubt)",
    )
    p.add_argument(
        "--url",
        metavar="U",
        help="with --landed: the created record's URL; the rollback plan then deletes it",
    )
    p.add_argument("--note", metavar="TEXT", help="how you know (required)")
    p.add_argument(
        "--who", metavar="NAME", help="who resolves it (default $LEDGERX_USER, else $USER)"
    )
    p.add_argument("--format", choices=("table", "json"), default="table", help=_FORMAT_HELP)

    p = command("export", "one incident bundle of a run for a ticket: steps, plan, diagnosis")
    p.add_argument("run", metavar="RUN", help="run id, unique prefix or FILE:RUN")
    p.add_argument(
        "--format", choices=("json", "markdown"), default="json", help="json (default) or markdown"
    )
    p.add_argument("--output", metavar="FILE", help="write to FILE, a new file (never overwritten)")

    p = command(
        "search",
        "find runs and steps by any field: URL, error text, correlation id, body hash, "
        "rollback URL, status, date, run fields (substring, any case)",
    )
    p.add_argument("text", metavar="TEXT", help="text to find, taken literally")
    p.add_argument("--limit", type=int, metavar="N", help="at most N matches (default 50)")
    p.add_argument("--format", choices=("table", "json"), default="table", help=_FORMAT_HELP)
    add_run_filters(p)

    p = command("doctor", "check every file in the sources")
    p.add_argument("--format", choices=("table", "json"), default="table", help=_FORMAT_HELP)

    p = command("formats", "the ledger formats ledgerx reads: built-in and mapped")
    p.add_argument("--format", choices=("table", "json"), default="table", help=_FORMAT_HELP)

    p = command("demo", "write demo ledgers and a demo profiles file into DIR")
    p.add_argument("dir", metavar="DIR")

    p = command("serve", "serve the explorer to a browser (read-only unless --allow-writes)")
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1; the page has no login of its own)",
    )
    p.add_argument(
        "--port",
        type=int,
        default=SERVE_PORT,
        help=f"port to listen on (default {SERVE_PORT}; the demo API has 8765)",
    )
    p.add_argument(
        "--allow-writes",
        action="store_true",
        help="let browser sessions roll back (loopback only; profiles may still refuse)",
    )
    p.add_argument(
        "--public-url",
        metavar="URL",
        help="the URL browsers open, when a proxy stands in front (e.g. https://ledgerx.example)",
    )
    p.add_argument(
        "--max-sessions",
        type=int,
        default=16,
        metavar="N",
        help="browser sessions at once, each one app process (default 16)",
    )
    return parser


def _exit_code(error: LedgerxError) -> int:
    if isinstance(error, RollbackRefused):
        return EXIT_REFUSED
    if isinstance(
        error,
        RunNotFound | AmbiguousRunId | SourceError | ProfilesError | PlanFileError | MappingError,
    ):
        return EXIT_USAGE
    return EXIT_ERROR


def _mapping_configured() -> bool:
    """Whether a formats mapping file is in play (checked without importing the format layer,
    so runner-only sessions start as fast as before)."""
    if os.environ.get("LEDGERX_FORMATS"):
        return True
    return os.path.isfile(os.path.expanduser("~/.config/ledgerx/formats.toml"))


def _dispatch(args: argparse.Namespace) -> int:
    # NaN passes a `<= 0` test and makes every comparison false: no run would ever be stale.
    if args.stale_after is not None and not (0 < args.stale_after < math.inf):
        fail("--stale-after must be a positive number of minutes")
        return EXIT_USAGE
    if args.formats is not None:
        # Read again by every process that reads ledgers (scanner workers included).
        os.environ["LEDGERX_FORMATS"] = os.path.abspath(os.path.expanduser(args.formats))
    if args.command == "formats" or _mapping_configured():
        from ledger_core.formats import mapped_formats

        mapped_formats()  # a broken mapping file is one clear error, before anything is read
    if args.command == "formats":
        from .formats_command import run_formats

        return run_formats(args)
    if args.command == "list":
        from .read_commands import run_list

        return run_list(args)
    if args.command == "state":
        from .read_commands import run_state

        return run_state(args)
    if args.command == "search":
        from .search_command import run_search

        return run_search(args)
    if args.command == "doctor":
        from .read_commands import run_doctor

        return run_doctor(args)
    if args.command == "rollback":
        from .rollback_command import run_rollback

        return run_rollback(args)
    if args.command == "resolve":
        from .resolve_command import run_resolve

        return run_resolve(args)
    if args.command == "export":
        from .export_command import run_export

        return run_export(args)
    if args.command == "demo":
        from .demo_command import run_demo

        return run_demo(args)
    if args.command == "serve":
        from .serve_command import run_serve

        return run_serve(args)
    from .tui_command import run_tui

    return run_tui(args)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    for name in ("ledger_dir", "ledger", "profiles", "stale_after", "formats"):
        if not hasattr(args, name):
            setattr(args, name, None)
    args.readonly = bool(getattr(args, "readonly", False))
    args.utc = bool(getattr(args, "utc", False))
    try:
        return _dispatch(args)
    except LedgerxError as error:
        fail(str(error))
        return _exit_code(error)
    except KeyboardInterrupt:
        fail("interrupted")
        return 130
    except OutputClosed:
        return EXIT_OK  # the console already sent the rest of the output to /dev/null
    except BrokenPipeError:
        # The reader of stdout went away (e.g. `| head`); not an error worth a message.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as error:  # noqa: BLE001 - the last line of defence against tracebacks
        if os.environ.get("LEDGERX_DEBUG"):
            raise
        fail(f"unexpected error: {type(error).__name__}: {error} (LEDGERX_DEBUG=1 shows details)")
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
