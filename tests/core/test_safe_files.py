"""Saved plans and checklists never replace a file of the user's (a ledger's -wal included)."""

from __future__ import annotations

import os
import sqlite3

import pytest

from ledger_core.rollback import safe_files

PLAN = '{"format": 1, "fingerprint": "abc", "actions": []}'
CHECKLIST = "# Rollback plan for run abc\n"


def test_write_new_never_replaces_and_never_follows_links(tmp_path):
    target = tmp_path / "plan.json"
    safe_files.write_new(target, PLAN)
    with pytest.raises(FileExistsError):
        safe_files.write_new(target, "other")
    link = tmp_path / "link.json"
    link.symlink_to(tmp_path / "elsewhere.json")
    with pytest.raises(FileExistsError):
        safe_files.write_new(link, PLAN)
    assert not (tmp_path / "elsewhere.json").exists()


@pytest.mark.parametrize(
    "kind, earlier", [("plan", PLAN), ("checklist", CHECKLIST)], ids=["plan", "checklist"]
)
def test_replace_own_replaces_only_an_earlier_output(tmp_path, kind, earlier):
    mine = tmp_path / "earlier"
    mine.write_text(earlier)
    safe_files.replace_own(mine, earlier + " ", kind)
    assert mine.read_text() == earlier + " "
    assert [p.name for p in tmp_path.iterdir()] == ["earlier"]  # no temporary file left


@pytest.mark.parametrize("name", ["ledger.db", "ledger.db-wal", "ledger.db-shm", "notes.txt"])
def test_replace_own_refuses_everything_else(tmp_path, name):
    db = tmp_path / "ledger.db"
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE t (x)")
    conn.execute("INSERT INTO t VALUES (1)")
    conn.commit()
    (tmp_path / "notes.txt").write_text("my notes")
    target = tmp_path / name
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    for kind in ("plan", "checklist"):
        with pytest.raises(safe_files.NotOurs, match="never replaces"):
            safe_files.replace_own(target, PLAN, kind)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    conn.close()


def test_replace_own_refuses_links_and_fifos(tmp_path):
    real = tmp_path / "real.json"
    real.write_text(PLAN)
    link = tmp_path / "link.json"
    link.symlink_to(real)
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    for target in (link, fifo):
        with pytest.raises(safe_files.NotOurs):
            safe_files.replace_own(target, PLAN, "plan")
    assert link.is_symlink() and real.read_text() == PLAN
