"""Helpers for rollback tests: runner-shaped ledgers aimed at a real loopback DemoApi.

* ``rollback_ledger(path, api, n)`` — a finished run of ``n`` committed POSTs whose records
  really exist on ``api`` (so DELETE answers 204), written with plain sqlite3 like the runner.
* ``write_profiles(path, base_url, **sandbox_options)`` — a profiles file, loaded.
* ``step_rows(path)`` / ``attempt_rows(path)`` — what the ledger says now (plain sqlite3).
* ``run_row(path)`` — the run row.
"""

from __future__ import annotations

from pathlib import Path

from ledger_factory import RunSpec, StepSpec, make_ledger

from ledger_core.access import snapshot
from ledger_core.demo_api import DemoApi
from ledger_core.profiles import Profiles, load_profiles

COMPANY = "c0ffee00-0000-4000-8000-000000000001"
RUN_ID = "rb-0123456789abcdef"


def entity_url(base_url: str, entity: str = "customers", record_id: str | None = None) -> str:
    url = f"{base_url}/api/v2.0/companies({COMPANY})/{entity}"
    return f"{url}({record_id})" if record_id else url


def rollback_ledger(
    path: Path,
    api: DemoApi,
    n: int = 3,
    *,
    run_id: str = RUN_ID,
    profile: str | None = "sandbox",
    finished: bool = True,
    extra: list[StepSpec] | None = None,
    record_ids: list[str] | None = None,
) -> list[str]:
    """A run of ``n`` committed POSTs (seq 1..n) whose records exist on ``api``; their ids."""
    ids = record_ids or [api.add_record(COMPANY, "customers") for _ in range(n)]
    steps = [
        StepSpec.committed(
            i,
            url=entity_url(api.base_url),
            rollback_url=entity_url(api.base_url, "customers", rid),
            bc_correlation_id=f"corr-{i}",
            intent_ts=f"2026-05-17T09:00:{i:02d}.000000Z",
            outcome_ts=f"2026-05-17T09:00:{i:02d}.250000Z",
        )
        for i, rid in enumerate(ids, start=1)
    ]
    steps += extra or []
    make_ledger(
        path,
        [
            RunSpec(
                run_id,
                state="completed" if finished else "running",
                started_at="2026-05-17T09:00:00.000000Z",
                finished_at="2026-05-17T09:01:00.000000Z" if finished else None,
                profile=profile,
                steps=steps,
            )
        ],
    )
    return ids


def write_profiles(
    path: Path,
    base_url: str | None,
    *,
    disable_writes: bool = False,
    token_env: str | None = None,
    timeout: float = 5.0,
    readonly: bool = False,
) -> Profiles:
    lines = [
        "[defaults]",
        f"readonly = {'true' if readonly else 'false'}",
        "",
        "[profiles.sandbox]",
    ]
    if base_url is not None:
        lines.append(f'base_url = "{base_url}"')
    lines.append(f"disable_writes = {'true' if disable_writes else 'false'}")
    if token_env:
        lines.append(f'token_env = "{token_env}"')
    lines.append(f"timeout = {timeout}")
    lines += ["", "[profiles.production]", f'base_url = "{base_url}"', "disable_writes = true"]
    path.write_text("\n".join(lines) + "\n")
    return load_profiles(path)


def _rows(path: Path, sql: str) -> list[tuple]:
    # Through ledger_core's snapshot: a plain mode=ro open would leave -wal/-shm behind.
    return snapshot(Path(path), lambda c: c.execute(sql).fetchall())


def step_rows(path: Path) -> dict[int, str | None]:
    """seq -> status."""
    return dict(_rows(path, "SELECT seq, status FROM step ORDER BY seq"))


def attempt_rows(path: Path) -> list[tuple]:
    """(step_id, url, outcome_ts, http_status, result, error_message) per attempt, in order."""
    tables = {r[0] for r in _rows(path, "SELECT name FROM sqlite_master WHERE type='table'")}
    if "rollback_attempt" not in tables:
        return []
    return _rows(
        path,
        "SELECT step_id, url, outcome_ts, http_status, result, error_message "
        "FROM rollback_attempt ORDER BY attempt_id",
    )


def run_row(path: Path) -> tuple:
    """(state, finished_at) of the only run."""
    return _rows(path, "SELECT state, finished_at FROM run")[0]
