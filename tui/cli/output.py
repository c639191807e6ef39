"""Shared output helpers of the CLI: JSON to stdout only, messages to stderr, all sanitised."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ledger_core.derive import DEFAULT_STALE_AFTER
from ledger_core.sanitize import clean
from ledger_core.sources import Sources


def fail(message: str) -> None:
    """One line on stderr, control characters escaped."""
    print(f"ledgerx: {clean(message, 4000)}", file=sys.stderr)


def warn(message: str) -> None:
    print(f"ledgerx: warning: {clean(message, 4000)}", file=sys.stderr)


def emit_json(data: Any) -> None:
    """JSON on stdout, the only thing there. ``ensure_ascii`` keeps control bytes escaped."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=True) + "\n")


def sources_from(args: argparse.Namespace) -> Sources:
    return Sources.from_args(args.ledger_dir or (), args.ledger or ())


def stale_after_seconds(args: argparse.Namespace) -> float:
    minutes = getattr(args, "stale_after", None)
    return DEFAULT_STALE_AFTER if minutes is None else minutes * 60.0
