"""Entry point of the ``ledgerx`` console script: argument parsing and exit codes (SPEC §4).

Exit codes: 0 ok; 1 unexpected error; 2 usage or not found; 3 refused; 4 rollback finished with
failures. Errors are one clear line on stderr, never a traceback (``LEDGERX_DEBUG=1`` shows one).
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
    PlanFileError,
    ProfilesError,
    RollbackRefused,
    RunNotFound,
    SourceError,
)

from .output import fail

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_REFUSED, EXIT_FAILURES = 0, 1, 2, 3, 4


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors with exit code 2 and no traceback (its default)."""


def _common(parser: argparse.ArgumentParser, suppress: bool) -> None:
    """Options accepted before or after the subcommand."""
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument(
        "--ledger-dir",
        action="append",
        metavar="DIR",
        default=default,
        help="directory of ledger files (repeatable; default $LEDGERX_LEDGER_DIR or "
        "~/.config/bcli/batch)",
    )
    parser.add_argument(
        "--ledger",
        action="append",
        metavar="FILE",
        default=default,
        help="a single ledger file, which may hold many runs (repeatable)",
    )
    parser.add_argument(
        "--profiles",
        metavar="FILE",
        default=default,
        help="profiles file (default $LEDGERX_PROFILES, ~/.config/ledgerx/profiles.toml, "
        "~/.config/bcli/config.toml)",
    )
    parser.add_argument(
        "--readonly",
        action="store_true",
        default=default if suppress else False,
        help="refuse every write for this session",
    )
    parser.add_argument(
        "--stale-after",
        type=float,
        metavar="MINUTES",
        default=default,
        help="an unfinished run with no activity for this long is stale (default 15)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="ledgerx",
        description="Explore SQLite operation ledgers: runs, step timelines, crash states, "
        "rollback. With no command, opens the terminal UI.",
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
        p = sub.add_parser(name, help=help_text, description=help_text)
        _common(p, suppress=True)
        return p

    p = command("list", "runs, newest first, with derived state")
    p.add_argument("--state", action="append", metavar="S", help="only runs in this state")
    p.add_argument("--limit", type=int, metavar="N", help="at most N runs")
    p.add_argument("--format", choices=("table", "json"), default="table")

    p = command("state", "one run: run row, steps, diagnosis, rollback attempts")
    p.add_argument("run", metavar="RUN", help="run id or unique prefix")
    p.add_argument("--format", choices=("table", "json"), default="table")

    p = command("rollback", "preview or execute the rollback of a run")
    p.add_argument("run", metavar="RUN", nargs="?", help="run id or unique prefix")
    p.add_argument("--dry-run", action="store_true", help="show the plan, send nothing")
    p.add_argument("--yes", action="store_true", help="execute without asking")
    p.add_argument("--format", choices=("table", "json", "markdown"), default="table")
    p.add_argument(
        "--plan", metavar="FILE", help="execute exactly this saved plan (see --save-plan)"
    )
    p.add_argument("--save-plan", metavar="FILE", help="write the plan as JSON to FILE")

    p = command("doctor", "check every file in the sources")
    p.add_argument("--format", choices=("table", "json"), default="table")

    p = command("demo", "write demo ledgers and a demo profiles file into DIR")
    p.add_argument("dir", metavar="DIR")

    p = command("serve", "serve the explorer to a browser (read-only unless --allow-writes)")
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1; the page has no login of its own)",
    )
    p.add_argument("--port", type=int, default=8765, help="port to listen on (default 8765)")
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
        error, RunNotFound | AmbiguousRunId | SourceError | ProfilesError | PlanFileError
    ):
        return EXIT_USAGE
    return EXIT_ERROR


def _dispatch(args: argparse.Namespace) -> int:
    # NaN passes a `<= 0` test and makes every comparison false: no run would ever be stale.
    if args.stale_after is not None and not (0 < args.stale_after < math.inf):
        fail("--stale-after must be a positive number of minutes")
        return EXIT_USAGE
    if args.command == "list":
        from .read_commands import run_list

        return run_list(args)
    if args.command == "state":
        from .read_commands import run_state

        return run_state(args)
    if args.command == "doctor":
        from .read_commands import run_doctor

        return run_doctor(args)
    if args.command == "rollback":
        from .rollback_command import run_rollback

        return run_rollback(args)
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
    for name in ("ledger_dir", "ledger", "profiles", "stale_after"):
        if not hasattr(args, name):
            setattr(args, name, None)
    args.readonly = bool(getattr(args, "readonly", False))
    try:
        return _dispatch(args)
    except LedgerxError as error:
        fail(str(error))
        return _exit_code(error)
    except KeyboardInterrupt:
        fail("interrupted")
        return 130
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
