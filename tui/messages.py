"""Small Messages that carry results from worker threads back to the UI thread."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from ledger_core.ledgers import Changes
from ledger_core.models import RunDetail, RunSummary


@dataclass
class SourcesScanned(Message):
    """A (possibly partial) scan of the sources finished: every run and problem known so far."""

    changes: Changes


@dataclass
class ScanFailed(Message):
    """The scan itself failed unexpectedly (not a bad file: those are problems)."""

    reason: str


@dataclass
class RunDetailRead(Message):
    """A run was read whole for ``purpose`` (e.g. ``"rollback"``)."""

    detail: RunDetail
    purpose: str


@dataclass
class RunDetailFailed(Message):
    """Reading a run whole failed; ``reason`` is untrusted text (it may quote a path)."""

    summary: RunSummary
    reason: str
