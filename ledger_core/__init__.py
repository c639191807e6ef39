"""ledger_core: read, derive, plan and roll back SQLite operation ledgers.

A plain library (sqlite3, httpx, tomllib): it knows nothing of Textual or Rich. The CLI and
the TUI in ``tui`` are thin layers over what is exported here.
"""

from .advice import Advice
from .derive import (
    DEFAULT_STALE_AFTER,
    VERDICTS,
    judge_liveness,
    liveness,
    needs_attention,
    run_state,
    step_status,
    verdict,
)
from .errors import (
    AmbiguousRunId,
    LedgerxError,
    PlanFileError,
    ProfilesError,
    ResolutionRefused,
    RollbackRefused,
    RunNotFound,
    SourceError,
)
from .holders import HoldCheck, Holder
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
from .profiles import Profile, Profiles, ProfileSnapshot, ProfilesSource, load_profiles
from .reader import load_run, read_run, read_steps_page, read_summaries, resolve_run, scan
from .resolutions import Resolution
from .resolutions import record as record_resolution
from .sanitize import clean
from .sources import Sources
from .writer import LedgerWriter, open_readwrite

# Rollback and demo pull in httpx; load them on first use so read-only commands start fast.
_LAZY = {
    "preview": "rollback",
    "check_refusal": "rollback",
    "recheck": "rollback",
    "execute": "rollback",
    "RollbackProgress": "rollback",
    "RollbackResult": "rollback",
    "DemoApi": "demo_api",
    "build_demo": "demo_data",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ledger_core' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f".{module}", __name__), name)


__all__ = [
    "DemoApi",
    "RollbackProgress",
    "RollbackResult",
    "build_demo",
    "check_refusal",
    "recheck",
    "execute",
    "preview",
    "DEFAULT_STALE_AFTER",
    "VERDICTS",
    "Advice",
    "HoldCheck",
    "Holder",
    "judge_liveness",
    "needs_attention",
    "verdict",
    "AmbiguousRunId",
    "LedgerWriter",
    "LedgerxError",
    "Plan",
    "PlanAction",
    "PlanFileError",
    "Problem",
    "Profile",
    "Profiles",
    "ProfileSnapshot",
    "ProfilesSource",
    "ProfilesError",
    "Resolution",
    "ResolutionRefused",
    "record_resolution",
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
