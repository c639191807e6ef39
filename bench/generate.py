"""Build (and cache) the benchmark's ledgers: 10,000 per-run files, one huge file, one huge run.

Files are written in the writer's exact schema (``schema.RUNNER_DDL`` + ``WRITER_DDL`` and, for
rolled-back runs, ``ROLLBACK_DDL``), WAL mode like the runner, but with one bulk transaction per
file instead of the per-step autocommit path, so 10,000 files take seconds rather than minutes.
Every file is closed cleanly (no ``-wal`` left), exactly like a finished runner's ledger.
The data is cached under ``bench/.data/`` and rebuilt when ``GENERATOR_VERSION`` changes.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import socket
import sqlite3
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ledger_core.ledgers.schema import ROLLBACK_DDL, RUNNER_DDL, SCHEMA_VERSION, WRITER_DDL

GENERATOR_VERSION = 3  # bump to regenerate everyone's bench/.data
DATA_DIR = Path(__file__).resolve().parent / ".data"
FILES = 10_000
STEPS_PER_FILE = 20
BIG_RUNS = 10_000
BIG_STEPS = 1_000_000
HUGE_RUN_STEPS = 100_000
BASE = datetime(2026, 4, 1, tzinfo=UTC)
DEAD_PID = 2**22 + 12345  # a pid that cannot exist: crashed runs derive "dead" on this host
API = "https://api.example.test/v2.0/companies(ACME)"
ENTITIES = ("salesOrders", "customers", "items", "purchaseInvoices", "journalLines")

STEP_INSERT = (
    "INSERT INTO step (run_id, seq, intent_ts, method, url, body_hash, outcome_ts, status, "
    "bc_correlation_id, error_message, rollback_url) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
)
RUN_INSERT = "INSERT INTO run VALUES (?,?,?,?,?,?,?,?,?)"
WRITER_INSERT = (
    "INSERT INTO writer (run_id, pid, host, proc_start, started_at, heartbeat_at, closed_at) "
    "VALUES (?,?,?,?,?,?,?)"
)
ATTEMPT_INSERT = (
    "INSERT INTO rollback_attempt (run_id, step_id, method, url, plan_fingerprint, pid, host, "
    "intent_ts, outcome_ts, http_status, result, error_message) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
)

# (kind, weight): the mix of a support engineer's directory after a few weeks of batches.
MIX = (
    ("completed", 55),
    ("failed", 7),
    ("partial", 10),
    ("crashed_in_doubt", 12),
    ("crashed_between", 4),
    ("rolled_back", 8),
    ("running", 4),
)


@dataclass(frozen=True)
class DataSet:
    """Where the generated ledgers are."""

    root: Path
    many_dir: Path  # 10,000 per-run files
    runner_copy: Path  # a copy of many_dir for the runner-style baseline, which writes
    big_file: Path  # 10,000 runs, 1,000,000 steps
    huge_file: Path  # one run, 100,000 steps
    huge_run_id: str
    kinds: dict[str, int]


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _steps(
    rng: random.Random, run_id: str, kind: str, n: int, start: datetime, stop: int | None = None
) -> tuple[list[tuple], str, str | None, str | None]:
    """Step rows for one run of ``kind``; returns (rows, stamped state, finished_at, last_ts)."""
    rows: list[tuple] = []
    moment = start
    fail_at = rng.randrange(n // 3, n) if kind in ("failed", "partial") else -1
    if kind == "failed" and rng.random() < 0.5:
        fail_at = 0
    stop_at = rng.randrange(2, n) if kind.startswith("crashed") or kind == "running" else n
    stop_at = stop_at if stop is None else stop
    for seq in range(1, n + 1):
        if seq - 1 >= stop_at:
            break
        entity = ENTITIES[seq % len(ENTITIES)]
        roll = rng.random()
        method = "POST" if roll < 0.7 else "PATCH" if roll < 0.85 else "GET"
        url = f"{API}/{entity}" + ("" if method == "POST" else f"({seq:08d})")
        body = hashlib.blake2b(f"{run_id}/{seq}".encode(), digest_size=16).hexdigest()
        intent = moment
        moment += timedelta(milliseconds=rng.randrange(40, 900))
        outcome: str | None = _ts(moment)
        status: str | None = "committed"
        corr = f"{rng.getrandbits(64):016x}"
        error = None
        rollback = f"{API}/{entity}({rng.getrandbits(32):08x})" if method == "POST" else None
        last = seq == stop_at and stop_at < n
        if seq - 1 == fail_at:
            status, rollback = "failed", None
            error = f"HTTP 400: BadRequest/{entity}: the field No. must not be blank (seq {seq})"
        elif seq - 1 > fail_at >= 0:
            status, outcome, corr, rollback = "skipped", _ts(moment), None, None
        elif kind == "rolled_back":
            status = "rolled_back" if method == "POST" else "rollback_skipped"
        if last and kind == "crashed_in_doubt":
            outcome, status, corr, rollback = None, None, None, None
        rows.append(
            (run_id, seq, _ts(intent), method, url, body, outcome, status, corr, error, rollback)
        )
        moment += timedelta(milliseconds=rng.randrange(5, 60))
    last_ts = _ts(moment)
    if kind in ("completed",):
        return rows, "completed", last_ts, last_ts
    if kind == "failed":
        return rows, "failed", last_ts, last_ts
    if kind == "partial":
        return rows, "partially_committed", last_ts, last_ts
    if kind == "rolled_back":
        return rows, "rolled_back", _ts(moment + timedelta(minutes=30)), last_ts
    return rows, "running", None, last_ts


def _new_ledger(path: Path, with_rollback: bool) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    # synchronous is a connection setting, not stored in the file: OFF only speeds generation.
    conn.execute("PRAGMA synchronous=OFF")
    conn.executescript(RUNNER_DDL + WRITER_DDL + (ROLLBACK_DDL if with_rollback else ""))
    conn.execute("BEGIN")
    conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
    return conn


def _close(conn: sqlite3.Connection) -> None:
    conn.execute("COMMIT")
    # The last connection's close checkpoints and deletes -wal: a cleanly closed ledger.
    conn.close()


def _write_runs(
    conn: sqlite3.Connection,
    rng: random.Random,
    runs: list[tuple[str, str, datetime]],
    steps: int,
    host: str,
    stop: int | None = None,
) -> None:
    for run_id, kind, start in runs:
        rows, stamped, finished, last_ts = _steps(rng, run_id, kind, steps, start, stop)
        conn.execute(
            RUN_INSERT,
            (
                run_id,
                f"manifests/{run_id[:8]}-{kind}.json",
                "sha256:" + hashlib.sha256(run_id.encode()).hexdigest()[:16],
                "sandbox" if rng.random() < 0.7 else "production",
                rng.choice(("test", "staging", "prod")),
                rng.choice(("ACME", "Globex", "Initech", "Umbrella")),
                stamped,
                _ts(start),
                finished,
            ),
        )
        first = conn.execute("SELECT COALESCE(MAX(step_id), 0) FROM step").fetchone()[0] + 1
        conn.executemany(STEP_INSERT, rows)
        if kind == "running":
            writer = (run_id, DEAD_PID + 1, "batch-host-2.example", None, _ts(start), last_ts, None)
        else:
            closed = last_ts if kind not in ("crashed_in_doubt", "crashed_between") else None
            writer = (run_id, DEAD_PID, host, "123456", _ts(start), last_ts, closed)
        conn.execute(WRITER_INSERT, writer)
        if kind == "rolled_back":
            attempts = [
                (
                    run_id,
                    first + i,
                    "DELETE",
                    row[10],
                    "fp",
                    DEAD_PID,
                    host,
                    last_ts,
                    last_ts,
                    204,
                    "rolled_back",
                    None,
                )
                for i, row in enumerate(rows)
                if row[10]
            ]
            conn.executemany(ATTEMPT_INSERT, attempts)


def _kind(rng: random.Random) -> str:
    return rng.choices([k for k, _ in MIX], weights=[w for _, w in MIX])[0]


def _run_id(i: int, start: datetime) -> str:
    return f"{start:%Y%m%d-%H%M%S}-{i:05d}"


def _many_chunk(args: tuple[Path, int, int, str]) -> dict[str, int]:
    directory, lo, hi, host = args
    kinds: dict[str, int] = {}
    for i in range(lo, hi):
        rng = random.Random(i)
        kind = _kind(rng)
        kinds[kind] = kinds.get(kind, 0) + 1
        start = BASE + timedelta(minutes=7 * i, seconds=rng.randrange(60))
        run_id = _run_id(i, start)
        steps = rng.randrange(STEPS_PER_FILE - 5, STEPS_PER_FILE + 6)
        conn = _new_ledger(directory / f"{run_id}.db", kind == "rolled_back")
        _write_runs(conn, rng, [(run_id, kind, start)], steps, host)
        _close(conn)
    return kinds


def _build_many(directory: Path, host: str) -> dict[str, int]:
    directory.mkdir(parents=True)
    chunks = [(directory, lo, min(lo + 500, FILES), host) for lo in range(0, FILES, 500)]
    kinds: dict[str, int] = {}
    with ProcessPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        for part in pool.map(_many_chunk, chunks):
            for k, v in part.items():
                kinds[k] = kinds.get(k, 0) + v
    return kinds


def _build_big(path: Path, host: str) -> None:
    rng = random.Random(1_000_000)
    conn = _new_ledger(path, True)
    runs = []
    for i in range(BIG_RUNS):
        start = BASE + timedelta(minutes=7 * i, seconds=rng.randrange(60))
        runs.append((_run_id(i, start), _kind(rng), start))
    _write_runs(conn, rng, runs, BIG_STEPS // BIG_RUNS, host)
    _close(conn)


def _build_huge(path: Path, host: str) -> str:
    rng = random.Random(100_000)
    conn = _new_ledger(path, False)
    start = BASE + timedelta(days=60)
    run_id = _run_id(99_999, start)
    # A crashed bulk import: 100,000 steps, the last one in doubt.
    _write_runs(
        conn, rng, [(run_id, "crashed_in_doubt", start)], HUGE_RUN_STEPS + 1, host, HUGE_RUN_STEPS
    )
    _close(conn)
    return run_id


def _verify(path: Path) -> None:
    """A generated file is a sound WAL-mode schema-v1 ledger, as the runner leaves one."""
    header = _head(path)
    if header[18:20] != b"\x02\x02":
        raise RuntimeError(f"{path} is not in WAL mode")
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    try:
        check = conn.execute("PRAGMA quick_check").fetchone()[0]
        version = conn.execute("SELECT version FROM schema_version").fetchall()
    finally:
        conn.close()
    if check != "ok" or version != [(SCHEMA_VERSION,)]:
        raise RuntimeError(f"{path}: quick_check {check!r}, schema_version {version!r}")


def _head(path: Path) -> bytes:
    with open(path, "rb") as handle:
        return handle.read(100)


def _stamp() -> dict:
    return {
        "generator_version": GENERATOR_VERSION,
        "files": FILES,
        "big_steps": BIG_STEPS,
        "huge_steps": HUGE_RUN_STEPS,
        "host": socket.gethostname(),
    }


def ensure_data(log=print) -> DataSet:
    """The cached data set, generating it first when missing or from another generator version."""
    stamp_path = DATA_DIR / "stamp.json"
    many, copy = DATA_DIR / "many", DATA_DIR / "runner_copy"
    big, huge = DATA_DIR / "big" / "big.db", DATA_DIR / "huge" / "huge.db"
    try:
        stamp = json.loads(stamp_path.read_text())
    except (OSError, ValueError):
        stamp = {}
    expected = _stamp()
    if {k: stamp.get(k) for k in expected} != expected:
        log(f"generating benchmark data in {DATA_DIR} (generator v{GENERATOR_VERSION}) …")
        started = time.perf_counter()
        shutil.rmtree(DATA_DIR, ignore_errors=True)
        DATA_DIR.mkdir(parents=True)
        host = socket.gethostname()
        kinds = _build_many(many, host)
        log(f"  10,000 files in {time.perf_counter() - started:.1f}s: {kinds}")
        shutil.copytree(many, copy)
        big.parent.mkdir()
        _build_big(big, host)
        huge.parent.mkdir()
        huge_id = _build_huge(huge, host)
        leftovers = [p for p in DATA_DIR.rglob("*-wal")]
        if leftovers:
            raise RuntimeError(f"generation left -wal files behind: {leftovers[:3]}")
        sample = sorted(many.iterdir())[:: FILES // 20] + [big, huge]
        for path in sample:
            _verify(path)
        log(f"  verified {len(sample)} files (quick_check, WAL header, schema version)")
        stamp = expected | {"kinds": kinds, "huge_run_id": huge_id}
        stamp_path.write_text(json.dumps(stamp, indent=2))
        log(f"  generated in {time.perf_counter() - started:.1f}s")
    elif not copy.is_dir() or len(os.listdir(copy)) != FILES:
        # The runner-style baseline writes to its copy; restore it if anything went missing.
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(many, copy)
    return DataSet(DATA_DIR, many, copy, big, huge, stamp["huge_run_id"], stamp["kinds"])


if __name__ == "__main__":
    print(ensure_data())
