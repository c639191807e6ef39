"""The demo: a local API to roll back against, ledgers of every format, and a world that keeps
moving.

The TUI and the CLI import from this package, not from its modules, e.g.
``from ledger_core.demo import DemoApi``. Names are loaded on first use, so importing one of them
does not import the rest (nor httpx, for the read-only commands).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy import loader

if TYPE_CHECKING:
    from .api import DemoApi
    from .data import LEDGERS_NAME, build_demo
    from .problems import write_problem_files
    from .world import DemoWorld, install_demo_faults

_EXPORTS = {
    "DemoApi": "api",
    "DemoWorld": "world",
    "LEDGERS_NAME": "data",
    "build_demo": "data",
    "install_demo_faults": "world",
    "write_problem_files": "problems",
}

__all__ = [
    "DemoApi",
    "DemoWorld",
    "LEDGERS_NAME",
    "build_demo",
    "install_demo_faults",
    "write_problem_files",
]

__getattr__ = loader(__name__, _EXPORTS)
