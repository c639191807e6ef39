"""``ledger_core``'s public names load on first use: all resolve, and importing costs nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import ledger_core

REPO = Path(__file__).resolve().parents[2]

# Checked in a fresh process: this one has long imported everything.
PROBE = """
import json, sys
import ledger_core
loaded = sorted(m for m in sys.modules if m.startswith("ledger_core.") or m in {"httpx", "rich",
    "textual", "sqlite3", "tomllib", "ledger_core.rollback.plan"})
print(json.dumps(loaded))
"""


def _fresh(code: str) -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.parametrize("name", ledger_core.__all__)
def test_every_exported_name_resolves(name):
    value = getattr(ledger_core, name)
    assert value is not None
    assert name in dir(ledger_core)


def test_from_import_of_every_name_and_the_old_aliases():
    from ledger_core import Sources, make_plan, record_resolution, scan  # noqa: F401
    from ledger_core.triage.resolutions import record

    assert record_resolution is record
    assert scan.__module__ == "ledger_core.ledgers.reader"


def test_submodules_still_reachable_as_attributes():
    import ledger_core as package

    assert package.derive.DEFAULT_STALE_AFTER == package.DEFAULT_STALE_AFTER


def test_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no_such_name"):
        ledger_core.no_such_name  # noqa: B018
    with pytest.raises(ImportError):
        exec("from ledger_core import no_such_name")


def test_import_ledger_core_loads_no_submodule_nor_httpx_nor_sqlite():
    assert _fresh(PROBE) == []


def test_cli_parser_and_version_load_neither_rich_nor_the_planner():
    code = (
        "import json, sys\n"
        "from tui.cli.main import build_parser\n"
        "build_parser().parse_args(['search', 'x'])\n"
        "heavy = {'rich', 'textual', 'httpx', 'ledger_core.rollback.plan',"
        " 'ledger_core.rollback.profiles',"
        " 'ledger_core.ledgers.reader', 'ledger_core.derive', 'importlib.metadata'}\n"
        "print(json.dumps(sorted(heavy & set(sys.modules))))\n"
    )
    assert _fresh(code) == []


def test_search_command_loads_no_ui_and_no_verdict_rules():
    code = (
        "import json, sys\n"
        "import tui.cli.search_command\n"
        "heavy = {'rich', 'textual', 'httpx', 'ledger_core.rollback.plan',"
        " 'ledger_core.rollback.profiles',"
        " 'ledger_core.ledgers.reader', 'ledger_core.derive', 'ledger_core.ledgers.scanner'}\n"
        "print(json.dumps(sorted(heavy & set(sys.modules))))\n"
    )
    assert _fresh(code) == []


def test_every_package_exports_resolve_and_unknown_names_are_attribute_errors():
    import ledger_core.demo
    import ledger_core.ledgers
    import ledger_core.rollback
    import ledger_core.triage

    for package in (
        ledger_core.demo,
        ledger_core.ledgers,
        ledger_core.rollback,
        ledger_core.triage,
    ):
        for name in package.__all__:
            assert getattr(package, name) is not None, (package.__name__, name)
        try:
            package.no_such_name  # noqa: B018
        except AttributeError as exc:
            assert "no_such_name" in str(exc)
        else:
            raise AssertionError(f"{package.__name__}.no_such_name resolved")
