"""Rollback refuses while another process holds the ledger open, whatever the timestamps say.

The liveness probe (``ledger_core.holders``: another process's read lock on the ``-shm`` file)
makes such a run ``alive``; these tests hold a ledger open from a real second process. They
run once that probe is part of ``ledger_core``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from ledger_factory import dir_state
from rollback_servers import RUN_ID, rollback_ledger, write_profiles

from ledger_core import rollback
from ledger_core.demo_api import DemoApi
from ledger_core.errors import RollbackRefused
from ledger_core.reader import read_run

pytest.importorskip("ledger_core.holders", reason="the -shm holder probe is not merged yet")

HOLD_OPEN = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA journal_mode=WAL")
conn.execute("SELECT COUNT(*) FROM step").fetchone()
print("open", flush=True)
sys.stdin.readline()  # hold the ledger open until told to stop
conn.close()
"""


def _data(directory: Path) -> dict[str, bytes]:
    # The -shm file is SQLite's shared lock index (readers mark it), not ledger data.
    return {k: v for k, v in dir_state(directory).items() if not k.endswith("-shm")}


@pytest.fixture
def api():
    with DemoApi() as server:
        yield server


async def test_a_ledger_held_open_by_another_process_is_refused(tmp_path: Path, api):
    path = tmp_path / "ledgers" / f"{RUN_ID}.db"
    path.parent.mkdir()
    rollback_ledger(path, api, 2, finished=False)  # old timestamps: "stale" by the clock
    profiles = write_profiles(tmp_path / "p.toml", api.base_url)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_OPEN, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "open"
        plan = rollback.preview(read_run(path, RUN_ID), profiles)
        assert plan.refusal_code == "run_alive", plan.refusal
        before = _data(path.parent)
        with pytest.raises(RollbackRefused) as info:
            await rollback.execute(plan, profiles)
        assert info.value.code == "run_alive"
        assert api.connections == 0 and _data(path.parent) == before
    finally:
        holder.communicate("\n", timeout=30)
    # Once the other process let go, the same run can be rolled back.
    plan = rollback.preview(read_run(path, RUN_ID), profiles)
    assert plan.refusal is None, plan.refusal
    result = await rollback.execute(plan, profiles)
    assert result.ok and api.connections > 0
