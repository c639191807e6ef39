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

from . import before_formats, formats_bench, machine, measure, search_bench, tui_bench
from .generate import DATA_DIR, DataSet, ensure_data
from .measure import Row, Series, fmt, ledgerx, python, repeat, run_process

RESULTS = Path(__file__).resolve().parent / "results.md"


def _tree_state(data: DataSet) -> list[tuple[str, int, int]]:
    """Every name, size and mtime in the directories ledgerx reads (not the runner's copy)."""
    return sorted(
        (f"{d.name}/{e.name}", e.stat().st_size, e.stat().st_mtime_ns)
        for d in (
            data.many_dir,
            data.big_file.parent,
            data.huge_file.parent,
            formats_bench.FORMATS_DIR,
        )
        if d.is_dir()
        for e in os.scandir(d)
    )


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
        cold.samples.append(measure.cold(cmd)(i))
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
        warm = repeat("ledgerx warm", reps, measure.warm(cmd, cache))
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    sequential = repeat(
        "ledgerx cold, 1 process",
        max(1, reps // 2),
        measure.cold(cmd, env={"LEDGERX_SCAN_WORKERS": "1"}),  # its cache dir removed after
    )
    rows = [
        Row(
            "list 10k files, cold",
            fmt(cold),
            f"runner-style {fmt(runner)}",
            cold.median / runner.median,
            "≤ 0.25×",
            cold.median <= 0.25 * runner.median,
        ),
        Row(
            "list 10k files, cold",
            fmt(cold),
            f"floor {fmt(floor)}",
            cold.median / floor.median,
            "≤ 1.0×",
            cold.median <= 1.0 * floor.median,
        ),
        Row(
            "list 10k files, warm",
            fmt(warm),
            f"own cold {fmt(cold)}",
            warm.median / cold.median,
            "≤ 0.1×",
            warm.median <= 0.1 * cold.median,
        ),
        Row(
            "list 10k files, cold, 1 process",
            fmt(sequential),
            f"floor {fmt(floor)}",
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
        cold.samples.append(measure.cold(cmd)(i))
    cache = tempfile.mkdtemp(prefix="ledgerx-bench-cache-")
    try:
        run_process(cmd, env={"LEDGERX_CACHE_DIR": cache})
        warm = repeat("ledgerx warm", reps, measure.warm(cmd, cache))
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    rows = [
        Row(
            "list 1M-step file, cold",
            fmt(cold),
            f"GROUP BY {fmt(base)}",
            cold.median / base.median,
            "",
            None,
        ),
        Row(
            "list 1M-step file, warm",
            fmt(warm),
            f"GROUP BY {fmt(base)}",
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
        cold.samples.append(measure.cold(cmd)(i))
    rows = [
        Row(
            "state 100k-step run (JSON)",
            fmt(cold),
            f"SELECT * {fmt(base)}",
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


PARTS = ("list", "file", "state", "formats", "before-formats", "tui", "search")
PART_HELP = {
    "list": "10,000 files: cold, warm, 1 process, against runner-style and floor",
    "file": "the 1,000,000-step file, cold and warm, against one GROUP BY",
    "state": "state of the 100,000-step run, against SELECT *",
    "formats": "1,000,000-event event-ledger file against the runner's 1M-step file",
    "before-formats": f"10,000 files against ledgerx at {before_formats.OLD_COMMIT} (git archive)",
    "tui": "the TUI's first paint, all listed, the 100k-step run, RSS",
    "search": "ledgerx search and the TUI's search box",
}


def _parts(text: str) -> list[str]:
    chosen = [p.strip() for p in text.split(",") if p.strip()]
    unknown = [p for p in chosen if p not in PARTS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"unknown part {', '.join(unknown) or '(none)'}; choose from {', '.join(PARTS)}"
        )
    return chosen


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _bytecode_cache(log) -> None:
    """Every process measured imports compiled modules, as an installed ledgerx does: this
    environment sets ``PYTHONDONTWRITEBYTECODE``, which would charge each ledgerx run ~30–40 ms
    of compiling its own source. One private cache under ``bench/.data``, filled by
    ``compileall`` before anything is timed."""
    os.environ["PYTHONDONTWRITEBYTECODE"] = ""
    os.environ["PYTHONPYCACHEPREFIX"] = str(DATA_DIR / "pycache")
    run_process(python("-m", "compileall", "-q", "ledger_core", "tui", "bench"))
    log(f"bytecode cache: {DATA_DIR / 'pycache'}")


def main() -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="parts:\n" + "\n".join(f"  {k:15} {v}" for k, v in PART_HELP.items()),
    )
    parser.add_argument("--reps", type=_positive, default=5, help="repetitions per measure (5)")
    parser.add_argument(
        "--ab-reps",
        type=_positive,
        default=None,
        help="old/new pairs for before-formats, cold and warm each (default: 2 × --reps)",
    )
    parser.add_argument(
        "--ab-old",
        default=before_formats.OLD_COMMIT,
        metavar="COMMIT",
        help=f"before-formats: the old side (default {before_formats.OLD_COMMIT})",
    )
    parser.add_argument(
        "--ab-new",
        default=None,
        metavar="COMMIT",
        help="before-formats: a commit as the new side instead of this checkout",
    )
    parser.add_argument("--runner-reps", type=_positive, default=3)
    parser.add_argument(
        "--only",
        type=_parts,
        metavar="PART[,PART...]",
        help="run only these parts (see below); a partial run does not write results.md",
    )
    parser.add_argument("--skip-tui", action="store_true", help="all parts but tui and search")
    parser.add_argument("--skip-cli", action="store_true", help="only tui and search")
    parser.add_argument("--only-search", action="store_true", help="same as --only search")
    parser.add_argument("--no-write", action="store_true", help="do not update results.md")
    args = parser.parse_args()
    parts = set(args.only or PARTS)
    if args.only_search:
        parts = {"search"}
    if args.skip_cli:
        parts -= {"list", "file", "state", "formats", "before-formats"}
    if args.skip_tui:
        parts -= {"tui", "search"}
    write = not args.no_write and parts == set(PARTS)
    started = time.perf_counter()
    log = lambda m: print(m, flush=True)  # noqa: E731
    log(f"bench parts: {', '.join(p for p in PARTS if p in parts) or '(none)'}")
    load_before = os.getloadavg()
    data = ensure_data(log)
    _bytecode_cache(log)
    if "formats" in parts:
        formats_bench.ensure_events(log)  # before the snapshot of the ledger dirs
    before = _tree_state(data)
    rows: list[Row] = []
    extra: dict[str, dict] = {}
    list_cold = None
    steps = (
        ("list", "list 10k files", lambda: bench_list_dir(data, args.reps, args.runner_reps, log)),
        ("file", "list 1M-step file", lambda: bench_list_file(data, args.reps, log)),
        ("state", "state 100k-step run", lambda: bench_state(data, args.reps, log)),
        ("formats", "formats", lambda: formats_bench.bench_formats(data, args.reps, log)),
        (
            "before-formats",
            "before formats",
            lambda: before_formats.bench_before_formats(
                data, args.ab_reps or 2 * args.reps, log, args.ab_old, args.ab_new
            ),
        ),
        ("tui", "TUI", lambda: tui_bench.run(data, args.reps, log, list_cold)),
        ("search", "search", lambda: search_bench.bench_cli(data, args.reps, log, list_cold)),
        ("search", "TUI search", lambda: search_bench.bench_tui(data, args.reps, log)),
    )
    for part, name, run in steps:
        if part not in parts:
            continue
        try:
            r, x = run()
        except Exception as exc:  # noqa: BLE001 - one broken part must not lose the others
            log(f"{name}: FAILED: {exc}")
            why = (str(exc).strip().splitlines() or [""])[-1][:80]
            rows.append(Row(f"{name}: the part failed", "error", why, None, "", False))
            continue
        rows += r
        extra[name] = x
        if part == "list":
            list_cold = x["cold"]
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
        print(f"\n{name}:")
        if x["rss"]:
            print("  peak RSS (MB) " + ", ".join(f"{k} {v:.0f}" for k, v in x["rss"].items()))
        if "spread" in x:
            print("  min–max s: " + ", ".join(f"{k} {v}" for k, v in x["spread"].items()))
        for key, value in x.get("notes", {}).items():
            print(f"  {key}: {value}")
    info = machine.describe(load_before, load_after)
    print("\n" + info)
    print(f"bench total {time.perf_counter() - started:.0f}s")
    if write:
        machine.write_results(RESULTS, table, extra, info)
        print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
