"""ledger_core: read, derive, plan and roll back SQLite operation ledgers.

A plain library (sqlite3, httpx, tomllib): it knows nothing of Textual or Rich. The CLI and
the TUI in ``tui`` are thin layers over what is exported here.
"""

from .derive import DEFAULT_STALE_AFTER, liveness, run_state, step_status
from .errors import (
    AmbiguousRunId,
    LedgerxError,
    PlanFileError,
    ProfilesError,
    RollbackRefused,
    RunNotFound,
    SourceError,
)
from .models import (
    Problem,
    RollbackAttempt,
    RunDetail,
    RunSummary,
    ScanResult,
    Step,
    StepCounts,
    WriterInfo,
)
from .plan import Plan, PlanAction, make_plan
from .profiles import Profile, Profiles, load_profiles
from .reader import load_run, read_run, read_steps_page, read_summaries, resolve_run, scan
from .sanitize import clean
from .sources import Sources
from .writer import LedgerWriter, open_readwrite

__all__ = [
    "DEFAULT_STALE_AFTER",
    "AmbiguousRunId",
    "LedgerWriter",
    "LedgerxError",
    "Plan",
    "PlanAction",
    "PlanFileError",
    "Problem",
    "Profile",
    "Profiles",
    "ProfilesError",
    "RollbackAttempt",
    "RollbackRefused",
    "RunDetail",
    "RunNotFound",
    "RunSummary",
    "ScanResult",
    "SourceError",
    "Sources",
    "Step",
    "StepCounts",
    "WriterInfo",
    "clean",
    "liveness",
    "load_profiles",
    "load_run",
    "make_plan",
    "open_readwrite",
    "read_run",
    "read_steps_page",
    "read_summaries",
    "resolve_run",
    "run_state",
    "scan",
    "step_status",
]
