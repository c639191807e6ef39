"""The bench's old-commit row: extracting a commit, proving its code is what runs, skipping."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import before_formats
from bench.generate import DataSet
from bench.measure import ROOT, Sample, Series

GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench test",
    "GIT_AUTHOR_EMAIL": "bench@example.test",
    "GIT_COMMITTER_NAME": "bench test",
    "GIT_COMMITTER_EMAIL": "bench@example.test",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def _git(repo: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", "-C", str(repo), *args],
        env=os.environ | GIT_ENV,
        capture_output=True,
        text=True,
        check=True,
    )
    return proc.stdout.strip()


def _commit(repo: Path, files: dict[str, str], message: str) -> str:
    for name, text in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", message)
    return _git(repo, "rev-parse", "HEAD")


@pytest.fixture
def repo(tmp_path: Path) -> tuple[Path, str, str]:
    """A repo: a first commit with an old ``ledger_core`` and ``tui.cli.main``, then a newer one."""
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    old = _commit(
        repo,
        {
            "ledger_core/__init__.py": "VERSION = 'old'\n",
            "tui/__init__.py": "",
            "tui/cli/__init__.py": "",
            "tui/cli/main.py": "print('old main')\n",
        },
        "old",
    )
    new = _commit(repo, {"ledger_core/__init__.py": "VERSION = 'new'\n"}, "new")
    return repo, old, new


def test_extract_commit_writes_that_commits_tree(repo, tmp_path: Path) -> None:
    path, old, _ = repo
    dest = tmp_path / "old"
    assert before_formats.extract_commit(old[:7], dest, path) is None
    assert (dest / "ledger_core/__init__.py").read_text() == "VERSION = 'old'\n"
    assert (dest / "tui/cli/main.py").exists()
    assert not list(dest.glob("*.tar")), "the archive is removed after extraction"


def test_extracted_tree_is_what_runs_not_the_installed_checkout(repo, tmp_path: Path) -> None:
    path, old, _ = repo
    dest = tmp_path / "old"
    assert before_formats.extract_commit(old, dest, path) is None
    # The venv's editable install points at this checkout; cwd must win over it.
    files = before_formats.imported_from(dest, {"PYTHONPATH": ""})
    assert files == [
        (dest / "ledger_core/__init__.py").resolve(),
        (dest / "tui/cli/main.py").resolve(),
    ]
    here = before_formats.imported_from(ROOT, {"PYTHONPATH": ""})
    assert here[0] == (ROOT / "ledger_core/__init__.py").resolve()


def test_no_git_checkout_is_a_reason_not_an_error(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    why = before_formats.extract_commit("d41fd3f", tmp_path / "dest", plain)
    assert why is not None and why.startswith("no git history")


def test_shallow_clone_without_the_commit_says_so(repo, tmp_path: Path) -> None:
    path, old, _ = repo
    shallow = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", path.as_uri(), str(shallow)],
        env=os.environ | GIT_ENV,
        check=True,
    )
    why = before_formats.extract_commit(old, tmp_path / "dest", shallow)
    assert why == f"no git history (shallow clone: {old} is missing)"
    assert not (tmp_path / "dest").exists()


def test_option_like_commit_is_refused(repo, tmp_path: Path) -> None:
    path, _, _ = repo
    why = before_formats.extract_commit("--output=/tmp/x", tmp_path / "dest", path)
    assert why == "not a commit: '--output=/tmp/x'"


def test_bench_row_is_skipped_without_history(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    data = DataSet(tmp_path, tmp_path / "many", tmp_path / "copy", plain, plain, "r", {})
    logged: list[str] = []
    rows, extra = before_formats.bench_before_formats(data, 1, logged.append, repo=plain)
    assert len(rows) == 1
    assert rows[0].value.startswith("skipped: no git history")
    assert rows[0].ok is None and rows[0].verdict == ""
    assert extra["notes"]["skipped"].startswith("no git history")
    assert any("skipped" in line for line in logged)


def _series(name: str, seconds: list[float]) -> Series:
    return Series(name, [Sample(s, 1024, 0) for s in seconds])


def test_paired_ratio_verdicts() -> None:
    old = _series("old", [1.0] * 6)
    tight = [1.00, 1.01, 1.02, 1.02, 1.03, 1.04]
    row, note = before_formats._row("x", [old, _series("new", tight)], tight)
    assert row.verdict == "PASS" and "too noisy" not in note
    slow = [1.08, 1.09, 1.10, 1.10, 1.11, 1.12]
    row, _ = before_formats._row("x", [old, _series("new", slow)], slow)
    assert row.verdict == "MISS"
    wide = [0.80, 0.90, 1.00, 1.02, 1.20, 1.40]
    row, note = before_formats._row("x", [old, _series("new", wide)], wide)
    assert row.ok is None and "too noisy" in note and "0.80–1.40" in note
    few = [1.00, 1.01, 1.02]
    row, note = before_formats._row("x", [_series("old", [1.0] * 3), _series("new", few)], few)
    assert row.ok is None and "too few" in note


def test_unknown_part_is_refused() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--only", "list,bogus"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "unknown part bogus" in proc.stderr


def test_cpu_time_is_a_second_opinion_beside_noisy_wall_time() -> None:
    old = Series("old", [Sample(1.0, 1024, 0, 2.0) for _ in range(4)])
    new = Series("new", [Sample(w, 1024, 0, 2.4) for w in (0.7, 0.9, 1.2, 1.4)])
    ratios = before_formats._paired(old, new, lambda s: s.seconds)
    row, note = before_formats._row("x", [old, new], ratios)
    assert row.ok is None
    assert "CPU time paired ratio 1.20 (1.20–1.20)" in note


def test_a_side_that_cannot_list_is_a_miss_row_not_a_crash(repo, tmp_path: Path) -> None:
    path, old, new = repo
    many = tmp_path / "many"
    many.mkdir()
    data = DataSet(tmp_path, many, tmp_path / "copy", many, many, "r", {})
    logged: list[str] = []
    rows, extra = before_formats.bench_before_formats(
        data, 1, logged.append, old=old, new=new, repo=path
    )
    # Both fake trees import from themselves (checked), then print no JSON.
    assert any(line.endswith("/old/ledger_core/__init__.py") for line in logged)
    assert any(line.endswith("/new/ledger_core/__init__.py") for line in logged)
    assert len(rows) == 1 and rows[0].verdict == "MISS"
    assert rows[0].value.startswith("not measured: ")
    assert extra["notes"]["error"].startswith("not measured: ")
