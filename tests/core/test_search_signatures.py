"""Which files the search index reads again: the stats of every file, and one digest of all."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from ledger_core.ledgers.access import file_signature
from ledger_core.triage.search_signatures import _LISTING_MIN, FileStats, names_key

WINDOW = 2_000_000_000  # 2 s


def _files(directory: Path, count: int) -> list[str]:
    directory.mkdir(parents=True, exist_ok=True)
    names = []
    for i in range(count):
        path = directory / f"r{i:03d}.db"
        path.write_bytes(b"x" * i)
        if i % 7 == 0:
            (directory / f"r{i:03d}.db-wal").write_bytes(b"w" * (i + 1))
        names.append(str(path))
    return names


def _old(names: list[str]) -> None:
    past = time.time() - 3600
    for name in names:
        for path in (name, name + "-wal"):
            if os.path.exists(path):
                os.utime(path, (past, past))


@pytest.mark.parametrize("count", [5, _LISTING_MIN + 6])  # a stat per -wal / one listing
def test_signatures_are_access_signatures(tmp_path, count):
    names = _files(tmp_path / "d", count)
    _old(names)
    names.append(str(tmp_path / "d" / "gone.db"))
    stats = FileStats(names, time.time_ns(), WINDOW)
    assert stats.names == names[:-1]  # a file that cannot be stat'ed is left out
    expected = {n: ":".join(map(str, file_signature(n))) for n in names[:-1]}
    assert stats.signatures() == expected
    assert not stats.racy and stats.digest() is not None


def test_the_digest_follows_every_change_and_a_fresh_file_has_none(tmp_path):
    names = _files(tmp_path / "d", _LISTING_MIN + 2) + _files(tmp_path / "e", 3)
    _old(names)
    first = FileStats(names, time.time_ns(), WINDOW).digest()
    assert FileStats(names, time.time_ns(), WINDOW).digest() == first
    past = time.time() - 3600
    changes = [
        lambda: Path(names[3]).write_bytes(b"longer than before"),  # size
        lambda: os.utime(names[4], (past - 10, past - 10)),  # mtime
        lambda: Path(names[5] + "-wal").write_bytes(b"w"),  # a -wal appears (listed dir)
        lambda: Path(names[-1] + "-wal").write_bytes(b"w"),  # a -wal appears (stat'ed)
        lambda: os.unlink(names[6]),  # a file goes
    ]
    seen = {first}
    for change in changes:
        change()
        _old([n for n in names if os.path.exists(n)])
        digest = FileStats(names, time.time_ns(), WINDOW).digest()
        assert digest is not None and digest not in seen
        seen.add(digest)
    Path(names[8]).write_bytes(b"just written")
    fresh = FileStats(names, time.time_ns(), WINDOW)
    assert fresh.racy and fresh.digest() is None
    assert fresh.signatures()[names[8]].startswith("racy:")
    assert not fresh.signatures()[names[9]].startswith("racy:")


def test_names_key_depends_on_the_list():
    assert names_key(["a", "b"]) == names_key(["a", "b"]) != names_key(["b", "a"])
    assert names_key(["a\udcff"]).startswith("unchanged:")  # a name that is not UTF-8
