"""Shared output helpers of the CLI: JSON to stdout only, messages to stderr, all sanitised."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from ledger_core.derive import DEFAULT_STALE_AFTER
from ledger_core.errors import RunNotFound
from ledger_core.models import RunDetail
from ledger_core.reader import read_run, resolve_run, scan
from ledger_core.sanitize import clean, redact_urls
from ledger_core.sources import Sources


def fail(message: str) -> None:
    """One line on stderr, control characters escaped."""
    print(f"ledgerx: {clean(message, 4000)}", file=sys.stderr)


def warn(message: str) -> None:
    print(f"ledgerx: warning: {clean(message, 4000)}", file=sys.stderr)


def _dumps(data: Any, depth: int = 0) -> str:
    # json's C encoder only runs without ``indent``; indenting 10,000 runs or 100,000 steps
    # in pure Python takes seconds. So: one list item (run, step) per line, each compact.
    if depth < 2 and isinstance(data, list) and data:
        pad = "  " * (depth + 1)
        items = ",\n".join(pad + _dumps(item, depth + 1) for item in data)
        return f"[\n{items}\n{'  ' * depth}]"
    if depth == 0 and isinstance(data, dict) and data:
        items = ",\n".join(
            f"  {json.dumps(str(key), ensure_ascii=True)}: {_dumps(value, 1)}"
            for key, value in data.items()
        )
        return f"{{\n{items}\n}}"
    return json.dumps(data, ensure_ascii=True)


def emit_json(data: Any) -> None:
    """JSON on stdout, the only thing there. ``ensure_ascii`` keeps control bytes escaped, and
    a password in any URL is masked (``http://user:***@host``)."""
    sys.stdout.write(redact_urls(_dumps(data)) + "\n")


def piped_width(default: int) -> int:
    """Console width when not on a terminal: ``$COLUMNS`` if it is a positive number."""
    columns = os.environ.get("COLUMNS", "")
    return int(columns) if columns.isdigit() and int(columns) > 0 else default


def sources_from(args: argparse.Namespace) -> Sources:
    return Sources.from_args(args.ledger_dir or (), args.ledger or ())


def stale_after_seconds(args: argparse.Namespace) -> float:
    minutes = getattr(args, "stale_after", None)
    return DEFAULT_STALE_AFTER if minutes is None else minutes * 60.0


def load_detail(args: argparse.Namespace) -> RunDetail:
    """The run ``args.run`` names (id or unique prefix) in the sources, read whole.

    Raises ``RunNotFound`` naming the sources, and saying how many of them could not be read
    (the run may be in one of those), or ``AmbiguousRunId``.
    """
    sources = sources_from(args)
    stale_after = stale_after_seconds(args)
    result = scan(sources, stale_after=stale_after)
    try:
        summary = resolve_run(result.runs, args.run)
    except RunNotFound as exc:
        hint = ""
        if result.problems:
            hint = (
                f"; {len(result.problems)} source(s) could not be read "
                "(`ledgerx doctor` lists them)"
            )
        raise RunNotFound(f"{exc.message} in {sources.describe()}{hint}") from None
    return read_run(Path(summary.source), summary.run_id, stale_after=stale_after)
