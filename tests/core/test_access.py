"""access.snapshot: one consistent read-only view, precise header checks, bounded lock waits."""

from __future__ import annotations

import sqlite3
import time

import pytest
from ledger_factory import (
    ExclusiveLock,
    RunSpec,
    dir_state,
    make_garbage,
    make_ledger,
    make_zero_byte,
)

from ledger_core.errors import SourceError
from ledger_core.ledgers.access import check_header, file_signature, snapshot


def _count(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(*) FROM run").fetchone()[0]


def test_snapshot_returns_what_fn_reads(tmp_path):
    path = make_ledger(tmp_path / "a.db", [RunSpec("r1"), RunSpec("r2")])
    assert snapshot(path, _count) == 2


def test_snapshot_is_one_consistent_view_beside_a_live_writer(tmp_path):
    path = make_ledger(tmp_path / "a.db", [RunSpec("r1")])
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("PRAGMA journal_mode=WAL")
    writer.execute("INSERT INTO run (run_id) VALUES ('r2')")  # now there is a -wal

    def read(conn):
        first = _count(conn)
        # The writer commits while we read: it is not blocked, and we do not see it.
        started = time.monotonic()
        writer.execute("INSERT INTO run (run_id) VALUES ('r3')")
        assert time.monotonic() - started < 1.0
        return first, _count(conn)

    try:
        assert snapshot(path, read) == (2, 2)
        assert snapshot(path, _count) == 3
    finally:
        writer.close()


def test_a_writer_appearing_during_an_unlocked_read_forces_a_locked_reread(tmp_path):
    """A clean WAL file is read with immutable=1; if a writer shows up, read again safely."""
    path = make_ledger(tmp_path / "a.db", [RunSpec("r1")])
    calls: list[int] = []
    writer = sqlite3.connect(path, isolation_level=None)

    def read(conn):
        calls.append(_count(conn))
        if len(calls) == 1:
            writer.execute("PRAGMA journal_mode=WAL")
            writer.execute("INSERT INTO run (run_id) VALUES ('r2')")
        return calls[-1]

    try:
        assert snapshot(path, read) == 2
        assert calls == [1, 2]
    finally:
        writer.close()


def test_file_signature_changes_when_a_writer_appends(tmp_path):
    path = make_ledger(tmp_path / "a.db", [RunSpec("r1")])
    before = file_signature(path)
    assert before[2:] == (-1, -1)  # no -wal
    writer = sqlite3.connect(path, isolation_level=None)
    try:
        writer.execute("PRAGMA journal_mode=WAL")
        writer.execute("INSERT INTO run (run_id) VALUES ('r2')")
        assert file_signature(path) != before
    finally:
        writer.close()


def test_check_header_says_wal_or_not(tmp_path):
    assert check_header(make_ledger(tmp_path / "w.db", [])) is True
    assert check_header(make_ledger(tmp_path / "j.db", [], journal="delete")) is False


@pytest.mark.parametrize(
    ("build", "kind", "words"),
    [
        (lambda p: None, "missing", "no such file"),
        (lambda p: p.mkdir(), "not_a_file", "not a regular file"),
        (make_zero_byte, "empty", "zero-byte"),
        (make_garbage, "not_sqlite", "wrong file header"),
        (lambda p: p.write_bytes(b"SQLite format 3\x00" + b"\x00" * 20), "corrupt", "shorter"),
    ],
)
def test_check_header_kinds(tmp_path, build, kind, words):
    path = tmp_path / "x.db"
    build(path)
    with pytest.raises(SourceError) as info:
        check_header(path)
    assert info.value.kind == kind and words in info.value.reason
    assert info.value.path == str(path) and str(path) in str(info.value)


def test_check_header_bad_page_size(tmp_path):
    path = make_ledger(tmp_path / "p.db", [], journal="delete")
    data = bytearray(path.read_bytes())
    data[16:18] = (1000).to_bytes(2, "big")  # not a power of two
    path.write_bytes(bytes(data))
    with pytest.raises(SourceError) as info:
        check_header(path)
    assert info.value.kind == "corrupt" and "page size" in info.value.reason


def test_locked_file_times_out_quickly(tmp_path):
    path = make_ledger(tmp_path / "j.db", [RunSpec("r1")], journal="delete")
    with ExclusiveLock(path):
        started = time.monotonic()
        with pytest.raises(SourceError) as info:
            snapshot(path, _count, timeout=0.2)
        elapsed = time.monotonic() - started
    assert info.value.kind == "locked" and "0.2s" in info.value.reason
    assert elapsed < 3


def test_fn_errors_are_not_swallowed_and_nothing_is_left_behind(tmp_path):
    path = make_ledger(tmp_path / "a.db", [RunSpec("r1")])
    before = dir_state(tmp_path)

    def boom(conn):
        raise SourceError(str(path), "not_a_ledger", "nope")

    with pytest.raises(SourceError, match="nope"):
        snapshot(path, boom)
    with pytest.raises(SourceError) as info:
        snapshot(path, lambda c: c.execute("SELECT * FROM no_such_table").fetchall())
    assert info.value.kind == "corrupt"  # an SQLite error becomes a SourceError, never raw
    assert dir_state(tmp_path) == before


def test_snapshot_never_writes(tmp_path):
    path = make_ledger(tmp_path / "a.db", [RunSpec("r1")], journal="delete")
    with pytest.raises(SourceError):
        snapshot(path, lambda c: c.execute("INSERT INTO run (run_id) VALUES ('x')"))
    assert snapshot(path, _count) == 1


def test_file_signature_accepts_a_str(tmp_path):
    path = make_ledger(tmp_path / "a.db", [RunSpec("r1")])
    assert file_signature(str(path)) == file_signature(path)


def _probe_from_child(path) -> str:
    """Who holds ``path``'s SQLite SHARED lock range, as another process sees it (F_GETLK)."""
    import subprocess
    import sys

    code = (
        "import fcntl, os, struct, sys\n"
        "fd = os.open(sys.argv[1], os.O_RDONLY)\n"
        "req = struct.pack('hhqqi4x', fcntl.F_WRLCK, 0, 0x40000002, 510, 0)\n"
        "t, _, _, _, pid = struct.unpack('hhqqi4x', fcntl.fcntl(fd, fcntl.F_GETLK, req))\n"
        "print('free' if t == fcntl.F_UNLCK else pid)\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_reading_a_ledger_this_process_writes_keeps_its_locks(tmp_path):
    """POSIX locks die with ANY close() of the file in the process: reading a ledger the
    process itself holds open (the rollback executor re-reads its run) must not drop them."""
    import os

    from ledger_core.ledgers.reader import read_run
    from ledger_core.rollback.writer import open_readwrite

    path = make_ledger(tmp_path / "held.db", [RunSpec("r-held")])
    conn = open_readwrite(path)
    try:
        conn.execute("SELECT count(*) FROM step").fetchone()  # a WAL reader keeps SHARED
        assert _probe_from_child(path) == str(os.getpid())
        read_run(path, "r-held")
        assert _probe_from_child(path) == str(os.getpid())  # still held after our own read
    finally:
        conn.close()
    assert _probe_from_child(path) == "free"
    read_run(path, "r-held")  # and once closed, the header is checked again as usual


HOLD_OPEN = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA journal_mode=WAL")
conn.execute("SELECT count(*) FROM run").fetchone()
print("open", flush=True)
sys.stdin.readline()
conn.close()
"""


def _spy_connect(monkeypatch) -> list[str]:
    opened: list[str] = []
    real_connect = sqlite3.connect

    def spy(database, *args, **kwargs):
        opened.append(str(database))
        return real_connect(database, *args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", spy)
    return opened


def test_a_crashed_ledger_is_read_from_a_copy_and_a_held_one_in_place(tmp_path, monkeypatch):
    import subprocess
    import sys

    from ledger_factory import StepSpec, make_crashed_wal

    path = make_crashed_wal(tmp_path / "c.db", [RunSpec("r1", steps=[StepSpec.in_doubt(1)])])
    opened = _spy_connect(monkeypatch)
    assert snapshot(path, _count) == 1
    assert len(opened) == 1 and "/c.db?" not in opened[0]  # a private copy: nobody holds it
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_OPEN, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        opened.clear()
        assert snapshot(path, _count) == 1
        assert len(opened) == 1 and opened[0].split("?")[0].endswith("/c.db")  # in place
    finally:
        holder.communicate("\n", timeout=30)


def test_a_holder_appearing_during_the_private_copy_makes_the_read_happen_in_place(
    tmp_path, monkeypatch
):
    """The copy is trusted only if nobody took the ledger meanwhile; else read it in place,
    as one more of that writer's readers."""
    import shutil
    import subprocess
    import sys

    from ledger_factory import make_crashed_wal

    path = make_crashed_wal(tmp_path / "c.db", [RunSpec("r1"), RunSpec("r2")])
    holders: list[subprocess.Popen] = []
    real_copy = shutil.copyfile

    def copy_while_a_writer_opens(src, dst, *args, **kwargs):
        if not holders:
            holders.append(
                subprocess.Popen(
                    [sys.executable, "-c", HOLD_OPEN, str(path)],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
            )
            assert holders[0].stdout.readline().strip() == "open"
        return real_copy(src, dst, *args, **kwargs)

    monkeypatch.setattr(shutil, "copyfile", copy_while_a_writer_opens)
    opened = _spy_connect(monkeypatch)
    try:
        assert snapshot(path, _count) == 2
        assert holders, "the private copy was not attempted"
        assert len(opened) == 1 and opened[0].split("?")[0].endswith("/c.db")
    finally:
        for proc in holders:
            proc.communicate("\n", timeout=30)


WRITE_AND_HOLD = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA journal_mode=WAL")
conn.execute("INSERT INTO run (run_id) VALUES ('r-in-wal')")
print("open", flush=True)
sys.stdin.readline()
conn.close()
"""


def test_a_symbolic_link_to_a_live_ledger_sees_the_rows_in_its_wal(tmp_path):
    """SQLite keeps the -wal beside the link's target; an immutable read of the link (no -wal
    beside it) would miss every row the writer has not checkpointed."""
    import subprocess
    import sys

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    original = make_ledger(tmp_path / "a" / "run.db", [RunSpec("r1")])
    link = tmp_path / "b" / "run.db"
    link.symlink_to(original)
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITE_AND_HOLD, str(original)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "open"
        assert snapshot(link, _count) == 2
        assert sorted(p.name for p in (tmp_path / "b").iterdir()) == ["run.db"]
    finally:
        writer.communicate("\n", timeout=30)
    loop = tmp_path / "b" / "loop.db"
    loop.symlink_to(loop)
    with pytest.raises(SourceError) as info:
        snapshot(loop, _count)
    assert info.value.kind == "unreadable" and info.value.path == str(loop)


def test_when_no_private_copy_can_be_made_the_reason_says_so_and_nothing_changes(
    tmp_path, monkeypatch
):
    import tempfile

    from ledger_factory import make_crashed_wal

    ledgers = tmp_path / "ledgers"
    ledgers.mkdir()
    path = make_crashed_wal(ledgers / "c.db", [RunSpec("r1")])
    before = dir_state(ledgers)
    not_a_directory = tmp_path / "tmp-is-a-file"
    not_a_directory.write_text("")
    monkeypatch.setattr(tempfile, "tempdir", str(not_a_directory))
    with pytest.raises(SourceError) as info:
        snapshot(path, _count)
    assert info.value.kind == "unreadable"
    assert "without changing its -shm" in info.value.reason
    assert str(not_a_directory) in info.value.reason
    assert dir_state(ledgers) == before
