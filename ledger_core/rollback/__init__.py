"""Rollback: the plan, the profiles that allow or refuse it, the executor that sends DELETEs, and
the only writes ledgerx makes to a ledger or a file.

The TUI and the CLI import from this package, not from its modules, e.g.
``from ledger_core.rollback import CANNOT``. Names are loaded on first use, so importing one of them
does not import the rest (nor httpx, for the read-only commands).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import loader

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

__getattr__ = loader(__name__, _EXPORTS)
