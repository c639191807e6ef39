"""Ledger formats: every SQLite ledger ledgerx reads, each behind one small interface.

    base.Format            recognise(schema) · read_raw · summarize · read_steps · capabilities
    ├── bcli               the batch runner's ledger (read by ``scanner``'s fast path; rollback)
    ├── cr                 the code-review tool's run ledger (seed 000)
    ├── agent_orchestrator the agent daemon's session store and outbox (seed 001)
    ├── event_ledger       the append-only event log (seed 003)
    └── mapping.MappedFormat  any other ledger, described by a TOML mapping file

``registry`` recognises a file's format from its schema and reads it; ``summary.build_summary``
is the one constructor of every non-runner ``RunSummary``.
"""

from .base import Capabilities, Format, Recognition, SchemaInfo
from .registry import (
    BUILTIN,
    BUILTIN_NAMES,
    RUNNER,
    all_formats,
    by_name,
    describe,
    detect,
    forget_mappings,
    mapped_formats,
    no_rollback,
)
from .summary import build_summary

__all__ = [
    "BUILTIN",
    "BUILTIN_NAMES",
    "RUNNER",
    "Capabilities",
    "Format",
    "Recognition",
    "SchemaInfo",
    "all_formats",
    "build_summary",
    "by_name",
    "describe",
    "detect",
    "forget_mappings",
    "mapped_formats",
    "no_rollback",
]
