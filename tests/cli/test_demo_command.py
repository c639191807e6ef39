"""``ledgerx demo DIR`` as a real process: ledgers, profiles, and how to restart the API."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ledger_core.ledgers.reader import scan
from ledger_core.ledgers.sources import Sources
from ledger_core.rollback.profiles import load_profiles

REPO = Path(__file__).resolve().parents[2]


def _demo(directory: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGERX_")}
    env["HOME"] = "/nonexistent-ledgerx-home"
    return subprocess.run(
        [sys.executable, "-m", "tui.cli.main", "demo", str(directory)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_demo_writes_ledgers_profiles_and_says_how_to_restart_the_api(tmp_path):
    directory = tmp_path / "my demo"
    proc = _demo(directory)
    assert proc.returncode == 0, proc.stderr
    profiles = load_profiles(directory / "profiles.toml")
    base_url = profiles.profiles["sandbox"].base_url
    port = base_url.rsplit(":", 1)[1]
    assert f"-m ledger_core.demo.api --port {port} --state" in proc.stdout
    assert (directory / "demo-api.json").exists()
    result = scan(Sources((directory / "ledgers",)))
    assert result.problems == [] and len(result.runs) >= 20
    # No writer was left running: nothing is alive once the command has exited.
    assert all(r.liveness != "alive" for r in result.runs)
    before = _tree(directory)
    again = _demo(directory)
    assert again.returncode == 2 and "is not empty" in again.stderr
    assert "ledgers/" in again.stderr and "profiles.toml" in again.stderr
    assert _tree(directory) == before


def _tree(directory: Path) -> dict[str, tuple[bytes | None, int]]:
    """Every entry under ``directory`` (itself included): bytes (files) and mtime."""
    tree: dict[str, tuple[bytes | None, int]] = {
        ".": (None, os.stat(directory, follow_symlinks=False).st_mtime_ns)
    }
    for path in sorted(directory.rglob("*")):
        st = os.stat(path, follow_symlinks=False)
        data = path.read_bytes() if path.is_file() and not path.is_symlink() else None
        tree[str(path.relative_to(directory))] = (data, st.st_mtime_ns)
    return tree


@pytest.mark.parametrize(
    ("entries", "named"),
    [
        ({"profiles.toml": "[profiles.prod]\ndisable_writes = true\n"}, "profiles.toml"),
        ({".hidden": "x"}, ".hidden"),
        ({"notes/": None}, "notes/"),
        ({"a": "1", "b": "2", "c": "3", "d": "4", "e": "5"}, "a, b, c and 2 more"),
    ],
)
def test_demo_refuses_a_directory_that_is_not_empty_and_touches_nothing(tmp_path, entries, named):
    """~/.config/ledgerx is the default profiles location: a demo must never replace a file."""
    directory = tmp_path / "config"
    directory.mkdir()
    for name, text in entries.items():
        if text is None:
            (directory / name).mkdir()
        else:
            (directory / name).write_text(text)
    os.utime(directory, ns=(1_000_000_000, 1_000_000_000))  # a past mtime any write would move
    before = _tree(directory)
    proc = _demo(directory)
    assert proc.returncode == 2, proc.stderr
    assert f"{directory} is not empty (it holds {named})" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    assert _tree(directory) == before


def test_demo_refuses_a_file_in_place_of_the_directory(tmp_path):
    target = tmp_path / "profiles.toml"
    target.write_text("[profiles.prod]\n")
    before = (target.read_bytes(), target.stat().st_mtime_ns)
    proc = _demo(target)
    assert proc.returncode == 2 and "exists and is not a directory" in proc.stderr
    assert (target.read_bytes(), target.stat().st_mtime_ns) == before


def test_demo_api_command_serves_and_keeps_records(tmp_path):
    import httpx

    state = tmp_path / "state.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "ledger_core.demo.api", "--port", "0", "--state", str(state)],
        cwd=REPO,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
        assert "demo API listening on http://127.0.0.1:" in line
        base = line.split(" on ", 1)[1].split(" ", 1)[0]
        url = f"{base}/api/v2.0/companies(c1)/customers"
        with httpx.Client(trust_env=False) as client:
            created = client.post(url, json={"displayName": "Adatum"})
            assert created.status_code == 201 and created.headers["x-correlation-id"]
            record = f"{url}({created.json()['id']})"
            assert client.get(record).status_code == 200
        assert created.json()["id"] in state.read_text()
        with httpx.Client(trust_env=False) as client:
            assert client.delete(record).status_code == 204
            assert client.delete(record).status_code == 404
    finally:
        proc.kill()
        proc.wait()


def test_demo_writes_into_an_existing_empty_directory(tmp_path):
    directory = tmp_path / "empty"
    directory.mkdir()
    proc = _demo(directory)
    assert proc.returncode == 0, proc.stderr
    assert (directory / "profiles.toml").is_file() and (directory / "ledgers").is_dir()
