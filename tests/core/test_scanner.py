"""The scanner reads exactly what the reference seven-query path reads, in one or many processes."""

from __future__ import annotations

import os
import socket
import sqlite3
from pathlib import Path

import pytest
import reference_summaries

from ledger_core.errors import RunNotFound, SourceError
from ledger_core.ledgers import reader, scanner
from ledger_core.ledgers.access import file_signature, snapshot
from ledger_core.ledgers.schema import ROLLBACK_DDL, RUNNER_DDL, WRITER_DDL
from ledger_core.ledgers.sources import Sources
from ledger_core.rollback.writer import LedgerWriter

NOW = 1_779_000_000.0  # 2026-05-17
HOST = socket.gethostname()
DEAD_PID = 2**22 + 12345
STEP = (
    "INSERT INTO step (run_id, seq, intent_ts, method, url, body_hash, outcome_ts, status, "
    "bc_correlation_id, error_message, rollback_url) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
)


def _ts(n: int) -> str:
    return f"2026-05-16T10:{n // 60 % 60:02d}:{n % 60:02d}.000000Z"


def _raw_ledger(path: Path, *, writer: bool = True, version: object = 1) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(RUNNER_DDL + (WRITER_DDL + ROLLBACK_DDL if writer else ""))
    if version is not None:
        conn.execute("INSERT INTO schema_version VALUES (?)", (version,))
    return conn


def _good_files(d: Path) -> tuple[list[Path], LedgerWriter]:
    """Ledgers covering every branch of the derivation, plus odd values people put in them."""
    files = []
    # Written by ledgerx's own writer: completed, and one left crashed (no finish, not closed).
    p = d / "writer-complete.db"
    with LedgerWriter(p) as w:
        w.start_run("r-complete", profile="sandbox", started_at=_ts(1))
        for seq in range(1, 4):
            sid = w.write_intent(seq=seq, method="POST", url=f"https://x.test/o/{seq}")
            w.write_outcome(sid, "committed", correlation_id=f"c{seq}", rollback_url="u")
        w.finish_run("completed")
    files.append(p)

    # The runner's own layout: no writer table; a crash after an intent; a failure.
    p = d / "runner-crash.db"
    conn = _raw_ledger(p, writer=False)
    conn.execute(
        "INSERT INTO run VALUES ('r-crash','m','h','prod','test','ACME','running',?,NULL)",
        (_ts(2),),
    )
    conn.executemany(
        STEP,
        [
            (
                "r-crash",
                1,
                _ts(3),
                "POST",
                "https://x.test/a",
                "b",
                _ts(4),
                "committed",
                "c1",
                None,
                "https://x.test/a(1)",
            ),
            (
                "r-crash",
                2,
                _ts(5),
                "PATCH",
                "https://x.test/b",
                "b",
                _ts(6),
                "failed",
                None,
                "HTTP 400 [/bold] \x1b[31m",
                None,
            ),
            ("r-crash", 3, _ts(7), "POST", "https://x.test/c", "b", None, None, None, None, None),
        ],
    )
    conn.close()
    files.append(p)

    # Many runs in one file: dead writer, > 5 doubtful steps, odd types, several writers,
    # a run with no steps, a NULL run id, a stamp without finish, unknown statuses.
    p = d / "many.db"
    conn = _raw_ledger(p)
    runs = [
        ("r-dead", "running", _ts(10), None),
        ("r-empty", "planned", _ts(11), None),
        ("r-done", "completed", _ts(12), _ts(40)),
        ("r-rolled", "rolled_back", _ts(13), _ts(41)),
        ("r-odd", "failed", _ts(14), None),
        (None, "running", "not a time", None),
        ("r-late", "running", "2026-05-17T09:59:00Z", None),
    ]
    for run_id, state, started, finished in runs:
        conn.execute(
            "INSERT INTO run VALUES (?,?,?,?,?,?,?,?,?)",
            (run_id, "m", "h", "sandbox", "test", "ACME", state, started, finished),
        )
    rows = []
    for seq in range(1, 12):  # 8 in doubt (more than the diagnosis names), 3 committed
        done = seq <= 3
        rows.append(
            (
                "r-dead",
                seq,
                _ts(20 + seq),
                "POST",
                f"https://x.test/d/{seq}",
                None,
                _ts(21 + seq) if done else None,
                "committed" if done else None,
                None,
                None,
                None,
            )
        )
    rows += [
        ("r-done", 1, _ts(30), "POST", "u", None, _ts(31), "committed", "c", None, "rb"),
        ("r-done", 2, _ts(32), "GET", "u", None, None, None, None, None, None),
        ("r-done", 3, _ts(33), "POST", "u", None, _ts(34), "failed", None, "e1", None),
        ("r-done", 4, _ts(35), "POST", "u", None, _ts(36), "failed", None, "e2", None),
        ("r-rolled", 1, _ts(30), "POST", "u", None, _ts(31), "rolled_back", None, None, None),
        ("r-rolled", 2, _ts(30), "PATCH", "u", None, _ts(31), "rollback_skipped", None, None, None),
        ("r-odd", "seven", 12345, "POST", "u", None, _ts(31), b"committed", None, None, None),
        ("r-odd", 2, _ts(50), "POST", "u", None, _ts(51), "weird", None, None, None),
        ("r-odd", 3, _ts(52), "POST", "u", None, None, "committed", None, None, None),
        ("r-odd", 4, _ts(52), "POST", "u", None, _ts(53), None, None, None, None),
        ("r-late", 1, "2026-05-17T09:59:30Z", "POST", "u", None, None, None, None, None, None),
        ("orphan", 1, _ts(60), "POST", "u", None, None, None, None, None, None),
    ]
    conn.executemany(STEP, rows)
    # A run whose id is a BLOB: compared as text by the reader, so it answers to "r-blob".
    conn.execute(
        "INSERT INTO run VALUES (?,?,?,?,?,?,?,?,?)",
        (b"r-blob", "m", "h", "sandbox", "test", "ACME", "running", _ts(15), None),
    )
    conn.execute(STEP, (b"r-blob", 1, _ts(16), "POST", "u", None, None, None, None, None, None))
    conn.execute(
        STEP, ("r-blob", 2, _ts(17), "POST", "u", None, _ts(18), "failed", None, "e", None)
    )
    writer = (
        "INSERT INTO writer (run_id, pid, host, proc_start, started_at, heartbeat_at, closed_at) "
        "VALUES (?,?,?,?,?,?,?)"
    )
    conn.execute(writer, ("r-dead", DEAD_PID, HOST, None, _ts(10), _ts(35), None))
    # Inserted out of order: the writer that started last is the one that counts.
    conn.execute(writer, ("r-late", DEAD_PID + 2, "elsewhere", None, _ts(11), _ts(21), None))
    conn.execute(writer, ("r-late", DEAD_PID + 1, "elsewhere", None, _ts(10), _ts(20), None))
    conn.execute(writer, ("r-odd", "not a pid", HOST, None, _ts(10), _ts(20), None))
    conn.execute(writer, ("r-done", DEAD_PID, HOST, None, _ts(10), _ts(40), _ts(40)))
    conn.close()
    files.append(p)

    # Still open by a writer: a -wal beside it, read under SQLite's locks.
    p = d / "live.db"
    live = LedgerWriter(p)
    live.start_run("r-live", started_at=_ts(59))
    live.write_intent(seq=1, method="POST", url="https://x.test/live")
    files.append(p)
    return files, live


def _bad_files(d: Path) -> list[Path]:
    out = []
    (d / "empty.db").write_bytes(b"")
    (d / "text.db").write_text("not a database at all, just some text" * 10)
    out += [d / "empty.db", d / "text.db"]
    p = d / "foreign.db"
    conn = sqlite3.connect(p)
    conn.execute("CREATE TABLE notes (x)")
    conn.close()
    out.append(p)
    p = d / "no-column.db"
    conn = sqlite3.connect(p)
    conn.executescript(
        RUNNER_DDL.replace("rollback_url TEXT", "other TEXT").replace("manifest_hash TEXT,", "")
    )
    conn.execute("INSERT INTO schema_version VALUES (1)")
    conn.close()
    out.append(p)
    for name, version in (("newer.db", 2), ("unversioned.db", None), ("old-version.db", 0)):
        conn = _raw_ledger(d / name, version=version)
        conn.close()
        out.append(d / name)
    return out


@pytest.fixture
def ledgers(tmp_path):
    good, live = _good_files(tmp_path)
    bad = _bad_files(tmp_path)
    yield good, bad
    live.close()


def _reader_summaries(path: Path):
    """The reference seven-query path (the reader's, as it was before the scanner)."""
    return snapshot(path, lambda c: reference_summaries.summaries(c, path, NOW, 900.0, HOST))


def test_summaries_equal_the_reader_path_on_every_kind_of_ledger(ledgers):
    good, _ = ledgers
    for path in good:
        expected = _reader_summaries(path)
        got = [
            scanner.summarize(raw, str(path), now=NOW, stale_after=900.0, host=HOST)
            for raw in scanner.read_raw(path)
        ]
        assert got == expected, path.name
        assert got, path.name
    many = {r.run_id: r for r in _reader_summaries(good[2])}
    # The data really exercises the branches compared above.
    assert many["r-dead"].liveness == "dead" and many["r-dead"].counts.in_doubt == 8
    assert many["r-odd"].counts.unknown == 3 and many["r-late"].writer.pid == DEAD_PID + 2


def test_problems_equal_the_reader_path(ledgers):
    _, bad = ledgers
    for path in bad:
        with pytest.raises(SourceError) as old:
            _reader_summaries(path)
        with pytest.raises(SourceError) as new:
            scanner.read_raw(path)
        assert (new.value.kind, new.value.reason) == (old.value.kind, old.value.reason), path


def test_signature_matches_access(ledgers):
    good, _ = ledgers
    for path in good:
        assert scanner.signature(str(path)) == file_signature(path)


def test_parallel_scan_equals_sequential_scan(ledgers, monkeypatch, tmp_path):
    good, bad = ledgers
    files = [*good, *bad, tmp_path / "gone.db"] * 3
    monkeypatch.setattr(scanner, "PARALLEL_MIN_FILES", 2)
    monkeypatch.setattr(scanner, "_CHUNK", 4)  # several chunks, some sent before the last lookup
    seq = scanner.scan_files(files, now=NOW, cache=False, workers=1)
    par = scanner.scan_files(files, now=NOW, cache=False, workers=2)
    assert par == seq
    runs, problems, ok = seq
    assert len(problems) == 3 * (len(bad) + 1) and len(ok) == 3 * len(good)
    assert {p.kind for p in problems} >= {"empty", "not_sqlite", "not_a_ledger", "newer_schema"}


def test_reader_scan_uses_the_scanner_and_keeps_its_order(ledgers, tmp_path, monkeypatch):
    monkeypatch.setenv("LEDGERX_CACHE_DIR", "off")
    result = reader.scan(Sources((tmp_path,)), now=NOW)
    good, bad = ledgers
    expected = reader.sort_newest_first([r for p in good for r in _reader_summaries(p)])
    assert result.runs == expected
    assert sorted(p.path for p in result.problems) == sorted(str(p) for p in bad)
    assert os.path.exists(tmp_path / "live.db-wal")  # the live writer's, untouched


TIMES = [
    None,
    "2026-05-17T09:14:03.120391Z",
    "2026-05-17T09:14:03.120392Z",
    "2026-05-17T10:00:00.000000Z",
    "2026-13-17T09:14:03.120391Z",  # canonical shape, not a date
    "2026-05-17T11:00:00Z",
    "2026-05-17 12:00:00",
    "2026-05-17T09:14:03.120391+02:00",
    "garbage",
]


def test_latest_matches_the_reader_on_every_combination():
    import itertools

    for combo in itertools.product(TIMES, repeat=4):
        assert scanner._latest(*combo) == reference_summaries.latest(*combo), combo


def test_parallel_scan_from_a_thread_uses_safe_workers(ledgers, monkeypatch, tmp_path):
    """A UI scans from a worker thread: forking then is unsafe, a fork server is used."""
    import threading

    good, bad = ledgers
    files = [*good, *bad] * 2
    monkeypatch.setattr(scanner, "PARALLEL_MIN_FILES", 2)
    monkeypatch.setattr(scanner, "_CHUNK", 5)
    scanner._close_pool()  # the workers must be started from the thread
    out: list = []
    thread = threading.Thread(
        target=lambda: out.append(scanner.scan_files(files, now=NOW, cache=False, workers=2))
    )
    thread.start()
    thread.join(60)
    assert out and out[0] == scanner.scan_files(files, now=NOW, cache=False, workers=1)
    assert scanner._pool[1]._mp_context.get_start_method() == "forkserver"
    scanner._close_pool()


def test_signatures_from_a_directory_listing_match_access(tmp_path):
    names = []
    for i in range(scanner._LISTING_MIN + 6):
        path = tmp_path / f"r{i:03d}.db"
        path.write_bytes(b"x" * i)
        if i % 7 == 0:
            (tmp_path / f"r{i:03d}.db-wal").write_bytes(b"w" * (i + 1))
        names.append(str(path))
    sign = scanner._signer(names)
    assert sign is not scanner.signature  # the listing path is the one under test
    assert [sign(n) for n in names] == [file_signature(n) for n in names]
    os.unlink(names[7] + "-wal")  # gone after the listing: no -wal, no error
    assert sign(names[7]) == file_signature(names[7])


def test_one_run_reads_equal_the_reader_path(ledgers):
    good, _ = ledgers
    for path in good:
        everything = _reader_summaries(path)
        for run_id in {r.run_id for r in everything} | {"", "nope"}:
            expected = [r for r in everything if r.run_id == run_id]
            got = [
                scanner.summarize(raw, str(path), now=NOW, stale_after=900.0, host=HOST)
                for raw in snapshot(path, lambda c, p=path, r=run_id: scanner.raw_runs(c, p, r))
            ]
            assert got == expected, (path.name, run_id)
            if expected:
                detail = reader.read_run(path, run_id, now=NOW, stale_after=900.0)
                assert detail.summary == expected[0]
                one = scanner.read_summary(path, run_id, now=NOW, stale_after=900.0)
                assert one == expected[0]
            else:
                with pytest.raises(RunNotFound):
                    scanner.read_summary(path, run_id, now=NOW)
    assert any(r.run_id == "r-blob" for r in _reader_summaries(good[2]))


def test_workers_are_kept_between_scans_and_replaced_when_killed(ledgers, monkeypatch):
    import signal

    good, bad = ledgers
    files = [*good, *bad] * 2
    monkeypatch.setattr(scanner, "PARALLEL_MIN_FILES", 2)
    monkeypatch.setattr(scanner, "_CHUNK", 3)
    scanner._close_pool()  # start from no workers, whatever earlier tests left
    expected = scanner.scan_files(files, now=NOW, cache=False, workers=1)
    assert scanner.scan_files(files, now=NOW, cache=False, workers=2) == expected
    pool = scanner._pool[1]
    assert scanner.scan_files(files, now=NOW, cache=False, workers=2) == expected
    assert scanner._pool[1] is pool  # the same worker processes served the second scan
    for process in list(pool._processes.values()):
        try:
            os.kill(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.join(10)
    assert scanner.scan_files(files, now=NOW, cache=False, workers=2) == expected
    assert scanner.scan_files(files, now=NOW, cache=False, workers=2) == expected
    assert scanner._pool is not None and scanner._pool[1] is not pool
