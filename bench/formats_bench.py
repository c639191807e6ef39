"""Bench: listing a 1,000,000-event event-ledger file against the runner's 1,000,000-step file.

``python -m bench.formats_bench [--reps N]`` writes both files into ``bench/.data`` (once), then
times ``ledgerx list --format json --ledger FILE`` cold (no summary cache) on each and prints
the medians. Issue 9's bar: the event-ledger file lists no slower than the runner's file.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

from .generate import DATA_DIR, _build_big

EVENTS = 1_000_000
RUNS = 10_000
EVENTS_FILE = DATA_DIR / "formats" / "events-1m.db"
RUNNER_FILE = DATA_DIR / "formats" / "runner-1m.db"
_DDL = """
PRAGMA journal_mode=WAL;
CREATE TABLE events (offset INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL,
  run_id TEXT NOT NULL, turn INTEGER NOT NULL, kind TEXT NOT NULL, actor TEXT NOT NULL,
  payload TEXT NOT NULL, created_at TEXT NOT NULL, schema_version INTEGER NOT NULL DEFAULT 1,
  session_id TEXT, model_profile TEXT, model_id TEXT);
CREATE INDEX idx_run_offset ON events(run_id, offset);
CREATE INDEX idx_kind ON events(kind);
CREATE INDEX idx_actor ON events(actor);
CREATE INDEX idx_session_id ON events(session_id);
CREATE INDEX idx_model_id ON events(model_id);
"""
_KINDS = ("world.observed", "agent.thought", "agent.spoke", "judge.verdict", "user.injected")


def _build_events(path: Path) -> None:
    """10,000 runs of 100 events, interleaved in runs of 20 as a busy daemon writes them."""
    rng = random.Random(9)
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    conn = sqlite3.connect(tmp)
    conn.executescript(_DDL)
    per_run = EVENTS // RUNS
    base = 1_775_000_000.0

    def rows():
        n = 0
        for block in range(0, RUNS, 20):
            for turn in range(per_run):
                for r in range(block, block + 20):
                    n += 1
                    if turn == 0:
                        kind = "run.started"
                    elif turn == per_run - 1 and r % 10:
                        kind = "run.finished"  # every tenth run was cut short
                    else:
                        kind = rng.choice(_KINDS)
                    at = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(base + n * 0.25))
                    yield (f"evt-{n}", f"run-{r:05d}", turn // 2, kind, "agent", "{}",
                           f"{at}.{n % 1_000_000:06d}+00:00")  # fmt: skip

    conn.executemany(
        "INSERT INTO events (id, run_id, turn, kind, actor, payload, created_at) "
        "VALUES (?,?,?,?,?,?,?)",
        rows(),
    )
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.execute("PRAGMA journal_mode=DELETE")
    conn.close()
    os.replace(tmp, path)


def ensure() -> None:
    EVENTS_FILE.parent.mkdir(parents=True, exist_ok=True)
    if not EVENTS_FILE.exists():
        print(f"writing {EVENTS_FILE} …", flush=True)
        _build_events(EVENTS_FILE)
    if not RUNNER_FILE.exists():
        print(f"writing {RUNNER_FILE} …", flush=True)
        _build_big(RUNNER_FILE, socket.gethostname())


def _time_list(path: Path) -> float:
    env = dict(os.environ, LEDGERX_CACHE_DIR="off")
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "tui.cli.main", "list", "--format", "json", "--ledger", str(path)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"list failed on {path}: {proc.stderr.decode()[:500]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    ensure()
    runner, events = [], []
    for _ in range(args.reps):  # interleaved, so load on a shared machine hits both alike
        runner.append(_time_list(RUNNER_FILE))
        events.append(_time_list(EVENTS_FILE))
    r, e = statistics.median(runner), statistics.median(events)
    print(f"list runner 1M-step file, cold:       median {r:.3f}s  {sorted(runner)}")
    print(f"list event-ledger 1M-event file, cold: median {e:.3f}s  {sorted(events)}")
    print(f"ratio event-ledger / runner: {e / r:.2f} ({'PASS' if e <= r else 'FAIL'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
