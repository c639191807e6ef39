"""SourceWatcher: re-reads only changed files, sees new/removed files, and re-checks liveness."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from ledger_factory import (
    DEAD_PID,
    RunSpec,
    StepSpec,
    add_writer,
    make_garbage,
    make_ledger,
    make_ledger_dir,
)

from ledger_core.ledgers.sources import Sources
from ledger_core.ledgers.watch import SourceWatcher

NOW = 1_779_012_000.0  # 2026-05-17T10:00:00Z


def _runs(n: int) -> list[RunSpec]:
    return [
        RunSpec(
            f"r-{i:04d}",
            state="completed",
            started_at=f"2026-05-17T09:{i:02d}:00.000000Z",
            finished_at=f"2026-05-17T09:{i:02d}:30.000000Z",
            steps=[StepSpec.committed(1)],
        )
        for i in range(n)
    ]


def _watcher(sources: Sources) -> SourceWatcher:
    # No persistent cache: every read in these tests really opens the file.
    return SourceWatcher(sources, now=lambda: NOW, cache=False)


def _touch_later(path: Path) -> None:
    """Make sure an edit changes the mtime even on coarse-mtime filesystems."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))


def test_first_refresh_reads_all_then_only_changed_files(tmp_path) -> None:
    make_ledger_dir(tmp_path, _runs(5))
    watcher = _watcher(Sources((tmp_path,)))
    first = watcher.refresh()
    assert [r.run_id for r in first.runs] == ["r-0004", "r-0003", "r-0002", "r-0001", "r-0000"]
    assert first.files_read == 5 and first.any and first.done

    again = watcher.refresh()
    assert again.files_read == 0 and not again.any
    assert again.runs == first.runs

    conn = sqlite3.connect(tmp_path / "r-0002.db", isolation_level=None)
    conn.execute("UPDATE run SET state = 'rolled_back' WHERE run_id = 'r-0002'")
    conn.close()
    _touch_later(tmp_path / "r-0002.db")
    third = watcher.refresh()
    assert third.files_read == 1
    assert third.changed == (str(tmp_path / "r-0002.db"),)
    assert {r.run_id: r.state for r in third.runs}["r-0002"] == "rolled_back"


def test_new_removed_and_broken_files(tmp_path) -> None:
    make_ledger_dir(tmp_path, _runs(2))
    watcher = _watcher(Sources((tmp_path,), (tmp_path / "absent.db",)))
    assert len(watcher.refresh().runs) == 2

    make_ledger(tmp_path / "r-new.db", [RunSpec("r-new", started_at="2026-05-17T09:59:00Z")])
    make_garbage(tmp_path / "junk.db")
    (tmp_path / "r-0000.db").unlink()
    changes = watcher.refresh()
    assert [r.run_id for r in changes.runs] == ["r-new", "r-0001"]
    assert changes.removed == (str(tmp_path / "r-0000.db"),)
    kinds = {Path(p.path).name: p.kind for p in changes.problems}
    assert kinds == {"junk.db": "not_sqlite", "absent.db": "missing"}


def test_missing_directory_is_a_problem(tmp_path) -> None:
    changes = _watcher(Sources((tmp_path / "nope",))).refresh()
    assert changes.runs == ()
    assert [(p.kind, p.reason) for p in changes.problems] == [("missing", "no such directory")]


def test_unfinished_runs_are_rechecked_without_a_file_change(tmp_path) -> None:
    """A writer killed by SIGKILL changes no byte; liveness must still turn to dead."""
    path = tmp_path / "live.db"
    make_ledger(path, [RunSpec("r-live", started_at="2026-05-17T09:59:30Z")])
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        add_writer(path, "r-live", pid=sleeper.pid, host=socket.gethostname())
        watcher = _watcher(Sources((), (path,)))
        assert watcher.refresh().runs[0].liveness == "alive"
        signature = path.stat().st_mtime_ns
        sleeper.kill()
        sleeper.wait()
        assert path.stat().st_mtime_ns == signature
        changes = watcher.refresh()
        assert changes.runs[0].liveness == "dead"
        assert changes.changed == (str(path),)
    finally:
        sleeper.kill()


def test_settled_runs_are_not_reread(tmp_path) -> None:
    make_ledger(tmp_path / "dead.db", [RunSpec("r-dead", steps=[StepSpec.in_doubt(1)])])
    add_writer(tmp_path / "dead.db", "r-dead", pid=DEAD_PID)
    watcher = _watcher(Sources((tmp_path,)))
    assert watcher.refresh().runs[0].liveness == "dead"
    assert watcher.refresh().files_read == 0


def test_partial_results_come_newest_modified_first(tmp_path) -> None:
    paths = make_ledger_dir(tmp_path, _runs(12))
    base = time.time() - 1000
    for i, path in enumerate(paths):
        os.utime(path, (base + i, base + i))
    watcher = _watcher(Sources((tmp_path,)))
    batches = list(watcher.iter_refresh(first_batch=3))
    assert [b.done for b in batches] == [False, True]
    assert [r.run_id for r in batches[0].runs] == ["r-0011", "r-0010", "r-0009"]
    assert batches[0].files_read == 3 and batches[0].files_total == 12
    assert len(batches[-1].runs) == 12


def test_cancelled_refresh_stops_early(tmp_path) -> None:
    make_ledger_dir(tmp_path, _runs(6))
    watcher = _watcher(Sources((tmp_path,)))
    calls = iter(range(100))
    *_, changes = watcher.iter_refresh(first_batch=2, cancelled=lambda: next(calls) >= 1)
    assert changes.files_read == 2 and len(changes.runs) == 2
    assert len(watcher.refresh().runs) == 6


def test_file_by_file_reading_gives_the_same_result(tmp_path, monkeypatch) -> None:
    """Without the scanner's fast path the watcher reads each file itself, same outcome."""
    make_ledger_dir(tmp_path, _runs(4))
    make_garbage(tmp_path / "junk.db")
    fast = _watcher(Sources((tmp_path,))).refresh()
    monkeypatch.setattr("ledger_core.ledgers.watch._scan_files", None)
    slow = _watcher(Sources((tmp_path,))).refresh()
    assert slow.runs == fast.runs and slow.problems == fast.problems
    assert slow.files_read == fast.files_read == 5


def test_stale_runs_without_a_local_writer_are_not_reread(tmp_path) -> None:
    """Such a run can only change by a write (which changes the signature), not by time."""
    make_ledger(tmp_path / "old.db", [RunSpec("r-old", started_at="2026-05-17T01:00:00Z")])
    make_ledger(tmp_path / "recent.db", [RunSpec("r-recent", started_at="2026-05-17T09:59:00Z")])
    watcher = _watcher(Sources((tmp_path,)))
    liveness = {r.run_id: r.liveness for r in watcher.refresh().runs}
    assert liveness == {"r-old": "stale", "r-recent": "unknown"}
    again = watcher.refresh()
    assert again.files_read == 1  # only the unknown one, which turns stale as time passes
