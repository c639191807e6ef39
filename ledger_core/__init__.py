"""ledger_core: read, derive, plan and roll back SQLite operation ledgers.

A plain library (sqlite3, httpx, tomllib): it knows nothing of Textual or Rich. The CLI and
the TUI in ``tui`` are thin layers over what is exported here.

Every name is loaded on first use (PEP 562): ``import ledger_core`` imports no submodule, so
``ledgerx --version`` or a search does not pay for the planner, the profiles or httpx.
``from ledger_core import X`` and ``ledger_core.X`` work as if everything had been imported;
so do submodules (``ledger_core.derive``).
"""

from __future__ import annotations

from importlib import import_module

# Public name -> (submodule, name there).
_EXPORTS: dict[str, tuple[str, str]] = {
    "Advice": ("advice", "Advice"),
    "DEFAULT_STALE_AFTER": ("derive", "DEFAULT_STALE_AFTER"),
    "VERDICTS": ("derive", "VERDICTS"),
    "judge_liveness": ("derive", "judge_liveness"),
    "liveness": ("derive", "liveness"),
    "needs_attention": ("derive", "needs_attention"),
    "run_state": ("derive", "run_state"),
    "step_status": ("derive", "step_status"),
    "verdict": ("derive", "verdict"),
    "AmbiguousRunId": ("errors", "AmbiguousRunId"),
    "LedgerxError": ("errors", "LedgerxError"),
    "PlanFileError": ("errors", "PlanFileError"),
    "ProfilesError": ("errors", "ProfilesError"),
    "ResolutionRefused": ("errors", "ResolutionRefused"),
    "RollbackRefused": ("errors", "RollbackRefused"),
    "RunNotFound": ("errors", "RunNotFound"),
    "SourceError": ("errors", "SourceError"),
    "HoldCheck": ("ledgers.holders", "HoldCheck"),
    "Holder": ("ledgers.holders", "Holder"),
    "Problem": ("models", "Problem"),
    "RollbackAttempt": ("models", "RollbackAttempt"),
    "RunDetail": ("models", "RunDetail"),
    "RunSummary": ("models", "RunSummary"),
    "ScanResult": ("models", "ScanResult"),
    "Step": ("models", "Step"),
    "StepCounts": ("models", "StepCounts"),
    "WriterInfo": ("models", "WriterInfo"),
    "Plan": ("rollback.plan", "Plan"),
    "PlanAction": ("rollback.plan", "PlanAction"),
    "make_plan": ("rollback.plan", "make_plan"),
    "Profile": ("rollback.profiles", "Profile"),
    "Profiles": ("rollback.profiles", "Profiles"),
    "ProfileSnapshot": ("rollback.profiles", "ProfileSnapshot"),
    "ProfilesSource": ("rollback.profiles", "ProfilesSource"),
    "load_profiles": ("rollback.profiles", "load_profiles"),
    "load_run": ("ledgers.reader", "load_run"),
    "read_run": ("ledgers.reader", "read_run"),
    "read_steps_page": ("ledgers.reader", "read_steps_page"),
    "read_summaries": ("ledgers.reader", "read_summaries"),
    "resolve_run": ("ledgers.reader", "resolve_run"),
    "scan": ("ledgers.reader", "scan"),
    "Resolution": ("triage.resolutions", "Resolution"),
    "record_resolution": ("triage.resolutions", "record"),
    "clean": ("sanitize", "clean"),
    "Sources": ("ledgers.sources", "Sources"),
    "LedgerWriter": ("rollback.writer", "LedgerWriter"),
    "open_readwrite": ("rollback.writer", "open_readwrite"),
    "preview": ("rollback.executor", "preview"),
    "check_refusal": ("rollback.executor", "check_refusal"),
    "recheck": ("rollback.executor", "recheck"),
    "execute": ("rollback.executor", "execute"),
    "RollbackProgress": ("rollback.executor", "RollbackProgress"),
    "RollbackResult": ("rollback.executor", "RollbackResult"),
    "DemoApi": ("demo.api", "DemoApi"),
    "build_demo": ("demo.data", "build_demo"),
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> object:
    target = _EXPORTS.get(name)
    if target is None:
        # ``ledger_core.derive`` worked when this file imported everything: keep it working.
        try:
            return import_module(f".{name}", __name__)
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise  # the submodule exists but something it imports is missing
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    module, attr = target
    value = getattr(import_module(f".{module}", __name__), attr)
    globals()[name] = value  # the next access is a plain module attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
