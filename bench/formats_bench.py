"""Bench: listing a 1,000,000-event event-ledger file against the runner's 1,000,000-step file.

Part ``formats`` of ``make bench`` (``python -m bench --only formats``). The event file is
written once into ``bench/.data/formats`` (its own stamp, ``FORMATS_VERSION``); the runner's
file is the data set's ``big/big.db`` (10,000 runs / 1,000,000 steps). Both are listed with
``ledgerx list --format json --ledger FILE`` in fresh processes with an empty cache directory,
interleaved (runner, events, events, runner, ...) so load on a shared machine hits both alike.
Issue 9's bar: the event-ledger file lists no slower than the runner's file (≤ 1.0×).
``python -m bench.formats_bench [--reps N]`` runs this part alone, as before.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from .generate import DATA_DIR, DataSet, ensure_data
from .measure import Row, Series, cold, fmt, ledgerx, run_process

FORMATS_VERSION = 2  # bump to rewrite everyone's bench/.data/formats
EVENTS = 1_000_000
RUNS = 10_000
FORMATS_DIR = DATA_DIR / "formats"
EVENTS_FILE = FORMATS_DIR / "events-1m.db"
STAMP = FORMATS_DIR / "stamp.json"
# The tool's own schema and indexes (FORMATS.md, seed 003), newest version (all 12 columns).
_DDL = """
CREATE TABLE IF NOT EXISTS events (offset INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT UNIQUE NOT NULL, run_id TEXT NOT NULL, turn INTEGER NOT NULL, kind TEXT NOT NULL,
  actor TEXT NOT NULL, payload TEXT NOT NULL, created_at TEXT NOT NULL,
  schema_version INTEGER NOT NULL DEFAULT 1, session_id TEXT, model_profile TEXT, model_id TEXT);
CREATE INDEX IF NOT EXISTS idx_run_offset ON events(run_id, offset);
CREATE INDEX IF NOT EXISTS idx_kind ON events(kind);
CREATE INDEX IF NOT EXISTS idx_actor ON events(actor);
CREATE INDEX IF NOT EXISTS idx_session_id ON events(session_id);
CREATE INDEX IF NOT EXISTS idx_model_id ON events(model_id);
"""
_KINDS = ("world.observed", "agent.thought", "agent.spoke", "judge.verdict", "user.injected")
_ACTORS = ("world", "buyer", "seller", "judge", "user")


def _event_rows(rng: random.Random):
    """10,000 runs of 100 events, 20 runs at a time interleaved as a busy daemon appends them."""
    per_run = EVENTS // RUNS
    base = 1_775_000_000.0
    n = 0
    for block in range(0, RUNS, 20):
        for turn in range(per_run):
            for r in range(block, block + 20):
                n += 1
                if turn == 0:
                    kind, actor = "run.started", "orchestrator"
                elif turn == per_run - 1 and r % 10:
                    kind, actor = "run.finished", "orchestrator"  # every tenth run cut short
                else:
                    i = rng.randrange(len(_KINDS))
                    kind, actor = _KINDS[i], _ACTORS[i]
                moment = base + n * 0.25 + rng.random() * 0.2
                # Python's isoformat with +00:00, as the tool stamps its events.
                at = datetime.fromtimestamp(moment, UTC).isoformat()
                yield (f"evt-{n:07d}", f"run-{r:05d}", turn // 2, kind, actor,
                       '{"text": "..."}', at, 1,
                       f"sess-{r:05d}", "balanced", "claude-sonnet")  # fmt: skip


def build_events(path: Path) -> None:
    """Write the file the way the event-ledger tool does (FORMATS.md "how it writes").

    WAL and ``synchronous=NORMAL``, its schema and indexes, each event appended after its work;
    the tool commits per event, here one transaction per 10,000 events only to generate in
    seconds (the same rows and indexes). Closed cleanly, so no ``-wal`` is left and the
    header still says WAL, as the tool leaves a file it closed.
    """
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")  # two benches may race
    parts = (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm"))
    for leftover in parts:
        leftover.unlink(missing_ok=True)
    try:
        _write_events(tmp)
    except BaseException:
        for leftover in parts:
            leftover.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)


def _write_events(tmp: Path) -> None:
    conn = sqlite3.connect(tmp, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.executescript(_DDL)
    rows = _event_rows(random.Random(9))
    insert = (
        "INSERT INTO events (id, run_id, turn, kind, actor, payload, created_at, schema_version,"
        " session_id, model_profile, model_id) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
    )
    while True:
        chunk = [row for _, row in zip(range(10_000), rows, strict=False)]
        if not chunk:
            break
        conn.execute("BEGIN")
        conn.executemany(insert, chunk)
        conn.execute("COMMIT")
    conn.close()
    if Path(f"{tmp}-wal").exists():
        raise RuntimeError(f"{tmp}: closing left a -wal behind")


def _stamp() -> dict:
    return {"formats_version": FORMATS_VERSION, "events": EVENTS, "runs": RUNS}


def ensure_events(log=print) -> Path:
    """The 1M-event file, written first when missing or from another ``FORMATS_VERSION``."""
    try:
        stamp = json.loads(STAMP.read_text())
    except (OSError, ValueError):
        stamp = {}
    if stamp != _stamp() or not EVENTS_FILE.exists():
        log(f"writing {EVENTS_FILE} (formats v{FORMATS_VERSION}) …")
        started = time.perf_counter()
        FORMATS_DIR.mkdir(parents=True, exist_ok=True)
        STAMP.unlink(missing_ok=True)
        build_events(EVENTS_FILE)
        STAMP.write_text(json.dumps(_stamp(), indent=2))
        log(f"  written in {time.perf_counter() - started:.1f}s")
    return EVENTS_FILE


def _listed(cmd: list[str]) -> int:
    out = Path(tempfile.mkdtemp(prefix="ledgerx-bench-")) / "list.json"
    try:
        run_process(cmd, env={"LEDGERX_CACHE_DIR": "off"}, stdout=out)
        return len(json.loads(out.read_text()))
    finally:
        shutil.rmtree(out.parent, ignore_errors=True)


def bench_formats(data: DataSet, reps: int, log) -> tuple[list[Row], dict]:
    events = ensure_events(log)
    runner_cmd = ledgerx("list", "--format", "json", "--ledger", str(data.big_file))
    events_cmd = ledgerx("list", "--format", "json", "--ledger", str(events))
    for name, cmd in (("runner", runner_cmd), ("event-ledger", events_cmd)):
        listed = _listed(cmd)  # also brings the file into the page cache
        if listed != RUNS:
            raise RuntimeError(f"ledgerx list showed {listed} runs of the {name} file, not {RUNS}")
    log(f"list, 1M-event event-ledger file vs 1M-step runner file, cold ×{reps} each …")
    runner = Series("runner 1M-step file")
    event = Series("event-ledger 1M-event file")
    for i in range(reps):
        # ABBA order: a load that grows or fades during the run hits both sides alike.
        pair = [(runner, runner_cmd), (event, events_cmd)]
        for series, cmd in pair if i % 2 == 0 else pair[::-1]:
            series.samples.append(cold(cmd)(i))
    rows = [
        Row(
            "list 1M-event event-ledger file, cold",
            fmt(event),
            f"runner 1M-step file {fmt(runner)}",
            event.median / runner.median,
            "≤ 1.0×",
            event.median <= runner.median,
        )
    ]
    series = (runner, event)
    return rows, {
        "rss": {s.name: s.peak_rss_mb for s in series},
        "spread": {s.name: s.spread() for s in series},
    }


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.formats_bench", description=__doc__)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    log = lambda m: print(m, flush=True)  # noqa: E731
    rows, extra = bench_formats(ensure_data(log), args.reps, log)
    for row in rows:
        print(f"{row.name}: {row.value} vs {row.baseline}: {row.ratio:.2f}× {row.verdict}")
    for name, spread in extra["spread"].items():
        print(f"  {name}: min–max {spread} s, peak RSS {extra['rss'][name]:.0f} MB")
    print(f"  (medians of {args.reps} cold runs each)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
