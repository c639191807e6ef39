"""Plain data the core hands to the CLI and the TUI: runs, steps, attempts, problems.

Every field holds the value as stored (untrusted text included); display layers pass text
through ``sanitize.clean`` and render it without markup.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from .advice import Advice, render_all

if TYPE_CHECKING:
    from .ledgers.holders import Holder

STEP_STATUSES = (
    "committed",
    "failed",
    "in_doubt",
    "rolled_back",
    "rollback_skipped",
    "rollback_failed",
    "skipped",
    "unknown",
)


@dataclass(frozen=True, slots=True)
class StepCounts:
    """How many steps of a run have each derived status."""

    committed: int = 0
    failed: int = 0
    in_doubt: int = 0
    rolled_back: int = 0
    rollback_skipped: int = 0
    rollback_failed: int = 0
    skipped: int = 0
    unknown: int = 0

    @property
    def total(self) -> int:
        return sum(getattr(self, name) for name in STEP_STATUSES)

    @property
    def doubtful(self) -> int:
        """Steps that may or may not have landed: in doubt, or of a status nobody can read
        (``unknown``). The verdict counts both as doubt; the lists' Doubt column does too."""
        return self.in_doubt + self.unknown

    def to_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in STEP_STATUSES}


@dataclass(frozen=True, slots=True)
class WriterInfo:
    """The process that recorded itself as writing a run (ledgerx's ``writer`` table)."""

    pid: int
    host: str
    proc_start: str | None
    started_at: str | None
    heartbeat_at: str | None
    closed_at: str | None = None

    def to_dict(self) -> dict[str, Any]:
        # Not dataclasses.asdict: it deep-copies, and 10,000 runs made it a tenth of `list`.
        return {
            "pid": self.pid,
            "host": self.host,
            "proc_start": self.proc_start,
            "started_at": self.started_at,
            "heartbeat_at": self.heartbeat_at,
            "closed_at": self.closed_at,
        }


@dataclass(frozen=True, slots=True)
class RunSummary:
    """One run as the runs list shows it: the run row, step counts and everything derived."""

    run_id: str
    source: str
    manifest_path: str | None
    manifest_hash: str | None
    profile: str | None
    environment: str | None
    company: str | None
    stamped_state: str | None
    started_at: str | None
    finished_at: str | None
    counts: StepCounts
    last_activity: str | None
    last_seq: int | None
    state: str
    liveness: str
    diagnosis: tuple[str, ...]
    writer: WriterInfo | None = None
    verdict: str = ""  # derive.verdict: what a person should conclude (set by the scanner)
    liveness_reason: str = ""  # one sentence: why the liveness is what it is
    holder: Holder | None = None  # another process seen holding the ledger open
    rollback_in_doubt: int = 0  # rollback DELETEs without an answer, step not since undone
    advice: tuple[Advice, ...] = ()  # what to do next, worded per surface by ``sentences``
    # Which ledger format the run was read from (``formats``) and that format's own words
    # (a cr run's PR url, an outbox's consumer lag …) as (label, value) pairs.
    format: str = "bcli"
    extras: tuple[tuple[str, str], ...] = ()
    # In-doubt steps a person resolved (``resolutions``): (landed, did not land, still unknown).
    resolved: tuple[int, int, int] = (0, 0, 0)

    @property
    def step_count(self) -> int:
        return self.counts.total

    def sentences(self, surface: str) -> tuple[str, ...]:
        """The diagnosis facts, then the advice worded for ``surface`` (``cli`` or ``tui``)."""
        return self.diagnosis + render_all(self.advice, surface)

    @property
    def unresolved_doubt(self) -> int:
        """Steps that may or may not have landed and that nobody resolved as landed or not."""
        doubt = self.counts.in_doubt + self.counts.unknown
        return max(0, doubt - self.resolved[0] - self.resolved[1])

    @property
    def stamp_mismatch(self) -> bool:
        """True when the stamped state is not the derived one (a stale or wrong stamp)."""
        return self.stamped_state is not None and self.stamped_state != self.state

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "source": self.source,
            "verdict": self.verdict or self.state,
            "state": self.state,
            "stamped_state": self.stamped_state,
            "stamp_mismatch": self.stamp_mismatch,
            "liveness": self.liveness,
            "liveness_reason": self.liveness_reason,
            "holder": self.holder.to_dict() if self.holder else None,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "last_activity": self.last_activity,
            "profile": self.profile,
            "environment": self.environment,
            "company": self.company,
            "manifest_path": self.manifest_path,
            "manifest_hash": self.manifest_hash,
            "step_count": self.step_count,
            "counts": self.counts.to_dict(),
            "rollback_in_doubt": self.rollback_in_doubt,
            "diagnosis": list(self.sentences("cli")),
            "advice": [a.to_dict() for a in self.advice],
            "writer": self.writer.to_dict() if self.writer else None,
            "format": self.format,
            "extras": dict(self.extras),
            "resolved": dict(zip(("landed", "not_landed", "unknown"), self.resolved, strict=True)),
        }


@dataclass(frozen=True, slots=True)
class Step:
    """One step row plus its derived status and latency (``step_id`` None: not an integer)."""

    step_id: int | None
    seq: int | None
    method: str | None
    url: str | None
    body_hash: str | None
    intent_ts: str | None
    outcome_ts: str | None
    status: str | None
    derived_status: str
    latency_ms: float | None
    bc_correlation_id: str | None
    error_message: str | None
    rollback_url: str | None
    # As on RunSummary: the format, and its own words for this step (a cr action's
    # ``action_id`` and ``upstream_id``, an event's turn, kind and actor …).
    format: str = "bcli"
    extras: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "step_id": self.step_id,
            "seq": self.seq,
            "method": self.method,
            "url": self.url,
            "body_hash": self.body_hash,
            "intent_ts": self.intent_ts,
            "outcome_ts": self.outcome_ts,
            "status": self.status,
            "derived_status": self.derived_status,
            "latency_ms": self.latency_ms,
            "bc_correlation_id": self.bc_correlation_id,
            "error_message": self.error_message,
            "rollback_url": self.rollback_url,
            "format": self.format,
            "extras": dict(self.extras),
        }


@dataclass(frozen=True, slots=True)
class RollbackAttempt:
    """One recorded rollback DELETE (ledgerx's ``rollback_attempt`` table); ids are None when
    the stored value is not an integer."""

    attempt_id: int | None
    step_id: int | None
    method: str
    url: str
    intent_ts: str
    outcome_ts: str | None
    http_status: int | None
    result: str | None
    error_message: str | None
    pid: int | None = None
    host: str | None = None

    @property
    def in_doubt(self) -> bool:
        """An attempt whose answer never came: the DELETE may or may not have landed."""
        return self.outcome_ts is None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"in_doubt": self.in_doubt}


@dataclass(frozen=True, slots=True)
class RunDetail:
    """A whole run: its summary, every step in order, and its rollback attempts."""

    summary: RunSummary
    steps: tuple[Step, ...]
    attempts: tuple[RollbackAttempt, ...] = ()
    resolutions: tuple[Any, ...] = ()  # resolutions.Resolution, oldest first (the audit trail)

    def attempts_for(self, step_id: int) -> list[RollbackAttempt]:
        return [a for a in self.attempts if a.step_id == step_id]

    def to_dict(self) -> dict[str, Any]:
        return self.summary.to_dict() | {
            "steps": [s.to_dict() for s in self.steps],
            "rollback_attempts": [a.to_dict() for a in self.attempts],
            "resolutions": [r.to_dict() for r in self.resolutions],
        }


@dataclass(frozen=True, slots=True)
class Problem:
    """A file in the sources that could not be used, and why, in words."""

    path: str
    kind: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "status": self.kind, "reason": self.reason}


@dataclass(slots=True)
class ScanResult:
    """What a scan of the sources found: the runs, newest first, and the unusable files."""

    runs: list[RunSummary] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    files_ok: list[str] = field(default_factory=list)
