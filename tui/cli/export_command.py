"""``ledgerx export RUN``: one incident bundle (run, steps, attempts, resolutions, plan,
diagnosis) for a ticket, on stdout or in a new file (``--output``, never overwritten).

Exit codes: 0 written; 2 run not found, or ``--output`` exists or cannot be created.
"""

from __future__ import annotations

import argparse
import sys

from ledger_core.rollback import ProfilesSource
from ledger_core.rollback import executor as rollback
from ledger_core.sanitize import clean
from ledger_core.triage import export

from .new_file import write_new_file
from .output import fail, load_detail

EXIT_OK, EXIT_USAGE = 0, 2


def run_export(args: argparse.Namespace) -> int:
    detail = load_detail(args)
    plan = rollback.preview(detail, ProfilesSource.lookup(args.profiles), readonly=args.readonly)
    render = export.to_markdown if args.format == "markdown" else export.to_json
    text = render(detail, plan)
    if not args.output:
        sys.stdout.write(text)
        return EXIT_OK
    why = write_new_file(args.output, text, allow_force=False)
    if why:
        fail(f"{args.output}: the bundle was not written: {why}")
        return EXIT_USAGE
    print(f"ledgerx: incident bundle written to {clean(args.output, 500)}", file=sys.stderr)
    return EXIT_OK
