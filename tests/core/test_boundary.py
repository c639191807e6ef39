"""STYLE rule 1: ledger_core never imports textual, rich or tui (checked in a fresh process)."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import ledger_core

REPO = Path(__file__).resolve().parents[2]

PROBE = """
import importlib, json, pkgutil, sys
import ledger_core
names = [m.name for m in pkgutil.walk_packages([sys.argv[1]], "ledger_core.")]
for name in names:
    importlib.import_module(name)
ui = sorted(m for m in sys.modules if m.split(".")[0] in ("textual", "rich", "tui"))
print(json.dumps({"modules": names, "ui": ui}))
"""


def test_ledger_core_imports_no_ui_package():
    package_dir = str(REPO / "ledger_core")
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, package_dir],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    expected = {m.name for m in pkgutil.walk_packages(ledger_core.__path__, "ledger_core.")}
    core = {"ledger_core.ledgers.reader", "ledger_core.rollback.executor", "ledger_core.derive"}
    assert set(report["modules"]) == expected and core <= expected
    assert report["ui"] == [], f"ledger_core pulled in UI modules: {report['ui']}"
