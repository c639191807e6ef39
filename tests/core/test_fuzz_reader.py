"""Fuzz the read side: any SQLite value in any column it reads; only ledgerx's errors escape.

Every seed builds one ledger-shaped file whose tables (``run``, ``step``, ``schema_version``,
``writer``, ``rollback_attempt``, ``rollback_lock``) hold values of every SQLite type — NULL,
integers (huge, negative), REALs (inf, -inf, NaN), text (control characters, bidi overrides,
Rich markup, 20,000 characters, numbers as text), BLOBs — mixed with plausible ones so that
deeper paths run too. Then everything a browsing session and a rollback preview do is done to
it. A seed is deterministic: a failure names the seed, and ``build_fuzzed(path, Random(seed))``
rebuilds the file. ``LEDGERX_FUZZ_SEEDS=5000`` runs more seeds locally.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sqlite3
import subprocess
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fuzz_ledgers import TABLES, TYPES, build_fuzzed, value_for

from ledger_core import Plan, Profile, Profiles, Sources, read_run, read_steps_page, scan
from ledger_core.errors import LedgerxError
from ledger_core.ledgers.reader import read_attempts
from ledger_core.ledgers.scanner import scan_files
from ledger_core.ledgers.summary_cache import SummaryCache
from ledger_core.rollback.executor import check_refusal, execute, preview

REPO = Path(__file__).resolve().parents[2]
NOW = 1_779_012_000.0  # 2026-05-17T10:00:00Z, near the plausible timestamps below
SEEDS = int(os.environ.get("LEDGERX_FUZZ_SEEDS", "250"))
ROLLBACK_SEEDS = SEEDS // 5

PROFILES = Profiles(
    None,
    {
        "sandbox": Profile("sandbox", base_url="http://127.0.0.1:9"),
        "prod": Profile("prod", base_url="https://api.example.test", disable_writes=True),
    },
)


class _Escapes:
    """Collects exceptions that are not ledgerx's own, one per place they were raised."""

    def __init__(self) -> None:
        self.found: dict[tuple, str] = {}

    def call(self, seed: int, what: str, action: Callable[..., Any], *args, **kw) -> Any:
        try:
            return action(*args, **kw)
        except LedgerxError:
            return None
        except Exception as exc:  # noqa: BLE001 - finding these is the point
            frame = traceback.extract_tb(exc.__traceback__)[-1]
            key = (what, type(exc).__name__, Path(frame.filename).name, frame.lineno)
            self.found.setdefault(key, f"seed {seed}: {type(exc).__name__}: {exc!s:.200}")
            return None

    def report(self) -> str:
        return "\n".join(f"{k[0]} at {k[2]}:{k[3]} — {v}" for k, v in self.found.items())


def _round_trip(plan: Plan) -> Plan:
    return Plan.from_dict(json.loads(plan.to_json()))


def _plan_checks(seed: int, escapes: _Escapes, detail) -> bool:
    """Preview, export, round-trip and (unless refused) execute; True if it was executed."""
    plan = escapes.call(seed, "rollback.preview", preview, detail, PROFILES, now=NOW)
    if plan is None:
        return False
    assert isinstance(plan, Plan)
    escapes.call(seed, "plan.to_markdown", plan.to_markdown)
    back = escapes.call(seed, "plan round trip", _round_trip, plan)
    if back is not None:
        assert back == plan, f"seed {seed}: the plan changed in a JSON round trip"
    escapes.call(seed, "rollback.check_refusal", check_refusal, plan, PROFILES)
    if plan.refusal is None:
        # Up to the lock (rollback_lock rows) and the DELETEs, which find nothing listening
        # on 127.0.0.1:9: the file is a scratch copy, so it may be written.
        escapes.call(seed, "rollback.execute", asyncio.run, execute(plan, PROFILES))
        return True
    return False


def test_no_exception_but_ledgerx_errors_escapes_the_core(tmp_path, monkeypatch):
    monkeypatch.setenv("LEDGERX_CACHE_DIR", str(tmp_path / "default-cache"))
    escapes = _Escapes()
    for seed in range(SEEDS):
        directory = tmp_path / f"s{seed}"
        directory.mkdir()
        path = directory / "fuzz.db"
        build_fuzzed(path, random.Random(seed))
        call = escapes.call
        result = call(seed, "scan", scan, Sources((directory,)), now=NOW)
        call(seed, "scan_files, no cache", scan_files, [path], now=NOW, cache=False)
        cache = tmp_path / "cache" / str(seed)
        for what in ("scan_files, cache cold", "scan_files, cache warm"):
            call(seed, what, scan_files, [path], now=NOW, cache=SummaryCache(cache))
        run_ids = {"r-1", "r-2", ""}
        if result is not None:
            run_ids |= {r.run_id for r in result.runs}
            for run in result.runs:
                json.dumps(run.to_dict(), allow_nan=False)  # `list --format json`
        for run_id in sorted(run_ids):
            detail = call(seed, "read_run", read_run, path, run_id, now=NOW)
            call(seed, "read_steps_page", read_steps_page, path, run_id, 1, 3)
            call(seed, "read_attempts", read_attempts, path, run_id)
            if detail is not None:
                # `state --format json`: valid JSON (no NaN/Infinity), whatever was stored.
                call(seed, "detail JSON", json.dumps, detail.to_dict(), allow_nan=False)
                _plan_checks(seed, escapes, detail)
    assert not escapes.found, "exceptions escaped the core:\n" + escapes.report()


def _rollback_ready(path: Path, rng: random.Random) -> None:
    """A finished run of committed POSTs that a rollback would undo, beside random
    ``rollback_attempt`` and ``rollback_lock`` rows (the tables only a rollback reads)."""
    conn = sqlite3.connect(path)
    typed = rng.random() < 0.5
    for table, columns in TABLES.items():
        declared = [f"{c} {TYPES.get(c, 'TEXT') if typed else ''}".strip() for c in columns]
        conn.execute(f"CREATE TABLE {table} ({', '.join(declared)})")
    conn.execute("INSERT INTO schema_version VALUES (1)")
    conn.execute(
        "INSERT INTO run (run_id, profile, state, started_at, finished_at) VALUES "
        "('r-1', 'sandbox', 'completed', '2026-05-17T09:00:00Z', '2026-05-17T09:01:00Z')"
    )
    for seq in (1, 2, 3):
        conn.execute(
            "INSERT INTO step (step_id, run_id, seq, intent_ts, method, url, outcome_ts, status, "
            "rollback_url) VALUES (?, 'r-1', ?, '2026-05-17T09:00:00Z', 'POST', "
            "'http://127.0.0.1:9/x', '2026-05-17T09:00:01Z', 'committed', ?)",
            (seq, seq, f"http://127.0.0.1:9/x({seq})"),
        )
    for table in ("rollback_attempt", "rollback_lock"):
        columns = TABLES[table]
        for _ in range(rng.randint(0, 3)):
            values = [value_for(rng, c, 0.4) for c in columns]
            conn.execute(f"INSERT INTO {table} VALUES ({', '.join('?' * len(values))})", values)
    conn.commit()
    conn.close()


def test_rollback_tables_of_any_value_do_not_escape_the_core(tmp_path, monkeypatch):
    """Preview and execute (up to DELETEs that find nothing listening on 127.0.0.1:9) of a run
    whose attempt and lock rows hold anything."""
    monkeypatch.setenv("LEDGERX_CACHE_DIR", "off")
    escapes = _Escapes()
    executed = 0
    for seed in range(ROLLBACK_SEEDS):
        path = tmp_path / f"rb-{seed}.db"
        _rollback_ready(path, random.Random(seed))
        detail = escapes.call(seed, "read_run", read_run, path, "r-1", now=NOW)
        if detail is None:
            continue
        executed += _plan_checks(seed, escapes, detail)
    assert not escapes.found, "exceptions escaped the core:\n" + escapes.report()
    assert executed > ROLLBACK_SEEDS // 4, "most seeds must get as far as executing"


def _cli(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGERX_")}
    env |= {"HOME": str(home), "LEDGERX_CACHE_DIR": str(home / "cache"), "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "tui.cli.main", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _no_crash(
    proc: subprocess.CompletedProcess, what: str, codes: tuple[int, ...] = (0, 2)
) -> None:
    assert proc.returncode in codes, f"{what}: exit {proc.returncode}\n{proc.stderr[-2000:]}"
    assert "unexpected error" not in proc.stderr and "Traceback" not in proc.stderr, what


def test_cli_reads_fuzzed_files_without_unexpected_errors(tmp_path):
    """A few seeds through the real command line: list, state of every run, doctor."""
    directory = tmp_path / "ledgers"
    directory.mkdir()
    for seed in (3, 11, 42, 77, 123, 256):
        build_fuzzed(directory / f"seed-{seed}.db", random.Random(seed))
    listed = _cli("--ledger-dir", str(directory), "list", "--format", "json", home=tmp_path)
    _no_crash(listed, "list")
    runs = json.loads(listed.stdout)
    assert runs, "the seeds were chosen to hold readable runs"
    for run in runs:
        assert isinstance(run["run_id"], str)
        proc = _cli(
            "--ledger", run["source"], "state", run["run_id"], "--format", "json", home=tmp_path
        )
        _no_crash(proc, f"state {run['run_id']!r}")
        if proc.returncode == 0:
            assert json.loads(proc.stdout)["run_id"] == run["run_id"]
    for fmt in ("table", "json"):
        doctor = _cli("--ledger-dir", str(directory), "doctor", "--format", fmt, home=tmp_path)
        # doctor's 1 means "some file has a problem" (fuzzed files have them), never a crash.
        _no_crash(doctor, f"doctor --format {fmt}", codes=(0, 1))
    assert len(json.loads(doctor.stdout)) == 6
