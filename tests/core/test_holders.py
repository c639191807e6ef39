"""holders: a real second process holding a ledger open is seen, with its pid and command."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from ledger_factory import RunSpec, StepSpec, dir_state, make_crashed_wal, make_ledger

from ledger_core.ledgers import holders

REPO = Path(__file__).resolve().parents[2]

# Holds a WAL connection open (after one write, as a runner does) until killed.
HOLDER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA journal_mode=WAL")
conn.execute("SELECT count(*) FROM run").fetchone()
print("ready", flush=True)
time.sleep(600)
"""

# What another process sees: F_GETLK on the -shm's DMS byte, as JSON {"pid": …|null}.
PEEK = """
import fcntl, json, os, struct, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
req = struct.pack("@hhqqi4x", fcntl.F_WRLCK, 0, 128, 1, 0)
t, _w, _s, _l, pid = struct.unpack("@hhqqi4x", fcntl.fcntl(fd, fcntl.F_GETLK, req))
print(json.dumps({"pid": None if t == fcntl.F_UNLCK else pid}))
"""


def _hold(path: Path) -> subprocess.Popen:
    script = path.parent / "runner.py"
    script.write_text(HOLDER)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(path), "batch-runner-marker"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def _peek(shm: Path) -> int | None:
    out = subprocess.run(
        [sys.executable, "-c", PEEK, str(shm)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)["pid"]


def test_a_live_process_holding_the_ledger_is_seen_then_dead_after_sigkill(tmp_path):
    path = make_ledger(tmp_path / "run.db", [RunSpec("r1")])
    proc = _hold(path)
    try:
        found = holders.check(path)
        assert found.state == holders.HELD
        assert found.holder is not None and found.holder.pid == proc.pid
        assert found.holder.command is not None
        assert "batch-runner-marker" in found.holder.command
        assert found.holder.command.startswith("python")
        assert "runner.py run.db" in found.holder.command  # paths by their last part
        # The second signal is real too: the WAL connection keeps the database file's SHARED
        # window locked while it is open.
        db_fd = holders._probe_fd(str(path))
        assert db_fd is not None
        assert holders._getlk(db_fd, holders.PENDING_BYTE, holders.LOCK_WINDOW) == proc.pid
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    # A real crash leaves -wal and -shm behind, and nobody holds them.
    assert Path(f"{path}-shm").exists()
    after = holders.check(path)
    assert after.state == holders.FREE and after.holder is None


def test_a_cleanly_closed_ledger_cannot_be_known(tmp_path):
    path = make_ledger(tmp_path / "run.db", [RunSpec("r1")])
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("SELECT 1 FROM run").fetchall()
    conn.close()  # the last connection removes -wal and -shm
    assert not Path(f"{path}-shm").exists()
    kept = holders.kept_descriptors()
    found = holders.check(path)
    assert found.state == holders.UNKNOWN
    assert "no -shm" in found.reason
    assert holders.kept_descriptors() == kept, "nothing can hold it: no descriptor kept"
    assert not Path(f"{path}-shm").exists(), "the probe must never create a file"


def test_probe_of_a_missing_file_creates_nothing(tmp_path):
    found = holders.check(tmp_path / "ghost.db")
    assert found.state == holders.UNKNOWN
    assert list(tmp_path.iterdir()) == []


def test_the_close_hazard_is_avoided(tmp_path):
    """An in-process SQLite connection keeps its -shm lock after this process probes.

    Closing any descriptor of a file drops every POSIX lock this process holds on it: a probe
    that opened and closed the -shm would make the connection's lock vanish for others. The
    control case shows the child really would notice.
    """
    path = make_ledger(tmp_path / "run.db", [RunSpec("r1")])
    shm = Path(f"{path}-shm")
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("SELECT count(*) FROM run").fetchone()
    try:
        assert _peek(shm) == os.getpid()
        for _ in range(3):
            assert holders.check(path).state == holders.FREE  # our own locks never conflict
        assert _peek(shm) == os.getpid(), "the probe dropped this process's SQLite lock"
        # Control: the naive probe (open, fcntl, close) does drop it.
        fd = os.open(shm, os.O_RDONLY)
        os.close(fd)
        assert _peek(shm) is None
    finally:
        conn.close()


def test_probe_descriptors_are_reused_not_reopened(tmp_path):
    path = make_ledger(tmp_path / "run.db", [RunSpec("r1")])
    proc = _hold(path)
    try:
        holders.check(path)
        kept = holders.kept_descriptors()
        for _ in range(5):
            assert holders.check(path).state == holders.HELD
        assert holders.kept_descriptors() == kept
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)


def test_network_filesystems_are_recognised():
    for fstype in ("nfs", "nfs4", "cifs", "smb3", "fuse.sshfs", "9p", "ceph", "glusterfs"):
        assert holders.is_network_filesystem(fstype), fstype
    for fstype in ("ext4", "xfs", "btrfs", "tmpfs", "overlay", None):
        assert not holders.is_network_filesystem(fstype), fstype


def test_filesystem_type_agrees_with_findmnt(tmp_path):
    import shutil

    if shutil.which("findmnt") is None:
        pytest.skip("no findmnt to compare with")
    for target in (tmp_path, Path("/proc/self"), REPO):
        out = subprocess.run(
            ["findmnt", "-n", "-o", "FSTYPE", "--target", str(target)],
            capture_output=True,
            text=True,
        )
        assert holders.filesystem_type(str(target)) == out.stdout.strip(), target


def test_a_ledger_on_a_network_filesystem_cannot_be_known(tmp_path, monkeypatch):
    crashed = make_crashed_wal(tmp_path / "nfs.db", [RunSpec("r-n")])
    monkeypatch.setattr(holders, "filesystem_type", lambda path: "nfs4")
    kept = holders.kept_descriptors()
    found = holders.check(crashed)
    assert found.state == holders.UNKNOWN and "network filesystem (nfs4)" in found.reason
    assert holders.kept_descriptors() == kept  # nothing opened on a network filesystem


def test_command_is_cleaned_and_short():
    code = "import time; print('ready', flush=True); time.sleep(60)"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "y\n" * 5, "\x1b[31mred", "z" * 300, "w" * 300],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        command = holders.command_of(proc.pid)
        assert command is not None and len(command) <= 80 and command.endswith("…")
        assert "\x1b" not in command and "\n" not in command and "y y y" in command
    finally:
        proc.kill()
        proc.wait(timeout=10)


def _nobody_can_run_python() -> str | None:
    if os.getuid() != 0:
        return None
    try:
        import pwd

        pwd.getpwnam("nobody")
    except KeyError:
        return "no 'nobody' user"
    if not os.access("/usr/bin/python3", os.X_OK):
        return "no system python that 'nobody' may execute"
    return None


@pytest.mark.skipif(_nobody_can_run_python() is not None, reason=str(_nobody_can_run_python()))
def test_read_only_directory(tmp_path):
    """0555 directory, 0444 files: the probe works and creates nothing (run as ``nobody``)."""
    base = Path(tempfile.mkdtemp(prefix="ledgerx-holders-"))
    try:
        os.chmod(base, 0o755)
        directory = base / "ledgers"
        directory.mkdir()
        crashed = make_crashed_wal(
            directory / "crashed.db", [RunSpec("r-c", steps=[StepSpec.in_doubt(1)])]
        )
        for item in directory.iterdir():
            os.chmod(item, 0o444)
        os.chmod(directory, 0o555)
        before = dir_state(directory)
        code = (
            "import sys\nfrom ledger_core.ledgers import holders\n"
            "print(holders.check(sys.argv[1]).state)\n"
        )

        def drop_privileges() -> None:
            if os.getuid() == 0:
                os.setgid(65534)
                os.setuid(65534)

        proc = subprocess.run(
            ["/usr/bin/python3" if os.getuid() == 0 else sys.executable, "-c", code, str(crashed)],
            env={"PYTHONPATH": str(REPO)},
            cwd="/",
            preexec_fn=drop_privileges,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == holders.FREE
        assert dir_state(directory) == before
    finally:
        for root, dirs, _files in os.walk(base):
            for name in dirs:
                os.chmod(Path(root) / name, 0o755)
        subprocess.run(["rm", "-rf", str(base)], check=False)


# Takes a read lock on the database file's SHARED window only, as a connection in the middle of
# a read transaction does, without touching the -shm.
SHARED_ONLY = """
import fcntl, os, struct, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY)
fcntl.fcntl(fd, fcntl.F_SETLK, struct.pack("@hhqqi4x", fcntl.F_RDLCK, 0, 0x40000002, 510, 0))
print("ready", flush=True)
time.sleep(600)
"""


def test_the_database_files_shared_lock_is_a_second_signal(tmp_path):
    crashed = make_crashed_wal(tmp_path / "c.db", [RunSpec("r-c")])
    assert holders.check(crashed).state == holders.FREE
    proc = subprocess.Popen(
        [sys.executable, "-c", SHARED_ONLY, str(crashed)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        found = holders.check(crashed)
        assert found.state == holders.HELD and found.holder is not None
        assert found.holder.pid == proc.pid
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_past_the_bound_nothing_is_opened_and_the_answer_says_why(tmp_path, monkeypatch):
    crashed = make_crashed_wal(tmp_path / "late.db", [RunSpec("r-late")])
    monkeypatch.setattr(holders, "_limit", lambda: holders.kept_descriptors())
    kept = holders.kept_descriptors()
    found = holders.check(crashed)
    assert found.state == holders.UNKNOWN and "lock probes open" in found.reason
    assert holders.kept_descriptors() == kept


# A runner in locking_mode=EXCLUSIVE: WAL without a -shm (the index lives in its own memory),
# and a lock on the database file for as long as it is open.
EXCLUSIVE_HOLDER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA locking_mode=EXCLUSIVE")
conn.execute("PRAGMA journal_mode=" + sys.argv[2])
conn.execute("SELECT count(*) FROM run").fetchone()
if sys.argv[3] == "write":
    conn.execute("INSERT INTO schema_version (version) VALUES (99)")
print("ready", flush=True)
time.sleep(600)
"""


def _hold_with(code: str, *args: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def _stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)


def test_a_wal_writer_in_exclusive_locking_mode_is_seen_without_a_shm(tmp_path):
    path = make_ledger(tmp_path / "run.db", [RunSpec("r1")])
    proc = _hold_with(EXCLUSIVE_HOLDER, str(path), "WAL", "write")
    try:
        assert Path(f"{path}-wal").exists() and not Path(f"{path}-shm").exists()
        found = holders.check(path)
        assert found.state == holders.HELD, found
        assert found.holder is not None and found.holder.pid == proc.pid
    finally:
        _stop(proc)
    after = holders.check(path)
    assert after.state == holders.UNKNOWN and "no -shm" in after.reason


def test_a_hard_link_to_a_live_ledger_is_seen_through_its_inode(tmp_path):
    """The link's own -wal/-shm names do not exist; the writer's lock is on the shared inode."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    original = make_ledger(tmp_path / "a" / "run.db", [RunSpec("r1")])
    link = tmp_path / "b" / "run.db"
    os.link(original, link)
    proc = _hold(original)
    try:
        assert Path(f"{original}-shm").exists() and not Path(f"{link}-shm").exists()
        found = holders.check(link)
        assert found.state == holders.HELD, found
        assert found.holder is not None and found.holder.pid == proc.pid
    finally:
        _stop(proc)
    assert holders.check(link).state == holders.UNKNOWN
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == ["run.db"]


def test_a_rollback_journal_writer_is_seen_only_while_it_holds_a_lock(tmp_path):
    """An idle rollback-journal connection holds no lock: nothing can be seen, and the answer
    says why; one in locking_mode=EXCLUSIVE that wrote keeps its lock (and a -journal) and is
    seen."""
    idle = make_ledger(tmp_path / "idle.db", [RunSpec("r1")], journal="delete")
    conn = subprocess.Popen(
        [sys.executable, "-c", HOLDER.replace("WAL", "DELETE"), str(idle)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert conn.stdout is not None and conn.stdout.readline().strip() == "ready"
        found = holders.check(idle)
        assert found.state == holders.UNKNOWN and "no -shm" in found.reason
    finally:
        _stop(conn)
    held = make_ledger(tmp_path / "held.db", [RunSpec("r1")], journal="delete")
    proc = _hold_with(EXCLUSIVE_HOLDER, str(held), "DELETE", "write")
    try:
        found = holders.check(held)
        assert found.state == holders.HELD and found.holder is not None
        assert found.holder.pid == proc.pid
    finally:
        _stop(proc)


def test_without_a_shm_the_database_probe_respects_the_bound(tmp_path, monkeypatch):
    path = make_crashed_wal(tmp_path / "run.db", [RunSpec("r1")])
    os.remove(f"{path}-shm")  # a -wal alone: worth a probe of the database file
    monkeypatch.setattr(holders, "_limit", lambda: holders.kept_descriptors())
    kept = holders.kept_descriptors()
    found = holders.check(path)
    assert found.state == holders.UNKNOWN and "lock probes open" in found.reason
    assert holders.kept_descriptors() == kept


def test_a_live_ledger_in_a_directory_reached_through_a_link_is_seen(tmp_path):
    """The holder opened the real path; its sidecars are beside it, not beside the link."""
    (tmp_path / "real").mkdir()
    original = make_ledger(tmp_path / "real" / "run.db", [RunSpec("r1")])
    (tmp_path / "linked").symlink_to(tmp_path / "real")
    proc = _hold(original)
    try:
        via_link = tmp_path / "linked" / "run.db"
        found = holders.check(via_link)
        assert found.state == holders.HELD and found.holder is not None
        assert found.holder.pid == proc.pid
    finally:
        _stop(proc)


def test_a_symbolic_link_to_a_live_ledger_is_seen(tmp_path):
    """SQLite names the sidecars after the file the link points to: none lies beside the link."""
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    original = make_ledger(tmp_path / "a" / "run.db", [RunSpec("r1")])
    link = tmp_path / "b" / "run.db"
    link.symlink_to(original)
    proc = _hold(link)
    try:
        assert not Path(f"{link}-shm").exists()
        found = holders.check(link)
        assert found.state == holders.HELD and found.holder is not None
        assert found.holder.pid == proc.pid
    finally:
        _stop(proc)
