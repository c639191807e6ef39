"""Shared fixtures: runner-written ledgers in tmp dirs and a way to run the real CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# The repo first: an editable install made before a package had its __init__.py maps it as a
# namespace package, which hides its exports when pytest is run as `.venv/bin/pytest`.
sys.path[:0] = [str(REPO), str(Path(__file__).parent)]

from ledger_factory import RunSpec, StepSpec, make_ledger_dir  # noqa: E402

# Keep the summary cache out of the real ~/.cache and fresh for every test session.
os.environ.setdefault("LEDGERX_CACHE_DIR", tempfile.mkdtemp(prefix="ledgerx-test-cache-"))
# Nothing remembered between tests (a theme chosen in one test must not colour the next).
os.environ.setdefault("LEDGERX_STATE_DIR", "off")

# A fixed "now" one hour after the fixture runs started: liveness and ages are deterministic.
FIXED_NOW = 1_779_012_000.0  # 2026-05-17T10:00:00Z


@dataclass
class CliResult:
    """What a ``ledgerx`` subprocess did."""

    code: int
    stdout: str
    stderr: str

    def json(self) -> object:
        return json.loads(self.stdout)


def run_cli(*args: str | os.PathLike, env: dict[str, str] | None = None, timeout: float = 60):
    """Run ``python -m tui.cli.main ARGS`` as a real process; stdout/stderr as text."""
    full_env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("LEDGERX_") or k == "LEDGERX_CACHE_DIR"
    }
    full_env["HOME"] = full_env.get("LEDGERX_TEST_HOME", "/nonexistent-ledgerx-home")
    full_env.pop("FORCE_COLOR", None)
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-m", "tui.cli.main", *map(str, args)],
        cwd=REPO,
        env=full_env,
        capture_output=True,
        timeout=timeout,
    )
    return CliResult(
        proc.returncode,
        proc.stdout.decode("utf-8", "replace"),
        proc.stderr.decode("utf-8", "replace"),
    )


@pytest.fixture
def cli():
    """The ``run_cli`` helper, as a fixture."""
    return run_cli


def sample_runs() -> list[RunSpec]:
    """Four runs covering the common shapes, with fixed timestamps (newest is ``r-partial``)."""
    return [
        RunSpec(
            "r-done-0001",
            state="completed",
            started_at="2026-05-17T08:00:00.000000Z",
            finished_at="2026-05-17T08:00:05.000000Z",
            steps=[StepSpec.committed(1), StepSpec.committed(2)],
        ),
        RunSpec(
            "r-fail-0002",
            state="running",
            started_at="2026-05-17T08:10:00.000000Z",
            steps=[StepSpec.failed(1), StepSpec.failed(2)],
        ),
        RunSpec(
            "r-crash-0003",
            state="running",
            started_at="2026-05-17T08:20:00.000000Z",
            steps=[StepSpec.committed(1), StepSpec.committed(2), StepSpec.in_doubt(3)],
        ),
        RunSpec(
            "r-partial-0004",
            state="partially_committed",
            started_at="2026-05-17T08:30:00.000000Z",
            finished_at="2026-05-17T08:31:00.000000Z",
            steps=[StepSpec.committed(1), StepSpec.failed(2)],
        ),
    ]


@pytest.fixture
def ledger_dir(tmp_path: Path) -> Path:
    """A directory of four runner-written per-run ledgers (see ``sample_runs``)."""
    directory = tmp_path / "ledgers"
    make_ledger_dir(directory, sample_runs())
    return directory
