"""The summary cache serves only unchanged files, lives outside the ledgers, never breaks a scan."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from ledger_core.ledgers import scanner, summary_cache
from ledger_core.ledgers.schema import RUNNER_DDL
from ledger_core.ledgers.summary_cache import SummaryCache, default_cache_dir
from ledger_core.rollback.writer import LedgerWriter

NOW = 1_779_000_000.0
OLD_NS = 1_700_000_000 * 10**9  # Nov 2023: far outside the racy window


def _ledger(path: Path, run_id: str, steps: int) -> Path:
    with LedgerWriter(path) as w:
        w.start_run(run_id, started_at="2026-05-16T10:00:00.000000Z")
        for seq in range(1, steps + 1):
            sid = w.write_intent(seq=seq, method="POST", url=f"https://x.test/{seq}")
            w.write_outcome(sid, "committed")
    _age(path)
    return path


def _age(path: Path) -> None:
    """Make the file look written long ago, so the cache may store it."""
    os.utime(path, ns=(OLD_NS, OLD_NS))


def _scan(files, cache):
    return scanner.scan_files(files, now=NOW, cache=cache, workers=1)


@pytest.fixture
def ledgers(tmp_path):
    d = tmp_path / "ledgers"
    d.mkdir()
    return [_ledger(d / f"r{i}.db", f"r{i}", i + 1) for i in range(3)]


def _steps(result, run_id):
    return next(r for r in result[0] if r.run_id == run_id).step_count


def test_results_identical_with_and_without_cache(ledgers, tmp_path):
    cache = SummaryCache(tmp_path / "cache")
    plain = _scan(ledgers, None)
    cold = _scan(ledgers, cache)
    warm = _scan(ledgers, SummaryCache(tmp_path / "cache"))  # a new process: from disk
    assert plain == cold == warm
    assert list((tmp_path / "cache").rglob("*.marshal"))


def test_cache_is_used_and_keyed_by_the_signature(ledgers, tmp_path):
    cache_dir = tmp_path / "cache"
    _scan(ledgers, SummaryCache(cache_dir))
    # Forge the same size and mtime over different content: a hit proves the cache is read.
    path = ledgers[0]
    size = os.path.getsize(path)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE run SET profile = 'changed'")
    conn.commit()
    conn.close()
    _age(path)
    assert os.path.getsize(path) == size and not os.path.exists(f"{path}-wal")
    served = _scan(ledgers, SummaryCache(cache_dir))
    fresh = _scan(ledgers, None)
    run = next(r for r in served[0] if r.run_id == "r0")
    assert run.profile is None  # from the cache, recorded before the change
    assert next(r for r in fresh[0] if r.run_id == "r0").profile == "changed"


def test_a_changed_file_is_read_again(ledgers, tmp_path):
    cache_dir = tmp_path / "cache"
    assert _steps(_scan(ledgers, SummaryCache(cache_dir)), "r2") == 3
    conn = sqlite3.connect(ledgers[2], isolation_level=None)
    conn.execute(
        "INSERT INTO step (run_id, seq, intent_ts, method, url) VALUES "
        "('r2', 4, '2026-05-16T10:01:00Z', 'POST', 'u')"
    )
    conn.close()
    # A later (but still old) mtime: a real change that the cache may store again.
    os.utime(ledgers[2], ns=(OLD_NS + 10**9, OLD_NS + 10**9))
    again = _scan(ledgers, SummaryCache(cache_dir))
    assert _steps(again, "r2") == 4
    assert again == _scan(ledgers, None)


def test_a_changed_wal_is_read_again(ledgers, tmp_path):
    cache_dir = tmp_path / "cache"
    assert _steps(_scan(ledgers, SummaryCache(cache_dir)), "r1") == 2
    # A writer that keeps the file open: new rows live only in the -wal.
    conn = sqlite3.connect(ledgers[1], isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(
        "INSERT INTO step (run_id, seq, intent_ts, method, url) VALUES "
        "('r1', 3, '2026-05-16T10:01:00Z', 'POST', 'u')"
    )
    try:
        assert os.path.exists(f"{ledgers[1]}-wal")
        os.utime(f"{ledgers[1]}-wal", ns=(OLD_NS, OLD_NS))
        assert _steps(_scan(ledgers, SummaryCache(cache_dir)), "r1") == 3
        conn.execute(
            "INSERT INTO step (run_id, seq, intent_ts, method, url) VALUES "
            "('r1', 4, '2026-05-16T10:02:00Z', 'POST', 'u')"
        )
        os.utime(f"{ledgers[1]}-wal", ns=(OLD_NS + 10**9, OLD_NS + 10**9))
        assert _steps(_scan(ledgers, SummaryCache(cache_dir)), "r1") == 4
    finally:
        conn.close()


def test_recently_modified_files_are_not_stored(tmp_path):
    path = tmp_path / "fresh.db"
    with LedgerWriter(path) as w:
        w.start_run("fresh")
    cache = SummaryCache(tmp_path / "cache")
    _scan([path], cache)
    assert cache.lookup(path, scanner.signature(str(path))) is None
    _age(path)
    _scan([path], cache)
    assert cache.lookup(path, scanner.signature(str(path))) is not None


def test_unwritable_cache_dir_falls_back_and_says_so_once(ledgers, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    messages: list[str] = []
    cache = SummaryCache(blocker / "cache", warn=messages.append)  # cannot be a directory
    assert _scan(ledgers, cache) == _scan(ledgers, None)
    assert _scan(ledgers, cache) == _scan(ledgers, None)
    assert len(messages) == 1 and "summary cache" in messages[0]
    assert cache.broken


def test_unreadable_cache_file_falls_back(ledgers, tmp_path):
    cache_dir = tmp_path / "cache"
    _scan(ledgers, SummaryCache(cache_dir))
    (shard,) = (cache_dir / f"summaries-v{summary_cache.CACHE_FORMAT}").glob("*.marshal")
    shard.unlink()
    shard.mkdir()  # reading it now fails with an OSError (IsADirectoryError)
    messages: list[str] = []
    assert _scan(ledgers, SummaryCache(cache_dir, warn=messages.append)) == _scan(ledgers, None)
    assert len(messages) == 1


@pytest.mark.parametrize(
    "garbage",
    [b"", b"\x00garbage\xff" * 50, b"\xe3" * 3, "pieces", "shape", "content"],
    ids=["empty", "garbage", "truncated", "bad-piece", "wrong-shape", "wrong-content"],
)
def test_corrupt_cache_file_is_ignored_and_rewritten(ledgers, tmp_path, garbage):
    import marshal

    cache_dir = tmp_path / "cache"
    expected = _scan(ledgers, SummaryCache(cache_dir))
    (shard,) = (cache_dir / f"summaries-v{summary_cache.CACHE_FORMAT}").glob("*.marshal")
    if isinstance(garbage, str):  # valid marshal, but not what the scanner stored
        version, directory, _ = marshal.loads(shard.read_bytes())
        entries = summary_cache._decode(shard.read_bytes(), directory)
        assert entries
        bad = [1, 2] if garbage == "shape" else [((None,) * 9, ("x",) * 8, 0, 0, 0, 0, 0, 0)]
        if garbage == "pieces":
            garbage = marshal.dumps((version, directory, [b"\x00not marshal"]))
        else:
            garbage = summary_cache._encode(
                directory, {n: (s, bad) for n, (s, _) in entries.items()}
            )
    shard.write_bytes(garbage)
    cache = SummaryCache(cache_dir)
    assert _scan(ledgers, cache) == expected
    (raw,) = SummaryCache(cache_dir).lookup(ledgers[0], scanner.signature(str(ledgers[0])))
    assert raw[0][0] == "r0" and raw[1][0] == 1  # rewritten with what the file says


def test_cache_writes_nothing_beside_the_ledgers(ledgers, tmp_path):
    before = sorted(os.listdir(ledgers[0].parent))
    stamps = [os.stat(p).st_mtime_ns for p in ledgers]
    _scan(ledgers, SummaryCache(tmp_path / "cache"))
    _scan(ledgers, SummaryCache(tmp_path / "cache"))
    assert sorted(os.listdir(ledgers[0].parent)) == before
    assert [os.stat(p).st_mtime_ns for p in ledgers] == stamps


def test_deleted_files_are_forgotten(ledgers, tmp_path):
    cache_dir = tmp_path / "cache"
    _scan(ledgers, SummaryCache(cache_dir))
    gone = ledgers.pop()
    sig = scanner.signature(str(gone))
    gone.unlink()
    _ledger(ledgers[0].parent / "new.db", "new", 1)
    _scan([*ledgers, ledgers[0].parent / "new.db"], SummaryCache(cache_dir))
    assert SummaryCache(cache_dir).lookup(gone, sig) is None


def test_default_cache_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("LEDGERX_CACHE_DIR", str(tmp_path / "x"))
    assert default_cache_dir() == tmp_path / "x"
    monkeypatch.setenv("LEDGERX_CACHE_DIR", "off")
    assert default_cache_dir() is None
    assert summary_cache.open_default_cache() is None
    monkeypatch.delenv("LEDGERX_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "ledgerx"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_cache_dir() == Path("~/.cache/ledgerx").expanduser()


def test_cache_does_not_outlive_a_run_state_change_in_time(tmp_path):
    """Liveness is derived at read time: a cached unfinished run still turns stale later."""
    path = tmp_path / "quiet.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(RUNNER_DDL)
    conn.execute("INSERT INTO schema_version VALUES (1)")
    conn.execute(
        "INSERT INTO run VALUES ('q','m','h','p','e','c','running','2026-05-16T10:00:00Z',NULL)"
    )
    conn.close()
    _age(path)
    cache = SummaryCache(tmp_path / "cache")
    start = 1_778_925_600.0  # 2026-05-16T10:00:00Z
    early = scanner.scan_files([path], now=start + 60, cache=cache, workers=1)[0][0]
    later = scanner.scan_files([path], now=start + 3600, cache=cache, workers=1)[0][0]
    assert cache.lookup(path, scanner.signature(str(path))) is not None
    assert (early.liveness, later.liveness) == ("unknown", "stale")


def test_saves_close_together_are_put_off_until_forced(ledgers, tmp_path):
    cache_dir = tmp_path / "cache"
    cache = SummaryCache(cache_dir)
    _scan(ledgers[:1], cache)  # first save: written at once
    _scan(ledgers[1:], cache)  # a moment later, as a batching caller does: put off
    on_disk = SummaryCache(cache_dir)
    assert on_disk.lookup(ledgers[0], scanner.signature(str(ledgers[0])))
    assert on_disk.lookup(ledgers[2], scanner.signature(str(ledgers[2]))) is None
    cache.save(force=True)  # at exit for the process-wide cache
    again = SummaryCache(cache_dir)
    assert again.lookup(ledgers[2], scanner.signature(str(ledgers[2])))


def test_a_put_off_save_is_made_at_exit(ledgers, tmp_path):
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from ledger_core.ledgers import scanner\n"
        "files = sys.argv[1:]\n"
        "scanner.scan_files(files[:1], workers=1)\n"
        "scanner.scan_files(files[1:], workers=1)\n"
    )
    env = os.environ | {"LEDGERX_CACHE_DIR": str(tmp_path / "cache")}
    repo = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", script, *map(str, ledgers)], env=env, cwd=repo, timeout=60
    )
    assert done.returncode == 0
    cache = SummaryCache(tmp_path / "cache")
    for path in ledgers:
        assert cache.lookup(path, scanner.signature(str(path))), path
