"""The scanner's worker processes never outlive a ledgerx killed with SIGKILL.

A killed parent cannot shut its pool down; its workers used to wait forever on a pipe the other
workers hold open, keeping ledgers open on the operator's machine. Real processes, real signal.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ledger_core.ledgers import scanner
from tests.conftest import REPO
from tests.ledger_factory import RunSpec, StepSpec, make_ledger


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            text = Path(f"/proc/{pid}/task/{task}/children").read_text()
        except OSError:
            continue
        found |= {int(n) for n in text.split()}
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")  # an orphan's zombie is its reaper's business


@pytest.mark.skipif(
    not Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").exists(),
    reason="needs Linux's /proc/PID/task/TID/children",
)
def test_workers_of_a_search_killed_with_sigkill_end_soon(tmp_path):
    ledgers = tmp_path / "ledgers"
    ledgers.mkdir()
    first = make_ledger(
        ledgers / "r-0000.db",
        [
            RunSpec(
                "r-0000", steps=[StepSpec.failed(n, error_message=f"e{n}") for n in range(1, 30)]
            )
        ],
    )
    for n in range(1, 1200):  # enough for the worker processes and a second or two of reading
        shutil.copyfile(first, ledgers / f"r-{n:04d}.db")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGERX_")}
    env["LEDGERX_CACHE_DIR"] = str(tmp_path / "cache")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui.cli.main", "search", "nowhere", "--ledger-dir", ledgers],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    workers: set[int] = set()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None and len(workers) < 2:
        workers |= _children(proc.pid)
        time.sleep(0.02)
    assert workers, "the search never started its worker processes"
    time.sleep(0.2)  # the workers are busy reading
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    deadline = time.monotonic() + 5 + 4 * scanner.PARENT_CHECK_SECONDS
    while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
        time.sleep(0.05)
    left = [pid for pid in workers if _alive(pid)]
    for pid in left:  # never leave them behind, even when the test fails
        os.kill(pid, signal.SIGKILL)
    assert left == [], "worker processes outlived their killed parent"
