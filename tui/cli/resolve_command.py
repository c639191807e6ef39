"""``ledgerx resolve RUN SEQ``: record what a person found out about an in-doubt step.

Exit codes: 0 recorded; 2 run or step not found, or a usage error (no note, a bad URL);
3 refused (``--readonly`` or ``[defaults] readonly = true``, or the step is not in doubt).
"""

from __future__ import annotations

import argparse
import sys

from ledger_core.errors import LedgerxError, ResolutionRefused
from ledger_core.rollback import ProfilesSource
from ledger_core.sanitize import clean
from ledger_core.triage import resolutions

from .output import emit_json, fail, load_detail

EXIT_OK, EXIT_USAGE, EXIT_REFUSED = 0, 2, 3
# Refusals that are the caller's mistake in the command line rather than a rule saying no.
_USAGE = frozenset(
    {"no_note", "note_too_long", "bad_url", "credentials_in_url", "no_such_step", "bad_outcome"}
)


def _readonly(args: argparse.Namespace) -> bool | str:
    """``True`` for ``--readonly``; else what in the profiles file makes the session read-only
    (``[defaults] readonly = true``, a misspelled ``read_only`` …), or ``False``."""
    if args.readonly:
        return True
    try:
        return ProfilesSource.lookup(args.profiles).load().readonly_reason() or False
    except (LedgerxError, OSError):
        return False  # no or broken profiles file: it guards rollbacks, which say so themselves


def run_resolve(args: argparse.Namespace) -> int:
    outcome = args.outcome
    if outcome is None:
        fail("say what you found: --landed, --not-landed or --unknown")
        return EXIT_USAGE
    readonly = _readonly(args)
    detail = load_detail(args)
    try:
        done = resolutions.record(
            detail,
            args.seq,
            outcome,
            note=args.note or "",
            who=args.who,
            url=args.url,
            readonly=readonly,
        )
    except ResolutionRefused as refused:
        fail(f"not recorded: {refused.reason}")
        return EXIT_USAGE if refused.code in _USAGE else EXIT_REFUSED
    if args.format == "json":
        emit_json(
            done.to_dict() | {"run_id": detail.summary.run_id, "source": detail.summary.source}
        )
    else:
        print(
            f"ledgerx: step {done.seq} of run {clean(detail.summary.run_id, 80)} {done.sentence()}",
            file=sys.stderr,
        )
    return EXIT_OK
