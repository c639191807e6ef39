"""Rollback: the plan, the profiles that allow or refuse it, the executor that sends DELETEs, and
the only writes ledgerx makes to a ledger or a file.

The TUI and the CLI import from this package, not from its modules, e.g.
``from ledger_core.rollback import CANNOT``. Names are loaded on first use, so importing one of them
does not import the rest (nor httpx, for the read-only commands).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .plan import CANNOT, DOUBT, NO_ROLLBACK_FOR_FORMAT, NOTHING, UNDO, Plan, PlanAction
    from .profiles import Profiles, ProfilesSource, load_profiles

_EXPORTS = {
    "CANNOT": "plan",
    "DOUBT": "plan",
    "NO_ROLLBACK_FOR_FORMAT": "plan",
    "NOTHING": "plan",
    "Plan": "plan",
    "PlanAction": "plan",
    "Profiles": "profiles",
    "ProfilesSource": "profiles",
    "UNDO": "plan",
    "load_profiles": "profiles",
}

__all__ = [
    "CANNOT",
    "DOUBT",
    "NO_ROLLBACK_FOR_FORMAT",
    "NOTHING",
    "Plan",
    "PlanAction",
    "Profiles",
    "ProfilesSource",
    "UNDO",
    "load_profiles",
]


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
