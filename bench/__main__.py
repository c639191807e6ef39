"""``make bench``: generate (or reuse) the data, time ledgerx against baselines, write results.

Every figure is a whole process (wall time, peak RSS from ``wait4``), the median of several
runs, printed as a ratio against a baseline measured in the same session. "Cold" is a fresh
process with an empty ledgerx cache directory (``LEDGERX_CACHE_DIR`` pointed at a new temp dir);
"warm" is a fresh process whose cache was filled by an earlier run over unchanged files. The
OS page cache is warm in both (the files were just generated or read): dropping it needs root.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from . import machine, search_bench, tui_bench
from .generate import DataSet, ensure_data
from .measure import Row, Series, ledgerx, python, repeat, run_process

RESULTS = Path(__file__).resolve().parent / "results.md"


def _tree_state(data: DataSet) -> list[tuple[str, int, int]]:
    """Every name, size and mtime in the directories ledgerx reads (not the runner's copy)."""
    return sorted(
        (f"{d.name}/{e.name}", e.stat().st_size, e.stat().st_mtime_ns)
        for d in (data.many_dir, data.big_file.parent, data.huge_file.parent)
        for e in os.scandir(d)
    )


def _fmt(series: Series) -> str:
    return f"{series.median:.3f}s"


def _cold(args: list[str], stdout: Path | None = None):
    def make(_: int):
        cache = tempfile.mkdtemp(prefix="ledgerx-bench-cache-")
        try:
            return run_process(args, env={"LEDGERX_CACHE_DIR": cache}, stdout=stdout)
        finally:
            shutil.rmtree(cache, ignore_errors=True)

    return make


def _warm(args: list[str], cache: str):
    return lambda _: run_process(args, env={"LEDGERX_CACHE_DIR": cache})


def bench_list_dir(data: DataSet, reps: int, runner_reps: int, log) -> tuple[list[Row], dict]:
    many = str(data.many_dir)
    cmd = ledgerx("list", "--format", "json", "--ledger-dir", many)
    before = os.listdir(data.many_dir)
    out = Path(tempfile.mkdtemp(prefix="ledgerx-bench-")) / "list.json"
    run_process(cmd, env={"LEDGERX_CACHE_DIR": "off"}, stdout=out)  # page cache, sanity check
    listed = len(json.loads(out.read_text()))
    if listed != len(before):
        raise RuntimeError(f"ledgerx list showed {listed} runs for {len(before)} files")
    log(f"list, 10,000 files: runner-style ×{runner_reps}, floor ×{reps}, cold ×{reps} …")
    runner = Series("runner-style")
    floor = Series("floor")
    cold = Series("ledgerx cold")
    for i in range(reps):
        floor.samples.append(run_process(python("-m", "bench.baselines", "floor", many)))
        cold.samples.append(_cold(cmd)(i))
        if i < runner_reps:
            runner.samples.append(
                run_process(python("-m", "bench.baselines", "runner", str(data.runner_copy)))
            )
            # The runner creates and deletes 20,000 files: flush that to disk now rather than
            # under the next measurement.
            os.sync()
    cache = tempfile.mkdtemp(prefix="ledgerx-bench-cache-")
    try:
        run_process(cmd, env={"LEDGERX_CACHE_DIR": cache})  # fills the cache
        warm = repeat("ledgerx warm", reps, _warm(cmd, cache))
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    sequential = repeat(
        "ledgerx cold, 1 process",
        max(1, reps // 2),
        lambda _: run_process(
            cmd,
            env={
                "LEDGERX_CACHE_DIR": tempfile.mkdtemp(prefix="ledgerx-bench-cache-"),
                "LEDGERX_SCAN_WORKERS": "1",
            },
        ),
    )
    rows = [
        Row(
            "list 10k files, cold",
            _fmt(cold),
            f"runner-style {_fmt(runner)}",
            cold.median / runner.median,
            "≤ 0.25×",
            cold.median <= 0.25 * runner.median,
        ),
        Row(
            "list 10k files, cold",
            _fmt(cold),
            f"floor {_fmt(floor)}",
            cold.median / floor.median,
            "≤ 1.0×",
            cold.median <= 1.0 * floor.median,
        ),
        Row(
            "list 10k files, warm",
            _fmt(warm),
            f"own cold {_fmt(cold)}",
            warm.median / cold.median,
            "≤ 0.1×",
            warm.median <= 0.1 * cold.median,
        ),
        Row(
            "list 10k files, cold, 1 process",
            _fmt(sequential),
            f"floor {_fmt(floor)}",
            sequential.median / floor.median,
            "",
            None,
        ),
    ]
    rss = {s.name: s.peak_rss_mb for s in (runner, floor, cold, warm)}
    spreads = {s.name: s.spread() for s in (runner, floor, cold, warm, sequential)}
    shutil.rmtree(out.parent, ignore_errors=True)
    return rows, {"rss": rss, "spread": spreads, "cold": cold.median}


def bench_list_file(data: DataSet, reps: int, log) -> tuple[list[Row], dict]:
    log(f"list, one file with 10,000 runs / 1,000,000 steps: ×{reps} …")
    big = str(data.big_file)
    cmd = ledgerx("list", "--format", "json", "--ledger", big)
    base = Series("GROUP BY run_id")
    cold = Series("ledgerx cold")
    for i in range(reps):
        base.samples.append(run_process(python("-m", "bench.baselines", "groupby", big)))
        cold.samples.append(_cold(cmd)(i))
    cache = tempfile.mkdtemp(prefix="ledgerx-bench-cache-")
    try:
        run_process(cmd, env={"LEDGERX_CACHE_DIR": cache})
        warm = repeat("ledgerx warm", reps, _warm(cmd, cache))
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    rows = [
        Row(
            "list 1M-step file, cold",
            _fmt(cold),
            f"GROUP BY {_fmt(base)}",
            cold.median / base.median,
            "",
            None,
        ),
        Row(
            "list 1M-step file, warm",
            _fmt(warm),
            f"GROUP BY {_fmt(base)}",
            warm.median / base.median,
            "",
            None,
        ),
    ]
    rss = {s.name: s.peak_rss_mb for s in (base, cold, warm)}
    return rows, {"rss": rss, "spread": {s.name: s.spread() for s in (base, cold, warm)}}


def bench_state(data: DataSet, reps: int, log) -> tuple[list[Row], dict]:
    log(f"state of the 100,000-step run: ×{reps} …")
    huge = str(data.huge_file)
    cmd = ledgerx("state", data.huge_run_id, "--format", "json", "--ledger", huge)
    base = Series("SELECT *")
    cold = Series("ledgerx state")
    for i in range(reps):
        base.samples.append(
            run_process(python("-m", "bench.baselines", "select", huge, data.huge_run_id))
        )
        cold.samples.append(_cold(cmd)(i))
    rows = [
        Row(
            "state 100k-step run (JSON)",
            _fmt(cold),
            f"SELECT * {_fmt(base)}",
            cold.median / base.median,
            "",
            None,
        ),
    ]
    rss = {s.name: s.peak_rss_mb for s in (base, cold)}
    return rows, {"rss": rss, "spread": {s.name: s.spread() for s in (base, cold)}}


def _table(rows: list[Row]) -> list[str]:
    head = ["measure", "ledgerx", "baseline", "ratio", "target", ""]
    body = [
        [
            r.name,
            r.value,
            r.baseline,
            "" if r.ratio is None else f"{r.ratio:.2f}×",
            r.target,
            r.verdict,
        ]
        for r in rows
    ]
    widths = [max(len(x[i]) for x in [head, *body]) for i in range(len(head))]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    return [line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, body)]


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--reps", type=int, default=5, help="repetitions per measure")
    parser.add_argument("--runner-reps", type=int, default=3)
    parser.add_argument("--skip-tui", action="store_true")
    parser.add_argument("--skip-cli", action="store_true")
    parser.add_argument("--only-search", action="store_true", help="only the search figures")
    parser.add_argument("--no-write", action="store_true", help="do not update results.md")
    args = parser.parse_args()
    started = time.perf_counter()
    log = lambda m: print(m, flush=True)  # noqa: E731
    load_before = os.getloadavg()
    data = ensure_data(log)
    before = _tree_state(data)
    rows: list[Row] = []
    extra: dict[str, dict] = {}
    list_cold = None
    if args.only_search:
        args.skip_cli = args.skip_tui = True
    if not args.skip_cli:
        for name, (r, x) in (
            ("list 10k files", bench_list_dir(data, args.reps, args.runner_reps, log)),
            ("list 1M-step file", bench_list_file(data, args.reps, log)),
            ("state 100k-step run", bench_state(data, args.reps, log)),
        ):
            rows += r
            extra[name] = x
        list_cold = extra["list 10k files"]["cold"]
    if not args.skip_tui:
        r, x = tui_bench.run(data, args.reps, log, list_cold)
        rows += r
        extra["TUI"] = x
    if not (args.skip_cli and args.skip_tui) or args.only_search:
        r, x = search_bench.bench_cli(data, args.reps, log, list_cold)
        rows += r
        extra["search"] = x
        r, x = search_bench.bench_tui(data, args.reps, log)
        rows += r
        extra["TUI search"] = x
    untouched = _tree_state(data) == before
    rows.append(
        Row(
            "ledger dirs unchanged by every ledgerx run",
            "yes" if untouched else "NO",
            "",
            None,
            "same names/sizes/mtimes",
            untouched,
        )
    )
    load_after = os.getloadavg()
    table = _table(rows)
    print()
    print("\n".join(table))
    for name, x in extra.items():
        print(f"\n{name}: peak RSS (MB) " + ", ".join(f"{k} {v:.0f}" for k, v in x["rss"].items()))
        if "spread" in x:
            print("  min–max s: " + ", ".join(f"{k} {v}" for k, v in x["spread"].items()))
    info = machine.describe(load_before, load_after)
    print("\n" + info)
    print(f"bench total {time.perf_counter() - started:.0f}s")
    if not args.no_write:
        machine.write_results(RESULTS, table, extra, info)
        print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
