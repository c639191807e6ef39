"""Reading ledgers safely: snapshots, SQLite's own locks, the runner's schema, scanning, the
summary cache and watching directories.

The TUI and the CLI import from this package, not from its modules, e.g.
``from ledger_core.ledgers import Changes``. Names are loaded on first use, so importing one of them
does not import the rest (nor httpx, for the read-only commands).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import loader

if TYPE_CHECKING:
    from .access import file_signature, read_regular_file, snapshot
    from .reader import read_attempts, read_resolutions, read_run, read_summaries, resolve_run, scan
    from .schema import RUN_STATES
    from .sources import Sources, ledger_files
    from .watch import Changes, SourceWatcher

_EXPORTS = {
    "Changes": "watch",
    "RUN_STATES": "schema",
    "SourceWatcher": "watch",
    "Sources": "sources",
    "file_signature": "access",
    "ledger_files": "sources",
    "read_attempts": "reader",
    "read_regular_file": "access",
    "read_resolutions": "reader",
    "read_run": "reader",
    "read_summaries": "reader",
    "resolve_run": "reader",
    "scan": "reader",
    "snapshot": "access",
}

__all__ = [
    "Changes",
    "RUN_STATES",
    "SourceWatcher",
    "Sources",
    "file_signature",
    "ledger_files",
    "read_attempts",
    "read_regular_file",
    "read_resolutions",
    "read_run",
    "read_summaries",
    "resolve_run",
    "scan",
    "snapshot",
]

__getattr__ = loader(__name__, _EXPORTS)
