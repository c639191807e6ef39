"""Bench: listing 10,000 runner files with this checkout against ledgerx before the format layer.

Issue 9: "recognising formats costs the runner's ledgers nothing measurable: list figures for
10,000 runner files stay within 5 % of today's". "Today" is ``OLD_COMMIT``, main just before the
formats merge (3337845). Its tree is extracted with ``git archive`` into a temporary directory
and run by the same interpreter and venv as ``python -m tui.cli.main`` with that directory as
the working directory (``sys.path[0]``), so its ``ledger_core`` and ``tui`` are imported, not
this checkout's (checked once, before timing). Without git history the row says so and the
bench goes on.

How a noisy machine is kept from lying: old and new run alternately in ABBA order (a load that
grows or fades hits both sides alike), every pair of neighbouring runs gives one ratio, and the
figure is the median of those paired ratios, shown with their min–max and the medians of both
sides. Both sides compile into one private ``PYTHONPYCACHEPREFIX`` after a warm-up run, so
neither pays for compiling its modules (this environment sets ``PYTHONDONTWRITEBYTECODE``; an
installed ledgerx has bytecode). The ratio covers every change since ``OLD_COMMIT``, not only
the format layer.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from .generate import DataSet
from .measure import ROOT, Row, Sample, Series, run_process

OLD_COMMIT = "d41fd3f"  # main just before the formats merge 3337845
TARGET = 1.05
MIN_PAIRS = 4  # fewer, and one disturbed pair moves the median


def extract_commit(commit: str, dest: Path, repo: Path = ROOT) -> str | None:
    """Extract ``commit``'s tree of ``repo`` into ``dest``; None, or why it could not."""
    if commit.startswith("-") or not commit.strip():
        return f"not a commit: {commit!r}"
    git = shutil.which("git")
    if git is None:
        return "no git history (git not installed)"
    found = subprocess.run(
        [git, "-C", str(repo), "rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}"],
        capture_output=True,
        check=False,
    )
    if found.returncode != 0:
        shallow = subprocess.run(
            [git, "-C", str(repo), "rev-parse", "--is-shallow-repository"],
            capture_output=True,
            text=True,
            check=False,
        )
        if shallow.returncode != 0:
            return "no git history (not a git checkout)"
        why = "shallow clone" if shallow.stdout.strip() == "true" else "commit not found"
        return f"no git history ({why}: {commit} is missing)"
    archive = dest / f".{commit}.tar"
    dest.mkdir(parents=True, exist_ok=True)
    made = subprocess.run(
        [git, "-C", str(repo), "archive", "--format=tar", "-o", str(archive), commit],
        capture_output=True,
        text=True,
        check=False,
    )
    if made.returncode != 0:
        return f"git archive {commit} failed: {made.stderr.strip()[:200]}"
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(dest, filter="data")
    finally:
        archive.unlink(missing_ok=True)
    return None


def imported_from(tree: Path, env: dict[str, str]) -> list[Path]:
    """Where ``ledger_core`` and ``tui.cli.main`` come from when run with ``cwd=tree``."""
    code = (
        "import json, ledger_core, tui.cli.main; "
        "print(json.dumps([ledger_core.__file__, tui.cli.main.__file__]))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tree,
        env=os.environ.copy() | env,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"cannot import ledgerx in {tree}: {proc.stderr.strip()[-500:]}")
    # The last line: importing a module may print (the test's fake one does).
    return [Path(f).resolve() for f in json.loads(proc.stdout.strip().splitlines()[-1])]


def _list_cmd(many: Path) -> list[str]:
    # The same arguments on both sides: OLD_COMMIT's CLI has `list --format json --ledger-dir`.
    return [
        sys.executable,
        "-m",
        "tui.cli.main",
        "list",
        "--format",
        "json",
        "--ledger-dir",
        str(many),
    ]


def _run_ids(tree: Path, many: Path, env: dict[str, str]) -> set[str]:
    out = Path(tempfile.mkdtemp(prefix="ledgerx-bench-")) / "list.json"
    try:
        run_process(_list_cmd(many), env=env | {"LEDGERX_CACHE_DIR": "off"}, stdout=out, cwd=tree)
        return {run["run_id"] for run in json.loads(out.read_text())}
    finally:
        shutil.rmtree(out.parent, ignore_errors=True)


def _pairs(reps: int, sides: dict[str, Path], make) -> tuple[list[Series], list[float]]:
    """``reps`` ABBA-ordered runs per side; both series and the paired ratios new / old."""
    (old, _), (new, _) = sides.items()
    series = {name: Series(name) for name in sides}
    for i in range(reps):
        for name in [old, new] if i % 2 == 0 else [new, old]:
            series[name].samples.append(make(name, sides[name]))
    return list(series.values()), _paired(*series.values(), lambda s: s.seconds)


def _paired(old: Series, new: Series, value) -> list[float]:
    return [value(n) / value(o) for o, n in zip(old.samples, new.samples, strict=True)]


def _row(name: str, series: list[Series], ratios: list[float]) -> tuple[Row, str]:
    old, new = series
    ratio = statistics.median(ratios)
    low, high = min(ratios), max(ratios)
    quartiles = statistics.quantiles(ratios, n=4) if len(ratios) >= 2 else [ratio, ratio, ratio]
    note = (
        f"paired ratios {low:.2f}–{high:.2f} (quartiles {quartiles[0]:.2f}–{quartiles[2]:.2f}), "
        f"{len(ratios)} pairs; {old.name} {old.spread()} s, {new.name} {new.spread()} s"
    )
    # CPU time (all processes) moves far less with the machine's load than wall time: a
    # second opinion when the wall-time pairs are too noisy.
    cpu = (
        _paired(old, new, lambda s: s.cpu_seconds)
        if all(s.cpu_seconds > 0 for s in (*old.samples, *new.samples))
        else []
    )
    if cpu:
        note += (
            f"; CPU time paired ratio {statistics.median(cpu):.2f} ({min(cpu):.2f}–{max(cpu):.2f})"
        )
    # When the middle half of the pairs alone is wider than the bar, the median could land on
    # either side of it by chance: no verdict rather than a false one.
    noisy = quartiles[2] - quartiles[0] > 2 * (TARGET - 1.0)
    few = len(ratios) < MIN_PAIRS
    if noisy:
        note += "; the middle half of the pairs is wider than the 5 % bar: too noisy to decide"
    if few:
        note += f"; fewer than {MIN_PAIRS} pairs: too few to decide"
    target = f"≤ {TARGET:.2f}× (paired)" + (", no verdict" if noisy or few else "")
    ok = None if noisy or few else ratio <= TARGET
    row = Row(name, f"{new.median:.3f}s", f"{old.name} {old.median:.3f}s", ratio, target, ok)
    return row, note


def _prepare(sides: dict[str, Path], many: Path, env: dict[str, str], log) -> dict[str, str]:
    """Check each side imports its own tree and lists the same runs; the notes to print."""
    notes = {}
    for name, tree in sides.items():
        files = imported_from(tree, env)
        if not all(f.is_relative_to(tree.resolve()) for f in files):
            raise RuntimeError(f"{name}: ledgerx imported from {files}, not from {tree}")
        notes[f"{name} imports"] = str(files[0])
        log(f"  {name}: ledger_core from {files[0]}")
    # The same arguments accepted and the same runs listed (this also compiles both sides
    # into the pycache prefix, so no timed run compiles).
    listed = [_run_ids(tree, many, env) for tree in sides.values()]
    if listed[0] != listed[1] or not listed[0]:
        raise RuntimeError(f"{' and '.join(sides)} list different runs of {many}")
    return notes


def bench_before_formats(
    data: DataSet,
    reps: int,
    log,
    old: str = OLD_COMMIT,
    new: str | None = None,
    repo: Path = ROOT,
) -> tuple[list[Row], dict]:
    """Old commit against this checkout (or against commit ``new``): list 10k files, cold, warm."""
    many = data.many_dir
    work = Path(tempfile.mkdtemp(prefix="ledgerx-bench-old-"))
    try:
        sides = {old: work / "old"}
        if new is not None:
            sides[new] = work / "new"
        why = next(filter(None, (extract_commit(c, tree, repo) for c, tree in sides.items())), None)
        if why is not None:
            log(f"list 10k files before formats: skipped: {why}")
            row = Row("list 10k files vs before formats", f"skipped: {why}", "", None, "", None)
            return [row], {"rss": {}, "notes": {"skipped": why}}
        if new is None:
            sides["this checkout"] = ROOT
        pycache = work / "pycache"
        env = {"PYTHONPYCACHEPREFIX": str(pycache), "PYTHONDONTWRITEBYTECODE": "", "PYTHONPATH": ""}
        try:
            notes = _prepare(sides, many, env, log)
        except (RuntimeError, ValueError, KeyError, TypeError) as error:
            # A side that cannot list these files is a finding, not a reason to lose the
            # rest of the bench.
            why = f"not measured: {error}"
            log(f"list 10k files before formats: {why}")
            row = Row("list 10k files vs before formats", why[:120], "", None, "", False)
            return [row], {"rss": {}, "notes": {"error": why}}
        cmd = _list_cmd(many)
        log(f"list 10k files, {' vs '.join(sides)}, ABBA: cold ×{reps}, warm ×{reps} …")

        def cold(_: str, tree: Path) -> Sample:
            cache = tempfile.mkdtemp(prefix="ledgerx-bench-cache-", dir=work)
            try:
                return run_process(cmd, env=env | {"LEDGERX_CACHE_DIR": cache}, cwd=tree)
            finally:
                shutil.rmtree(cache, ignore_errors=True)

        caches = {name: str(work / f"cache-{i}") for i, name in enumerate(sides)}
        for name, tree in sides.items():  # one cache each: their cache formats may differ
            run_process(cmd, env=env | {"LEDGERX_CACHE_DIR": caches[name]}, cwd=tree)

        def warm(name: str, tree: Path) -> Sample:
            return run_process(cmd, env=env | {"LEDGERX_CACHE_DIR": caches[name]}, cwd=tree)

        cold_series, cold_ratios = _pairs(reps, sides, cold)
        warm_series, warm_ratios = _pairs(reps, sides, warm)
        what = "vs before formats" if (old, new) == (OLD_COMMIT, None) else f"{new or 'this'}/{old}"
        cold_row, cold_note = _row(f"list 10k files, cold, {what}", cold_series, cold_ratios)
        warm_row, warm_note = _row(f"list 10k files, warm, {what}", warm_series, warm_ratios)
        notes |= {"cold": cold_note, "warm": warm_note}
        rss = {
            f"{s.name} {kind}": s.peak_rss_mb
            for kind, group in (("cold", cold_series), ("warm", warm_series))
            for s in group
        }
        return [cold_row, warm_row], {"rss": rss, "notes": notes}
    finally:
        shutil.rmtree(work, ignore_errors=True)
