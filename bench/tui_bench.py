"""TUI figures: start to first painted runs, the 100,000-step run, event-loop stalls, RSS.

Each probe is a fresh process (``bench.tui_driver``) so start-up and imports count, exactly as
for the minimal Textual app it is compared with.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

from .generate import BIG_RUNS, FILES, DataSet
from .measure import ROOT, Row


def _probe(*args: str, cache: str) -> dict:
    env = os.environ | {"BENCH_T0": repr(time.time()), "LEDGERX_CACHE_DIR": cache}
    env["BENCH_T0"] = repr(time.time())
    done = subprocess.run(
        [sys.executable, "-m", "bench.tui_driver", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise RuntimeError(f"tui_driver {' '.join(args)} failed: {done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _series(times: int, *args: str, warm: bool = False) -> list[dict]:
    out = []
    cache = tempfile.mkdtemp(prefix="ledgerx-bench-cache-")
    try:
        if warm:
            _probe(*args, cache=cache)
        for _ in range(times):
            if not warm:
                shutil.rmtree(cache, ignore_errors=True)
                os.makedirs(cache)
            out.append(_probe(*args, cache=cache))
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    return out


def _med(results: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in results)


def run(data: DataSet, reps: int, log, list_cold: float | None = None):
    try:
        import tui.app  # noqa: F401
    except ImportError as exc:
        log(f"TUI benchmark skipped: {exc}")
        return [], {"rss": {}}
    log(f"TUI: minimal app, runs list cold/warm, 100k-step run, 1M-step file: ×{reps} …")
    minimal = _series(reps, "minimal")
    cold = _series(reps, "runs", str(data.many_dir), str(FILES))
    warm = _series(reps, "runs", str(data.many_dir), str(FILES), warm=True)
    # What-if for the TUI's owners: the watcher's batches read in worker processes.
    what_if = _series(max(1, reps // 2), "runs", str(data.many_dir), str(FILES), "parallel")
    huge = _series(reps, "run", str(data.huge_file))
    big = _series(max(1, reps // 2), "runs", str(data.big_file), str(BIG_RUNS))
    base = _med(minimal, "first_paint")
    stall = max(_med(cold, "max_stall"), _med(warm, "max_stall"))
    rows = [
        Row(
            "TUI first runs painted, cold",
            f"{_med(cold, 'first_paint'):.3f}s",
            f"minimal app {base:.3f}s",
            _med(cold, "first_paint") / base,
            "≤ 1.5×",
            _med(cold, "first_paint") <= 1.5 * base,
        ),
        Row(
            "TUI first runs painted, warm",
            f"{_med(warm, 'first_paint'):.3f}s",
            f"minimal app {base:.3f}s",
            _med(warm, "first_paint") / base,
            "≤ 1.5×",
            _med(warm, "first_paint") <= 1.5 * base,
        ),
    ]
    for label, series in (("cold", cold), ("warm", warm)):
        listed = _med(series, "all_listed")
        if list_cold:
            rows.append(
                Row(
                    f"TUI all 10k listed, {label}",
                    f"{listed:.3f}s",
                    f"list cold {list_cold:.3f}s",
                    listed / list_cold,
                    "≤ 1.0×",
                    listed <= list_cold,
                )
            )
        else:
            rows.append(Row(f"TUI all 10k listed, {label}", f"{listed:.3f}s", "", None, "", None))
    rows += [
        Row(
            "TUI longest stall loading 10k runs",
            f"{stall * 1000:.0f} ms",
            "",
            None,
            "≤ 50 ms",
            stall <= 0.05,
        ),
        Row(
            "100k run: first steps after enter",
            f"{_med(huge, 'first_steps'):.3f}s",
            "",
            None,
            "≤ 0.3 s",
            _med(huge, "first_steps") <= 0.3,
        ),
        Row(
            "100k run: end, last step painted",
            f"{_med(huge, 'jump_end'):.3f}s",
            "",
            None,
            "< 0.2 s",
            _med(huge, "jump_end") < 0.2,
        ),
        Row(
            "100k run: home, back",
            f"{_med(huge, 'jump_home'):.3f}s",
            "",
            None,
            "< 0.2 s",
            _med(huge, "jump_home") < 0.2,
        ),
        Row(
            "100k run: longest stall",
            f"{_med(huge, 'max_stall') * 1000:.0f} ms",
            "",
            None,
            "≤ 50 ms",
            _med(huge, "max_stall") <= 0.05,
        ),
        Row(
            "TUI peak RSS, 1M-step file",
            f"{max(r['rss_mb'] for r in big):.0f} MB",
            "",
            None,
            "≤ 150 MB",
            max(r["rss_mb"] for r in big) <= 150,
        ),
    ]
    rss = {
        "minimal app": max(r["rss_mb"] for r in minimal),
        "TUI 10k files": max(r["rss_mb"] for r in cold + warm),
        "TUI 100k-step run": max(r["rss_mb"] for r in huge),
        "TUI 1M-step file": max(r["rss_mb"] for r in big),
    }
    notes = {
        "what-if, watcher parallel=True, cold": (
            f"all listed {_med(what_if, 'all_listed'):.3f}s, first paint "
            f"{_med(what_if, 'first_paint'):.3f}s, worst stall "
            f"{max(r['max_stall'] for r in what_if) * 1000:.0f} ms"
        ),
        "TUI 1M-step file, all listed": f"{_med(big, 'all_listed'):.3f}s",
        "stall samples (ms)": ", ".join(
            f"{r['max_stall'] * 1000:.0f}@{r['stall_at']:.1f}s" for r in cold + warm
        ),
    }
    return rows, {"rss": rss, "notes": notes}
