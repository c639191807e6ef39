"""``ledgerx`` with no command: open the TUI on the sources (``--demo``: on fresh demo data)."""

from __future__ import annotations

import argparse

from ledger_core.rollback import ProfilesSource

from .output import sources_from, stale_after_seconds


def run_tui(args: argparse.Namespace) -> int:
    """Build sources and profiles from the arguments and run the app until the user quits."""
    if getattr(args, "demo", False):
        # Built by the rollback-UI work: demo data, the loopback API, then this same app.
        from ..demo_session import run_demo_tui

        return run_demo_tui(args)

    from ..app import LedgerxApp  # Textual is imported only when the TUI really opens

    readonly: bool | str = bool(args.readonly)
    served = getattr(args, "served", None)
    if served is not None:  # one browser session of `ledgerx serve` (see tui/served_session.py)
        from ..served_session import SERVED_READONLY, end_with_parent

        end_with_parent()
        if served == "read-only":
            readonly = SERVED_READONLY
    # Not read here: the app reads the file when it needs it, and a malformed one only
    # refuses rollbacks (with its error), never stops browsing.
    app = LedgerxApp(
        sources_from(args),
        ProfilesSource.lookup(args.profiles),
        readonly=readonly,
        stale_after=stale_after_seconds(args),
    )
    app.run()
    return 0
