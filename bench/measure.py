"""Time whole processes: wall time and peak RSS of each, medians over repetitions."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@dataclass
class Row:
    """One line of the results table."""

    name: str
    value: str
    baseline: str
    ratio: float | None
    target: str
    ok: bool | None  # None: informational, no target

    @property
    def verdict(self) -> str:
        return "" if self.ok is None else ("PASS" if self.ok else "MISS")


@dataclass
class Sample:
    """One process run."""

    seconds: float
    max_rss_kb: int
    returncode: int
    cpu_seconds: float = 0.0  # user + sys of the process and the children it waited for


@dataclass
class Series:
    """Repeated runs of one command."""

    name: str
    samples: list[Sample] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(s.seconds for s in self.samples)

    @property
    def peak_rss_mb(self) -> float:
        return max(s.max_rss_kb for s in self.samples) / 1024.0

    def spread(self) -> str:
        values = sorted(s.seconds for s in self.samples)
        return f"{values[0]:.3f}–{values[-1]:.3f}"


def run_process(
    argv: Sequence[str],
    *,
    env: dict[str, str] | None = None,
    stdout: Path | None = None,
    cwd: Path | None = None,
) -> Sample:
    """Run ``argv`` to completion in ``cwd`` (the repo); its wall time and peak RSS (``wait4``)."""
    full_env = os.environ.copy() | (env or {})
    out = open(stdout, "wb") if stdout else subprocess.DEVNULL  # noqa: SIM115
    try:
        started = time.perf_counter()
        proc = subprocess.Popen(
            list(argv), stdout=out, stderr=subprocess.PIPE, env=full_env, cwd=cwd or ROOT
        )
        stderr = proc.stderr.read() if proc.stderr else b""
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
    finally:
        if stdout:
            out.close()
    if proc.returncode != 0:
        text = stderr.decode(errors="replace")[-2000:]
        raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}: {text}")
    return Sample(elapsed, usage.ru_maxrss, proc.returncode, usage.ru_utime + usage.ru_stime)


def repeat(
    name: str,
    times: int,
    make: Callable[[int], Sample],
) -> Series:
    series = Series(name)
    for i in range(times):
        series.samples.append(make(i))
    return series


def python(*args: str) -> list[str]:
    return [sys.executable, *args]


def ledgerx(*args: str) -> list[str]:
    return [str(BIN / "ledgerx"), *args]


def fmt(series: Series) -> str:
    return f"{series.median:.3f}s"


def cold(args: Sequence[str], stdout: Path | None = None, env: dict[str, str] | None = None):
    """A sample maker: ``args`` in a fresh process with a new, empty ledgerx cache directory."""

    def make(_: int) -> Sample:
        cache = tempfile.mkdtemp(prefix="ledgerx-bench-cache-")
        try:
            return run_process(args, env=(env or {}) | {"LEDGERX_CACHE_DIR": cache}, stdout=stdout)
        finally:
            shutil.rmtree(cache, ignore_errors=True)

    return make


def warm(args: Sequence[str], cache: str, env: dict[str, str] | None = None):
    """A sample maker: ``args`` in a fresh process over the cache directory ``cache``."""
    return lambda _: run_process(args, env=(env or {}) | {"LEDGERX_CACHE_DIR": cache})
