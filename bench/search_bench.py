"""Search figures: first search with no index, warm queries in the CLI, the TUI per keystroke,
and the index design measured three ways (``LIKE`` over every document, over each file's
folded text, and the FTS5 ``trigram`` lookup the index uses).

Every CLI figure is a whole process; the design comparison runs in one process over the same
documents, so it compares only the two indexes.

Alone (``python -m bench.search_bench --quick [--files N] [--dir DIR]``): only these figures,
on a directory of per-run files generated for it (not the 1,000,000-step file ``make bench``
also builds), without the FTS5 comparison, printed and not written to ``results.md``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from .generate import FILES, DataSet
from .measure import ROOT, Row, Series, ledgerx, repeat, run_process
from .tui_bench import _probe

# What a support engineer types: a URL fragment, an error word, a date, two characters, a
# correlation-id-like hex run, and a text found nowhere (the whole table is scanned).
QUERIES = ("salesOrders(0000", "BadRequest", "2026-04-0", "zz", "9f3a", "no-such-text")
TUI_TEXT = "BadRequest/items"


def _fresh_cache() -> str:
    return tempfile.mkdtemp(prefix="ledgerx-bench-cache-")


def bench_cli(
    data: DataSet, reps: int, log, list_cold: float | None, *, design: bool = True
) -> tuple[list[Row], dict]:
    many = str(data.many_dir)
    log(f"search: first search with no index ×{reps}, warm queries ×{reps} each …")
    first_cmd = ledgerx("search", "BadRequest/items", "--ledger-dir", many)
    list_cmd = ledgerx("list", "--format", "json", "--ledger-dir", many)
    first = Series("search, no index")
    cold_list = Series("list cold")
    for _ in range(reps):
        for series, cmd in ((first, first_cmd), (cold_list, list_cmd)):
            cache = _fresh_cache()
            try:
                series.samples.append(run_process(cmd, env={"LEDGERX_CACHE_DIR": cache}))
            finally:
                shutil.rmtree(cache, ignore_errors=True)
    cache = _fresh_cache()
    warm: dict[str, Series] = {}
    try:
        run_process(first_cmd, env={"LEDGERX_CACHE_DIR": cache})
        for query in QUERIES:
            cmd = ledgerx("search", query, "--ledger-dir", many)
            warm[query] = repeat(
                query,
                reps,
                lambda _, cmd=cmd: run_process(cmd, env={"LEDGERX_CACHE_DIR": cache}),
            )
        startup = repeat(
            "ledgerx --version",
            reps,
            lambda _: run_process(ledgerx("--version")),
        )
        design = _design(cache, log) if design else {}
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    worst_query = max(warm, key=lambda q: warm[q].median)
    worst = warm[worst_query].median
    rows = [
        Row(
            "search, first (no index, cold cache)",
            f"{first.median:.3f}s",
            f"list cold {cold_list.median:.3f}s",
            first.median / cold_list.median,
            "≤ 2.0×",
            first.median <= 2.0 * cold_list.median,
        ),
        Row(
            f"search, warm index, slowest query ({worst_query!r})",
            f"{worst:.3f}s",
            f"ledgerx --version {startup.median:.3f}s",
            worst / startup.median,
            "≤ 0.2 s",
            worst <= 0.2,
        ),
    ]
    notes = {
        "warm queries (median s)": ", ".join(f"{q!r} {s.median:.3f}" for q, s in warm.items()),
        **design,
    }
    spreads = {"search, no index": first.spread(), "list cold": cold_list.spread()}
    rss = {"search, no index": first.peak_rss_mb, "list cold": cold_list.peak_rss_mb}
    return rows, {"rss": rss, "spread": spreads, "notes": notes}


def _design(cache: str, log) -> dict[str, str]:
    """The index's three ways of finding candidates, timed on the index the warm queries used:
    a LIKE scan of every document row (the design before the trigram index), a LIKE scan of
    each file's folded text (needles under three characters), and the trigram lookup."""
    from ledger_core.triage.search_grams import _escape_like, candidate_queries
    from ledger_core.triage.search_index import LAYOUT

    source = os.path.join(cache, f"search-v{LAYOUT}.sqlite")
    log("search: index design, LIKE over documents / over folded files / trigram lookup …")
    conn = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        docs = conn.execute("SELECT count(*) FROM doc").fetchone()[0]
        sizes = {
            name: conn.execute(
                "SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name LIKE ?", (name + "%",)
            ).fetchone()[0]
            for name in ("doc", "folded", "grams")
        }
        like: dict[str, float] = {}
        folded: dict[str, float] = {}
        grams: dict[str, float] = {}
        for query in QUERIES:
            needle = query.casefold()
            pattern = "%" + _escape_like(query) + "%"
            like[query] = _best(
                lambda p=pattern: conn.execute(
                    "SELECT count(*) FROM doc WHERE body LIKE ? ESCAPE '\\'", (p,)
                ).fetchall()
            )
            plan = candidate_queries(conn, needle, grams=False)
            folded[query] = _best(lambda plan=plan: [conn.execute(*q).fetchall() for q in plan])
            plan = candidate_queries(conn, needle, grams=True)
            grams[query] = _best(lambda plan=plan: [conn.execute(*q).fetchall() for q in plan])
    except sqlite3.OperationalError as exc:  # e.g. a SQLite without dbstat or FTS5
        return {"design": f"not measured ({exc})"}
    finally:
        conn.close()
    mb = {name: size / 1e6 for name, size in sizes.items()}
    return {
        "design: documents": f"{docs:,} (runs and steps of {FILES:,} files)",
        "design: sizes (MB)": f"doc {mb['doc']:.0f}, folded {mb['folded']:.0f}, "
        f"grams {mb['grams']:.0f}",
        "design: LIKE over every document, every match (s)": ", ".join(
            f"{q!r} {t:.3f}" for q, t in like.items()
        ),
        "design: LIKE over each file's folded text (s)": ", ".join(
            f"{q!r} {t:.3f}" for q, t in folded.items()
        ),
        "design: trigram lookup, scan under 3 characters (s)": ", ".join(
            f"{q!r} {t:.3f}" for q, t in grams.items()
        ),
    }


def _best(fn, times: int = 3) -> float:
    best = float("inf")
    for _ in range(times):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def bench_tui(data: DataSet, reps: int, log, *, files: int = FILES) -> tuple[list[Row], dict]:
    log(f"search in the TUI, {TUI_TEXT!r} key by key, warm index: ×{reps} …")
    cache = _fresh_cache()
    try:
        args = ("search", str(data.many_dir), str(files), TUI_TEXT)
        _probe(*args, cache=cache)  # builds the index (and fills the summary cache)
        results = [_probe(*args, cache=cache) for _ in range(reps)]
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    worst = statistics.median(max(r["latencies"]) for r in results)
    typical = statistics.median(statistics.median(r["latencies"]) for r in results)
    stall = statistics.median(r["max_stall"] for r in results)
    rows = [
        Row(
            "TUI search: key → results painted, slowest key",
            f"{worst * 1000:.0f} ms",
            f"median key {typical * 1000:.0f} ms",
            worst / typical if typical else None,
            "≤ 100 ms",
            worst <= 0.1,
        ),
        Row(
            "TUI search: longest stall while typing",
            f"{stall * 1000:.0f} ms",
            "",
            None,
            "≤ 50 ms",
            stall <= 0.05,
        ),
    ]
    notes = {
        "TUI search latencies per key (ms, first probe)": ", ".join(
            f"{x * 1000:.0f}" for x in results[0]["latencies"]
        ),
        "TUI search: / → index up to date and its text in memory (s; longest stall meanwhile)": (
            ", ".join(
                f"{r.get('ready', 0):.2f} ({r.get('ready_stall', 0) * 1000:.0f} ms)"
                for r in results
            )
        ),
    }
    return rows, {"rss": {"TUI search": max(r["rss_mb"] for r in results)}, "notes": notes}


# -- alone: python -m bench.search_bench --quick ----------------------------------------------


def _quick_data(files: int, log) -> Path:
    """``files`` per-run ledgers as ``make bench`` writes them, generated once and kept."""
    import json
    import socket

    from . import generate

    where = generate.DATA_DIR / f"search-quick-{files}"
    stamp = where / "stamp.json"
    want = {"generator": generate.GENERATOR_VERSION, "files": files}
    try:
        if json.loads(stamp.read_text()) == want:
            return where / "many"
    except (OSError, ValueError):
        pass
    log(f"generating {files:,} ledger files in {where} …")
    shutil.rmtree(where, ignore_errors=True)
    where.mkdir(parents=True)
    saved = generate.FILES
    generate.FILES = files  # _build_many's chunking reads it
    try:
        generate._build_many(where / "many", socket.gethostname())
    finally:
        generate.FILES = saved
    stamp.write_text(json.dumps(want))
    return where / "many"


def main(argv: list[str] | None = None) -> int:
    from . import machine
    from .__main__ import _table

    parser = argparse.ArgumentParser(prog="python -m bench.search_bench", description=__doc__)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="3 repetitions and no comparison of the index designs",
    )
    parser.add_argument("--files", type=int, default=FILES, help=f"ledger files (default {FILES})")
    parser.add_argument("--dir", type=Path, help="an existing directory of ledgers instead")
    parser.add_argument("--reps", type=int, help="repetitions (default 5, 3 with --quick)")
    parser.add_argument("--skip-tui", action="store_true")
    parser.add_argument("--skip-cli", action="store_true")
    args = parser.parse_args(argv)
    log = lambda m: print(m, flush=True)  # noqa: E731
    reps = args.reps or (3 if args.quick else 5)
    load_before = os.getloadavg()
    many = args.dir.resolve() if args.dir else _quick_data(args.files, log)
    files = len([n for n in os.listdir(many) if n.endswith((".db", ".sqlite", ".sqlite3"))])
    data = DataSet(many.parent, many, many, many, many, "", {})
    rows: list[Row] = []
    if not args.skip_cli:
        r, extra = bench_cli(data, reps, log, None, design=not args.quick)
        rows += r
        for key, value in extra["notes"].items():
            log(f"  {key}: {value}")
    if not args.skip_tui:
        r, extra = bench_tui(data, reps, log, files=files)
        rows += r
        for key, value in extra["notes"].items():
            log(f"  {key}: {value}")
    print("\n".join(_table(rows)))
    print(machine.describe(load_before, os.getloadavg()))
    print(f"data: {files:,} files in {many}; code: {ROOT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
