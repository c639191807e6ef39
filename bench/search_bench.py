"""Search figures: first search with no index, warm queries in the CLI, the TUI per keystroke,
and the index design measured both ways (plain-table ``LIKE`` scan against FTS5 ``trigram``).

Every CLI figure is a whole process; the design comparison runs in one process over the same
documents, so it compares only the two indexes.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import statistics
import tempfile
import time

from .generate import FILES, DataSet
from .measure import Row, Series, ledgerx, repeat, run_process
from .tui_bench import _probe

# What a support engineer types: a URL fragment, an error word, a date, two characters, a
# correlation-id-like hex run, and a text found nowhere (the whole table is scanned).
QUERIES = ("salesOrders(0000", "BadRequest", "2026-04-0", "zz", "9f3a", "no-such-text")
TUI_TEXT = "BadRequest/items"


def _fresh_cache() -> str:
    return tempfile.mkdtemp(prefix="ledgerx-bench-cache-")


def bench_cli(data: DataSet, reps: int, log, list_cold: float | None) -> tuple[list[Row], dict]:
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
        design = _design(cache, log)
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
    """The same documents in a plain table scanned with LIKE and in an FTS5 trigram index."""
    from ledger_core.search_index import LAYOUT, _escape_like

    source = os.path.join(cache, f"search-v{LAYOUT}.sqlite")
    log("search: index design, LIKE scan against FTS5 trigram (builds an FTS5 index) …")
    work = tempfile.mkdtemp(prefix="ledgerx-bench-fts-")
    try:
        conn = sqlite3.connect(os.path.join(work, "fts.sqlite"), isolation_level=None)
        conn.execute("ATTACH ? AS src", (source,))
        started = time.perf_counter()
        conn.execute("CREATE TABLE doc AS SELECT doc_id, body FROM src.doc")
        plain_build = time.perf_counter() - started
        conn.execute(
            "CREATE VIRTUAL TABLE fts USING fts5(body, content='doc', content_rowid='doc_id', "
            "tokenize='trigram')"
        )
        started = time.perf_counter()
        conn.execute("INSERT INTO fts(fts) VALUES('rebuild')")
        fts_build = time.perf_counter() - started
        docs = conn.execute("SELECT count(*) FROM doc").fetchone()[0]
        like: dict[str, float] = {}
        fts: dict[str, float] = {}
        for query in QUERIES:
            pattern = "%" + _escape_like(query) + "%"
            like[query] = _best(
                lambda p=pattern: conn.execute(
                    "SELECT count(*) FROM doc WHERE body LIKE ? ESCAPE '\\'", (p,)
                ).fetchone()
            )
            if len(query) >= 3:
                phrase = '"' + query.replace('"', '""') + '"'
                fts[query] = _best(
                    lambda p=phrase: conn.execute(
                        "SELECT count(*) FROM fts WHERE fts MATCH ?", (p,)
                    ).fetchone()
                )
        conn.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {
        "design: documents": f"{docs:,} (runs and steps of {FILES:,} files)",
        "design: build": f"plain table {plain_build:.2f}s, FTS5 trigram {fts_build:.2f}s more",
        "design: LIKE scan, every match counted (s)": ", ".join(
            f"{q!r} {t:.3f}" for q, t in like.items()
        ),
        "design: FTS5 trigram (s; none under 3 characters)": ", ".join(
            f"{q!r} {t:.3f}" for q, t in fts.items()
        ),
    }


def _best(fn, times: int = 3) -> float:
    best = float("inf")
    for _ in range(times):
        started = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - started)
    return best


def bench_tui(data: DataSet, reps: int, log) -> tuple[list[Row], dict]:
    log(f"search in the TUI, {TUI_TEXT!r} key by key, warm index: ×{reps} …")
    cache = _fresh_cache()
    try:
        args = ("search", str(data.many_dir), str(FILES), TUI_TEXT)
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
        )
    }
    return rows, {"rss": {"TUI search": max(r["rss_mb"] for r in results)}, "notes": notes}
