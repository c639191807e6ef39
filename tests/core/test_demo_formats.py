"""The other formats' demo files: the tools' write paths, reproducible, read back right."""

from __future__ import annotations

import sqlite3

from conftest import FIXED_NOW

from ledger_core.demo.other_formats import write_format_demos


def _dump(path) -> list[str]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def test_same_anchor_same_content(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    one = write_format_demos(tmp_path / "a", FIXED_NOW)
    two = write_format_demos(tmp_path / "b", FIXED_NOW)
    assert one == two
    for name in {n for n, _ in one.values()}:
        assert _dump(tmp_path / "a" / name) == _dump(tmp_path / "b" / name), name


def test_cr_crash_left_an_attempt_without_its_answer(tmp_path):
    roles = write_format_demos(tmp_path, FIXED_NOW)
    name, run_id = roles["cr_crashed_in_doubt"]
    conn = sqlite3.connect(tmp_path / name)
    rows = conn.execute(
        "SELECT status, attempts, attempted_at IS NOT NULL, posted_at IS NOT NULL, upstream_id "
        "FROM planned_actions WHERE run_id = ? ORDER BY planned_at, action_id",
        (run_id,),
    ).fetchall()
    outcome = conn.execute("SELECT outcome FROM runs WHERE run_id = ?", (run_id,)).fetchone()
    conn.close()
    assert outcome == (None,)
    assert [r[:4] for r in rows] == [
        ("posted", 1, 1, 1),
        ("posted", 1, 1, 1),
        ("pending", 1, 1, 0),  # attempt committed, the writer died before the answer
        ("pending", 0, 0, 0),
        ("pending", 0, 0, 0),
    ]
    assert all(r[4] for r in rows[:2]) and rows[2][4] is None
    # Go's RFC 3339 with nanoseconds, trailing zeros trimmed.
    conn = sqlite3.connect(tmp_path / name)
    stamps = [
        r[0]
        for r in conn.execute(
            "SELECT attempted_at FROM planned_actions WHERE attempted_at IS NOT NULL"
        )
    ]
    conn.close()
    assert all(s.endswith("Z") and "." in s and not s[:-1].endswith("0") for s in stamps)
