"""SPEC §6: reading never modifies a ledger directory, creates no file, works read-only.

Every file is compared byte for byte, ``-shm`` included, wherever no process holds the ledger
open: a crashed writer's ``-wal``/``-shm`` are read from a private copy, because SQLite, as the
first connection, would rewrite the ``-shm``. One exception, only while another process holds
the ledger open (a live writer): its ``-shm`` is the shared-memory index every reader of the
live database writes read-marks into, the runner's own included; it holds no ledger data. So
for those files the tests compare the database and ``-wal`` bytes and the set of files.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from ledger_factory import (
    RunSpec,
    StepSpec,
    dir_state,
    make_crashed_wal,
    make_hot_journal,
    make_ledger,
)

from ledger_core import Sources, read_run, read_steps_page, scan
from ledger_core.ledgers.reader import read_attempts

NOW = 1_779_012_000.0
RUN = RunSpec(
    "r-ro",
    steps=[StepSpec.committed(1), StepSpec.failed(2), StepSpec.in_doubt(3)],
)


def _read_everything(directory: Path) -> list[str]:
    """Everything a browsing session does: scan, open each run, page its steps."""
    result = scan(Sources((directory,)), now=NOW)
    for run in result.runs:
        read_run(Path(run.source), run.run_id, now=NOW)
        read_steps_page(Path(run.source), run.run_id, 0, 2)
        read_attempts(Path(run.source), run.run_id)
    return sorted(r.run_id for r in result.runs)


def _without_shm(state: dict[str, bytes]) -> dict[str, bytes]:
    return {k: v for k, v in state.items() if not k.endswith("-shm")}


def test_clean_wal_file_is_byte_identical_and_nothing_is_created(tmp_path):
    make_ledger(tmp_path / "a.db", [RUN])
    make_ledger(tmp_path / "b.db", [RunSpec("r-b", steps=[StepSpec.committed(1)])])
    before = dir_state(tmp_path)
    mtime = os.stat(tmp_path / "a.db").st_mtime_ns
    assert _read_everything(tmp_path) == ["r-b", "r-ro"]
    assert dir_state(tmp_path) == before  # same names (no -wal/-shm left), same bytes
    assert os.stat(tmp_path / "a.db").st_mtime_ns == mtime


def test_rollback_journal_file_is_byte_identical(tmp_path):
    make_ledger(tmp_path / "j.db", [RUN], journal="delete")
    before = dir_state(tmp_path)
    assert _read_everything(tmp_path) == ["r-ro"]
    assert dir_state(tmp_path) == before


@pytest.mark.parametrize("shm", ["as left", "truncated", "garbage"])
def test_crashed_writer_leftovers_are_byte_identical_shm_included(tmp_path, shm):
    """Nobody holds the files: the -shm is not rewritten, whatever state it was left in."""
    make_crashed_wal(tmp_path / "crashed.db", [RUN])
    if shm == "truncated":
        os.truncate(tmp_path / "crashed.db-shm", 0)
    elif shm == "garbage":
        (tmp_path / "crashed.db-shm").write_bytes(b"\xa5" * 32768)
    before = dir_state(tmp_path)
    assert set(before) == {"crashed.db", "crashed.db-wal", "crashed.db-shm"}
    assert _read_everything(tmp_path) == ["r-ro"]
    detail = read_run(tmp_path / "crashed.db", "r-ro", now=NOW)
    assert [s.derived_status for s in detail.steps] == ["committed", "failed", "in_doubt"]
    assert detail.summary.liveness == "dead"
    assert dir_state(tmp_path) == before  # the -wal is neither checkpointed nor deleted


def test_ledgerx_list_leaves_a_crashed_ledgers_truncated_shm_alone(tmp_path):
    """The adversarial review's repro, through the real command."""
    make_crashed_wal(tmp_path / "crashed.db", [RUN])
    os.truncate(tmp_path / "crashed.db-shm", 0)
    before = dir_state(tmp_path)
    repo = Path(__file__).resolve().parents[2]
    for args in (["list"], ["state", "r-ro"]):
        proc = subprocess.run(
            [sys.executable, "-m", "tui.cli.main", "--ledger-dir", str(tmp_path), *args],
            cwd=repo,
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "LEDGERX_CACHE_DIR": "off"},
        )
        assert proc.returncode == 0, proc.stderr
        assert "r-ro" in proc.stdout
        assert dir_state(tmp_path) == before, args


def test_copied_crash_leftovers_without_shm_create_no_file(tmp_path):
    """A -wal without its -shm: SQLite would build a -shm beside it; ledgerx reads a copy."""
    make_crashed_wal(tmp_path / "copied.db", [RUN])
    os.remove(tmp_path / "copied.db-shm")
    before = dir_state(tmp_path)
    assert _read_everything(tmp_path) == ["r-ro"]  # the rows only in the -wal are seen
    detail = read_run(tmp_path / "copied.db", "r-ro", now=NOW)
    assert [s.derived_status for s in detail.steps] == ["committed", "failed", "in_doubt"]
    assert dir_state(tmp_path) == before


def test_hot_journal_is_not_replayed(tmp_path):
    make_hot_journal(tmp_path / "hot.db")
    before = dir_state(tmp_path)
    result = scan(Sources((tmp_path,)), now=NOW)
    assert [p.kind for p in result.problems] == ["needs_recovery"]
    assert dir_state(tmp_path) == before


# A live writer in another process: WAL, one row committed, the connection kept open.
LIVE_WRITER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA journal_mode=WAL")
conn.execute(
    "INSERT INTO run (run_id, state, started_at) VALUES ('r-live', 'running', ?)",
    ("2026-05-17T09:00:00Z",),
)
print("ready", flush=True)
sys.stdin.readline()
conn.close()
"""


def test_live_writer_wal_changes_only_shm(tmp_path):
    path = make_ledger(tmp_path / "live.db", [])
    writer = subprocess.Popen(
        [sys.executable, "-c", LIVE_WRITER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        before = dir_state(tmp_path)
        assert "live.db-wal" in before
        assert _read_everything(tmp_path) == ["r-live"]
        after = dir_state(tmp_path)
        assert set(after) == set(before)
        assert _without_shm(after) == _without_shm(before)
    finally:
        writer.communicate("\n", timeout=30)


def test_missing_paths_are_not_created(tmp_path):
    ghost_file = tmp_path / "ghost.db"
    ghost_dir = tmp_path / "ghost-dir"
    odd = tmp_path / "odd#name?.db"
    result = scan(Sources((ghost_dir,), (ghost_file, odd)), now=NOW)
    assert len(result.problems) == 3 and not result.runs
    assert list(tmp_path.iterdir()) == []


def test_every_sqlite_open_is_read_only(tmp_path, monkeypatch):
    """White-box: whatever the file, ledgerx only ever asks SQLite for ``mode=ro``."""
    make_ledger(tmp_path / "wal.db", [RUN])
    make_ledger(tmp_path / "j.db", [RunSpec("r-j")], journal="delete")
    make_crashed_wal(tmp_path / "crash#1.db", [RunSpec("r-c", steps=[StepSpec.in_doubt(1)])])
    opened: list[str] = []
    real_connect = sqlite3.connect

    def spy(database, *args, **kwargs):
        opened.append(str(database))
        return real_connect(database, *args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", spy)
    assert _read_everything(tmp_path) == ["r-c", "r-j", "r-ro"]
    assert opened
    for uri in opened:
        assert uri.startswith("file:///") and "mode=ro" in uri.split("?", 1)[1], uri
        assert "#" not in uri and uri.count("?") == 1, "special characters must be encoded"


NOBODY = 65534  # uid and gid of ``nobody``


def _drop_privileges() -> None:
    if os.getuid() == 0:
        os.setgid(NOBODY)
        os.setgroups([])
        os.setuid(NOBODY)


def _unprivileged(args: list[str], **kw: object) -> subprocess.CompletedProcess:
    """Run ``args`` as ``nobody`` when this process is root (else as this user)."""
    return subprocess.run(
        args,
        cwd="/",
        preexec_fn=_drop_privileges,
        capture_output=True,
        text=True,
        timeout=60,
        **kw,  # type: ignore[arg-type]
    )


def _python_for_nobody() -> tuple[str | None, str]:
    """An interpreter of this Python version that the unprivileged user can run, and why not.

    The venv's own interpreter may live where ``nobody`` cannot go (a checkout or a pyenv under
    ``/root``, mode 0700); the same version installed system-wide serves as well, since the
    child imports only ``ledger_core`` (standard library only) from a copy it can read.
    """
    want = f"{sys.version_info[0]}.{sys.version_info[1]}"
    candidates = dict.fromkeys(
        [
            sys.executable,
            os.path.realpath(sys.executable),
            getattr(sys, "_base_executable", sys.executable),
            f"/usr/bin/python{want}",
            f"/usr/local/bin/python{want}",
            "/usr/bin/python3",
        ]
    )
    for candidate in candidates:
        try:
            probe = _unprivileged(
                [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]
            )
        except OSError:
            continue  # not there, or not executable by that user
        if probe.returncode == 0 and probe.stdout.strip() == want:
            return candidate, ""
    return None, f"no python{want} that an unprivileged user may run"


# What the child imports; the packages it pulls in from outside the standard library (none
# today) are copied too, so a new dependency cannot make the test fail for the wrong reason.
CHILD_IMPORTS = "import ledger_core.ledgers.reader, ledger_core.ledgers.sources"


def _readable_copy_of_ledger_core(into: Path) -> Path:
    """Copy ``ledger_core`` (and what it imports from site-packages) to ``into`` with
    world-readable modes; return the import root.

    The checkout itself may be unreadable to ``nobody`` (cloned under ``/root``).
    """
    repo = Path(__file__).resolve().parents[2]
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            f"{CHILD_IMPORTS}\nimport json, sys, sysconfig\n"
            "site = sysconfig.get_paths()['purelib'], sysconfig.get_paths()['platlib']\n"
            "print(json.dumps(sorted({(s, m.__file__) for m in list(sys.modules.values())"
            " for s in site if (getattr(m, '__file__', None) or '').startswith(s + '/')})))",
        ],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    root = into / "site"
    copies = {repo / "ledger_core": root / "ledger_core"}
    for site, name in json.loads(probe.stdout):
        # A package's top-level directory under site-packages, or a single module file.
        top = Path(site) / Path(name).relative_to(site).parts[0]
        copies[top] = root / top.name
    for source, target in copies.items():
        if source.is_dir():
            ignore = shutil.ignore_patterns("__pycache__")
            shutil.copytree(source, target, ignore=ignore, dirs_exist_ok=True)
        else:
            shutil.copy2(source, target)
    for folder, _dirs, files in os.walk(root):
        os.chmod(folder, 0o755)
        for name in files:
            os.chmod(Path(folder) / name, 0o644)
    return root


def _can_drop_privileges() -> str | None:
    """Why the unprivileged subprocess test cannot run here, or None when it can."""
    if os.getuid() != 0:
        return None  # not root: the permission bits already apply to this process
    try:
        import pwd

        pwd.getpwuid(NOBODY)
    except KeyError:
        return "no 'nobody' user to drop privileges to"
    return None


@pytest.mark.skipif(_can_drop_privileges() is not None, reason=str(_can_drop_privileges()))
def test_read_only_directory():
    """chmod 0555 directory, 0444 files: reading works and nothing changes.

    Tests run as root, which ignores permission bits; the reader then runs as ``nobody``, from
    a copy of ``ledger_core`` it can read, wherever this checkout is.
    """
    python, why_not = _python_for_nobody()
    if python is None:
        pytest.skip(why_not)
    base = Path(tempfile.mkdtemp(prefix="ledgerx-ro-"))
    try:
        os.chmod(base, 0o755)
        site = _readable_copy_of_ledger_core(base)
        directory = base / "ledgers"
        directory.mkdir()
        make_ledger(directory / "wal.db", [RUN])
        make_ledger(directory / "journal.db", [RunSpec("r-j")], journal="delete")
        make_crashed_wal(directory / "crashed.db", [RunSpec("r-c", steps=[StepSpec.in_doubt(1)])])
        make_crashed_wal(directory / "copied.db", [RunSpec("r-copy")])
        os.remove(directory / "copied.db-shm")
        for item in directory.iterdir():
            os.chmod(item, 0o444)
        os.chmod(directory, 0o555)
        before = dir_state(directory)
        code = (
            "import json, os, sys\n"
            "from pathlib import Path\n"
            f"import ledger_core\n{CHILD_IMPORTS}\n"
            "from ledger_core.ledgers.reader import scan, read_run\n"
            "from ledger_core.ledgers.sources import Sources\n"
            "r = scan(Sources((Path(sys.argv[1]),)))\n"
            "steps = {x.run_id: len(read_run(Path(x.source), x.run_id).steps) for x in r.runs}\n"
            "print(json.dumps({'steps': steps, 'problems': [p.to_dict() for p in r.problems],"
            " 'uid': os.getuid(), 'package': ledger_core.__file__}))\n"
        )
        # No summary cache: it would be written under nobody's (unwritable) home.
        env = {"PYTHONPATH": str(site), "LEDGERX_CACHE_DIR": "off", "HOME": "/nonexistent"}
        proc = _unprivileged([python, "-B", "-s", "-c", code, str(directory)], env=env)
        assert proc.returncode == 0, proc.stderr
        report = json.loads(proc.stdout)
        assert report["uid"] != 0 or os.getuid() != 0
        assert report["package"].startswith(str(site)), "the child must import the copy"
        assert report["problems"] == []
        assert report["steps"] == {"r-ro": 3, "r-j": 0, "r-c": 1, "r-copy": 0}
        assert dir_state(directory) == before  # -shm included: nobody holds crashed.db
    finally:
        for root, dirs, _files in os.walk(base):
            for name in dirs:
                os.chmod(Path(root) / name, 0o755)
        subprocess.run(["rm", "-rf", str(base)], check=False)
