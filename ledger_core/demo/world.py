"""Keep a running demo moving: new batches start, now and then one is killed mid-request.

``ledgerx --demo`` is judged in its first two minutes. A still list tells nothing, so while the
demo runs a ``DemoWorld`` starts a new batch every 20–30 s in a real writer subprocess, paced
at a human speed; every few batches the writer SIGKILLs itself after a request was answered and
before its outcome was recorded (a real crash, with a step in doubt), so the operator sees a run
appear, a crash happen and its verdict turn. Writers end with the process that started them.

``install_demo_faults`` makes the demo API misbehave for two runs' rollbacks, once each: a
DELETE of the nordics import answers 500 (a failed step, which a retry then undoes), and a
DELETE of the crashed journal hangs past the profile's timeout (a step in doubt, which a resume
then sends again; 404 counts as done).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from .data import COMPANIES, _Builder, _worker_env

DEFAULT_INTERVAL = (20.0, 30.0)
DEFAULT_PACE = (0.8, 2.2)


class DemoWorld:
    """A thread that starts a batch every ``interval`` seconds; every ``crash_every``-th dies.

    ``started`` and ``crashed`` hold the run ids begun so far (``crashed`` ⊆ ``started``).
    ``stop()`` ends the thread and kills every writer still running (idempotent).
    """

    def __init__(
        self,
        ledger_dir: str | Path,
        base_url: str,
        *,
        interval: tuple[float, float] = DEFAULT_INTERVAL,
        pace: tuple[float, float] = DEFAULT_PACE,
        crash_every: int = 3,
        seed: int | None = None,
    ) -> None:
        self.ledger_dir = Path(ledger_dir)
        self.base_url = base_url
        self.interval = interval
        self.pace = pace
        self.crash_every = max(1, crash_every)
        self.rng = random.Random(seed)
        self.started: list[str] = []
        self.crashed: list[str] = []
        self.error: str | None = None
        self._seed = self.rng.getrandbits(32)
        self._stop = threading.Event()
        self._procs: list[subprocess.Popen] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def start(self) -> DemoWorld:
        self._thread = threading.Thread(target=self._loop, name="demo world", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        with self._lock:
            procs, self._procs = self._procs, []
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=10)

    def __enter__(self) -> DemoWorld:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- the loop ------------------------------------------------------------------------------

    def _loop(self) -> None:
        try:
            builder = _Builder(self.base_url, self.ledger_dir, self._seed, time.time())
            try:
                builder.setup()
                while not self._stop.wait(self.rng.uniform(*self.interval)):
                    self._reap()
                    self._begin(builder)
            finally:
                builder.client.close()
        except Exception as exc:  # noqa: BLE001 - a demo world that stops must not kill the demo
            self.error = f"{type(exc).__name__}: {exc}"

    def _reap(self) -> None:
        with self._lock:
            self._procs = [p for p in self._procs if p.poll() is None]

    def _begin(self, b: _Builder) -> None:
        company = self.rng.choice(COMPANIES)
        number = len(self.started) + 1
        kind = number % 3
        if kind == 0:
            ops, manifest = b.sales_orders(company[1], self.rng.randint(3, 5)), "sales/import"
        elif kind == 1:
            ops, manifest = b.onboarding(company[1], self.rng.randint(5, 9)), "customers/onboarding"
        else:
            ops, manifest = b.journal(company[1], self.rng.randint(4, 8)), "finance/accruals"
        spec = b.spec(
            ops,
            company=company,
            profile="sandbox",
            manifest=f"manifests/{manifest}-live-{number}.yaml",
            start=None,
        )
        spec["pace"] = list(self.pace)
        spec["parent_pid"] = os.getpid()
        crash = number % self.crash_every == 0
        if crash:
            # Die after a POST was answered, before its outcome: a step in doubt whose record
            # really exists on the server.
            posts = [s["seq"] for s in spec["steps"] if s["method"] == "POST"]
            spec["die"] = {"mode": "after_send", "seq": posts[len(posts) * 2 // 3]}
        proc = subprocess.Popen(
            [sys.executable, "-m", "ledger_core.demo.data", "--worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            text=True,
            env=_worker_env(),
        )
        assert proc.stdin is not None
        proc.stdin.write(json.dumps(spec))
        proc.stdin.close()
        run_id = spec["run"]["run_id"]
        with self._lock:
            self._procs.append(proc)
            self.started.append(run_id)
            if crash:
                self.crashed.append(run_id)


def _rollback_paths(ledger_dir: Path, run_id: str) -> list[str]:
    """The paths the run's rollback will DELETE, in the order it sends them (newest first)."""
    from ..ledgers.reader import read_run

    detail = read_run(ledger_dir / f"{run_id}.db", run_id)
    steps = sorted(detail.steps, key=lambda s: s.seq or 0, reverse=True)
    return [
        urlsplit(s.rollback_url).path
        for s in steps
        if s.derived_status == "committed" and (s.method or "").upper() == "POST" and s.rollback_url
    ]


def install_demo_faults(api, ledger_dir: Path, runs: dict[str, str], timeout: float) -> list[str]:
    """Make ``api`` fail one DELETE of the ``partial_failure`` run (500) and hang one DELETE of
    the ``crashed_between`` run past ``timeout`` seconds, once each. Returns the paths chosen.

    The second DELETE of each rollback misbehaves, so the first is seen to land before it.
    """
    chosen: list[str] = []
    failing = _rollback_paths(Path(ledger_dir), runs["partial_failure"])
    if len(failing) >= 2:
        body = json.dumps(
            {"error": {"code": "Internal_ServerError", "message": "The service is busy."}}
        )
        api.fault(failing[1], "status", method="DELETE", status=500, body=body, times=1)
        chosen.append(failing[1])
    hanging = _rollback_paths(Path(ledger_dir), runs["crashed_between"])
    if len(hanging) >= 2:
        api.fault(hanging[1], "hang", method="DELETE", seconds=timeout + 1.5, times=1)
        chosen.append(hanging[1])
    return chosen
