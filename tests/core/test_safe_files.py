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
        # A -wal/-shm is refused by its name alone; the others as not ledgerx's own output.
        refusal = safe_files.SideFileName if "-" in name else safe_files.NotOurs
        with pytest.raises(refusal, match="never replaces|SQLite"):
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


@pytest.mark.parametrize(
    "name", ["x.db-wal", "x.db-shm", "x.db-journal", "notes-WAL", "p.json-Shm"]
)
def test_a_name_like_an_sqlite_side_file_is_never_written(tmp_path, name):
    target = tmp_path / name
    assert safe_files.side_file_problem(target) is not None
    with pytest.raises(safe_files.SideFileName) as info:
        safe_files.write_new(target, PLAN)
    assert "SQLite" in info.value.strerror and not target.exists()
    target.write_text(PLAN)  # even an earlier plan of ours under such a name stays as it is
    with pytest.raises(safe_files.SideFileName):
        safe_files.replace_own(target, "{}", "plan")
    assert target.read_text() == PLAN


@pytest.mark.parametrize("name", ["plan.json", "wal.md", "x-wal.json", "journal", "x.db-wall"])
def test_other_names_are_not_side_files(name):
    assert safe_files.side_file_problem(name) is None
