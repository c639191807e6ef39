"""LedgerWriter: writes the runner's schema v1 the runner's way, plus who is writing."""

from __future__ import annotations

import os
import socket
import sqlite3

import pytest
from ledger_factory import RUNNER_DDL, RunSpec, dir_state, make_ledger, make_unrelated_db

from ledger_core import LedgerWriter, LedgerxError, SourceError, open_readwrite, read_run
from ledger_core.ledgers.reader import read_summaries

URL = "https://api.example.test/v2.0/companies(1)/salesOrders"


def _columns(conn, table):
    return [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]


def test_new_file_has_the_runner_schema_in_wal(tmp_path):
    path = tmp_path / "run.db"
    with LedgerWriter(path) as w:
        assert w.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert w.conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        w.start_run("r1", profile="sandbox")
    raw = path.read_bytes()
    assert raw[18] == 2 and raw[19] == 2  # WAL recorded in the header
    # The runner's schema, column for column, compared with SPEC §1 applied to a blank file.
    reference = sqlite3.connect(":memory:")
    reference.executescript(RUNNER_DDL)
    conn = sqlite3.connect(path)
    for table in ("run", "step", "schema_version"):
        assert _columns(conn, table) == _columns(reference, table)
    assert conn.execute("SELECT version FROM schema_version").fetchall() == [(1,)]
    # The runner opens our files with CREATE TABLE IF NOT EXISTS: that must be a no-op.
    conn.executescript(RUNNER_DDL)
    with pytest.raises(sqlite3.IntegrityError):  # the runner's CHECK on run.state is kept
        conn.execute("UPDATE run SET state = 'exploded'")
    conn.close()


def test_intent_is_readable_before_the_outcome_and_the_run_derives(tmp_path):
    path = tmp_path / "run.db"
    with LedgerWriter(path) as w:
        w.start_run("r1", profile="sandbox", environment="sandbox", company="CRONUS")
        s1 = w.write_intent(seq=1, method="POST", url=URL, body_hash="h1")
        # Another connection already sees the intent: it is committed before the request.
        detail = read_run(path, "r1")
        assert [(s.seq, s.derived_status) for s in detail.steps] == [(1, "in_doubt")]
        assert detail.summary.liveness == "alive"
        w.write_outcome(s1, "committed", correlation_id="c1", rollback_url=URL + "(1)")
        s2 = w.write_intent(seq=2, method="POST", url=URL)
        w.write_outcome(s2, "failed", error_message="HTTP 400")
        assert read_run(path, "r1").summary.state == "partially_committed"
        w.finish_run("partially_committed")
    detail = read_run(path, "r1")
    assert detail.summary.state == "partially_committed"
    assert detail.summary.liveness == "finished"
    first = detail.steps[0]
    assert (first.status, first.bc_correlation_id, first.rollback_url) == (
        "committed",
        "c1",
        URL + "(1)",
    )
    assert detail.steps[1].error_message == "HTTP 400"


def test_writer_row_records_pid_host_and_close(tmp_path):
    path = tmp_path / "run.db"
    w = LedgerWriter(path)
    w.start_run("r1")
    (summary,) = read_summaries(path)
    assert summary.writer is not None
    assert (summary.writer.pid, summary.writer.host) == (os.getpid(), socket.gethostname())
    assert summary.writer.proc_start is not None and summary.writer.closed_at is None
    w.close()
    (summary,) = read_summaries(path)
    assert summary.writer.closed_at is not None
    # Closed without finish_run: nobody will finish this run.
    assert summary.liveness == "dead"
    assert "closed the ledger without finishing" in summary.diagnosis[0]


def test_writer_misuse_is_refused(tmp_path):
    path = tmp_path / "run.db"
    with LedgerWriter(path) as w:
        with pytest.raises(LedgerxError):
            w.write_intent(seq=1, method="GET", url=URL)
        w.start_run("r1")
        with pytest.raises(LedgerxError):
            w.finish_run("exploded")
    with LedgerWriter(path) as w, pytest.raises(LedgerxError, match="already exists"):
        w.start_run("r1")


def test_appends_a_run_to_a_runner_written_file(tmp_path):
    path = make_ledger(tmp_path / "shared.db", [RunSpec("runner-run", state="completed")])
    with LedgerWriter(path) as w:
        w.start_run("ledgerx-run")
        w.finish_run("completed")
    ids = sorted(s.run_id for s in read_summaries(path))
    assert ids == ["ledgerx-run", "runner-run"]


def test_refuses_to_write_into_foreign_or_missing_files(tmp_path):
    foreign = make_unrelated_db(tmp_path / "recipes.db")
    before = dir_state(tmp_path)
    with pytest.raises(SourceError) as info:
        LedgerWriter(foreign)
    assert info.value.kind == "not_a_ledger"
    with pytest.raises(SourceError) as info:
        open_readwrite(tmp_path / "missing.db")
    assert info.value.kind == "missing"
    after = dir_state(tmp_path)
    assert after.keys() == before.keys() and after["recipes.db"] == before["recipes.db"]


def test_open_readwrite_refuses_directories_fifos_and_empty_files(tmp_path):
    # A directory raised SQLite's own OperationalError; a FIFO blocked; a zero-byte file was
    # reported as "no such ledger file".
    (tmp_path / "dir.db").mkdir()
    os.mkfifo(tmp_path / "fifo.db")
    (tmp_path / "zero.db").write_bytes(b"")
    for name, kind in (("dir.db", "not_a_file"), ("fifo.db", "not_a_file"), ("zero.db", "empty")):
        with pytest.raises(SourceError) as info:
            open_readwrite(tmp_path / name)
        assert info.value.kind == kind, name
    assert (tmp_path / "zero.db").read_bytes() == b""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir.db", "fifo.db", "zero.db"]
