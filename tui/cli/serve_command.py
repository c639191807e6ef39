"""``ledgerx serve``: the explorer in a browser, one app process per session, read-only by default.

The unsafe combinations are refused before anything listens (exit 2): ``--allow-writes`` with a
non-loopback ``--host`` (the page has no login, so anyone reaching the port could roll back).
Binding elsewhere than loopback is allowed with a warning: the team's authenticating proxy must
stand in front. Each browser session runs ``python -m tui.cli.main --served MODE`` with the same
sources and profiles, resolved here once so every session sees what the start-up line says.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ledger_core.sanitize import clean

from .output import fail, sources_from, warn
from .ports import SERVE_PORT

if TYPE_CHECKING:  # main imports this module for DEFAULT_PORT: keep it light to import
    from ledger_core.ledgers import Sources
    from ledger_core.rollback import Profiles

EXIT_OK, EXIT_USAGE = 0, 2
DEFAULT_PORT = SERVE_PORT  # not the demo API's (``ports``): both run side by side


def _say(message: str) -> None:
    print(f"ledgerx serve: {clean(message, 4000)}", file=sys.stderr, flush=True)


def session_argv(
    args: argparse.Namespace, sources: Sources, profiles: Profiles, mode: str
) -> list[str]:
    """The command line of one browser session: this interpreter, this package, absolute paths."""
    argv = [sys.executable, "-m", "tui.cli.main", "--served", mode]
    for directory in sources.dirs:
        argv += ["--ledger-dir", os.path.abspath(directory)]
    for path in sources.files:
        argv += ["--ledger", os.path.abspath(path)]
    if profiles.path is not None:
        argv += ["--profiles", os.path.abspath(profiles.path)]
    if args.stale_after is not None:
        argv += ["--stale-after", repr(float(args.stale_after))]
    if args.readonly:
        argv.append("--readonly")
    return argv


def _usage_error(args: argparse.Namespace, loopback: bool) -> str | None:
    if not args.host.strip():
        return "--host must not be empty"
    if not 0 <= args.port <= 65535:
        return f"--port {args.port} is not a port number (0-65535)"
    if args.max_sessions < 1:
        return "--max-sessions must be at least 1"
    if args.allow_writes and not loopback:
        return (
            f"--allow-writes is refused with --host {args.host}: the page has no login of its "
            "own, so anyone who reaches it could roll runs back. Serve writes on 127.0.0.1 only."
        )
    if args.public_url is not None:
        parts = urlsplit(args.public_url)
        web = parts.scheme in ("http", "https") and bool(parts.hostname)
        if not web or parts.path not in ("", "/") or parts.query or parts.fragment:
            return f"--public-url {args.public_url} must be an http(s) URL with no path"
    return None


def _mode(args: argparse.Namespace, profiles: Profiles) -> tuple[str, str]:
    """(session mode, how the start-up line says it)."""
    if not args.allow_writes:
        return "read-only", "read-only (served read-only; --allow-writes lifts it)"
    if args.readonly:
        return "writable", "read-only (--readonly)"
    if profiles.readonly:
        return "writable", f"read-only ([defaults] readonly = true in {profiles.path})"
    return "writable", (
        "WRITES ALLOWED (--allow-writes): rollbacks can be sent, on profiles that allow writes"
    )


class _CleanFormatter(logging.Formatter):
    """Log lines as ``ledgerx serve: …``, control characters escaped (they may quote a peer)."""

    def format(self, record: logging.LogRecord) -> str:
        return f"ledgerx serve: {clean(record.getMessage(), 2000)}"


def _log_to_stderr() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_CleanFormatter())
    for name in ("ledgerx.serve", "textual-serve"):
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def run_serve(args: argparse.Namespace) -> int:
    """Check the options, print the start-up line, serve until SIGINT/SIGTERM."""
    from ..serve import LedgerxServer, is_loopback

    host = args.host.strip()
    loopback = is_loopback(host)
    problem = _usage_error(args, loopback)
    if problem:
        fail(problem)
        return EXIT_USAGE
    from ledger_core.rollback import load_profiles

    profiles = load_profiles(args.profiles)
    sources = sources_from(args)
    mode, mode_text = _mode(args, profiles)
    if not loopback:
        warn(
            f"listening on {host}, not on loopback: the page has no login of its own and shows "
            "every run in the sources to whoever reaches the port. Put it behind the team's "
            "authenticating proxy (one that serves it under another scheme or name needs "
            "--public-url)."
        )
    argv = session_argv(args, sources, profiles, mode)
    profiles_text = str(profiles.path) if profiles.path else "none found"

    def announce(url: str) -> None:
        _say(
            f"serving on {url} · {mode_text} · sources: {sources.describe()} · profiles: "
            f"{profiles_text} · one app process per browser session · Ctrl-C stops"
        )

    _log_to_stderr()
    server = LedgerxServer(
        argv,
        host=host,
        port=args.port,
        public_url=args.public_url,
        max_sessions=args.max_sessions,
        announce=announce,
    )
    try:
        server.serve()
    except OSError as exc:
        fail(
            f"cannot listen on {host}:{args.port}: {exc.strerror or exc} "
            "(is another program using the port? choose one with --port)"
        )
        return EXIT_USAGE
    _say("stopped; every browser session has ended.")
    return EXIT_OK
