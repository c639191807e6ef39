"""The search index: run and step fields found by substring, kept right as ledgers change."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from ledger_core.triage.search_index import LAYOUT, SearchIndex, file_names, read_docs, search_files
from tests.conftest import REPO
from tests.format_factories import make_cr, make_events
from tests.ledger_factory import RunSpec, StepSpec, dir_state, make_ledger, make_ledger_dir


def _index(tmp_path: Path) -> SearchIndex:
    return SearchIndex(tmp_path / "cache" / f"search-v{LAYOUT}.sqlite")


def _find(index: SearchIndex, directory: Path, text: str, **kw):
    files = file_names([directory], [])
    return search_files(files, text, index=index, **kw)


def _runs(directory: Path) -> list[RunSpec]:
    return [
        RunSpec(
            "r-orders",
            steps=[
                StepSpec.committed(1, url="https://api.test/v2/salesOrders", body_hash="h-abc"),
                StepSpec.failed(2, error_message="HTTP 409: Conflict on customer 10000"),
                StepSpec.in_doubt(
                    3, url="https://api.test/v2/items", intent_ts="2026-05-18T01:00:00Z"
                ),
            ],
        ),
        RunSpec(
            "r-other",
            company="FABRIKAM",
            steps=[StepSpec.committed(1, bc_correlation_id="corr-XYZ-9")],
        ),
    ]


def test_step_fields_are_found_by_substring_and_named(tmp_path):
    ledgers = tmp_path / "ledgers"
    make_ledger_dir(ledgers, _runs(ledgers))
    index = _index(tmp_path)
    (hit,) = _find(index, ledgers, "conflict ON cust").hits
    assert (hit.run_id, hit.seq, hit.method, hit.field) == ("r-orders", 2, "POST", "error")
    assert hit.value == "HTTP 409: Conflict on customer 10000"
    (hit,) = _find(index, ledgers, "xyz-9").hits
    assert (hit.run_id, hit.field) == ("r-other", "correlation_id")
    (hit,) = _find(index, ledgers, "fabrikam").hits
    assert (hit.run_id, hit.seq, hit.field) == ("r-other", None, "company")
    (hit,) = _find(index, ledgers, "2026-05-18").hits
    assert (hit.seq, hit.field) == (3, "intent_ts")
    assert {h.field for h in _find(index, ledgers, "h-abc").hits} == {"body_hash"}
    assert {h.field for h in _find(index, ledgers, "id-1)").hits} == {"rollback_url"}
    # Under three characters still works, and a match never spans two fields.
    assert {h.seq for h in _find(index, ledgers, "09").hits if h.run_id == "r-orders"} >= {2}
    assert _find(index, ledgers, "10000" + "https").hits == []


def test_hostile_query_text_is_data(tmp_path):
    ledgers = tmp_path / "ledgers"
    hostile = 'a%b_c[/d"e*f NEAR g\\h\x1b[2J'
    make_ledger_dir(
        ledgers,
        [
            RunSpec("r-h", steps=[StepSpec.failed(1, error_message=f"x {hostile} y")]),
            RunSpec("r-plain", steps=[StepSpec.failed(1, error_message="aXbYc and more")]),
        ],
    )
    index = _index(tmp_path)
    for query in (hostile, "%b_c", "[/d", '"e*f', "NEAR", "*", "%", "_", "\\h", "\x1b[2J"):
        hits = _find(index, ledgers, query).hits
        assert [h.run_id for h in hits] == ["r-h"], query
    assert _find(index, ledgers, "a_b").hits == []  # "_" is no wildcard
    assert [h.run_id for h in _find(index, ledgers, "axbyc").hits] == ["r-plain"]


def test_same_run_id_in_two_files(tmp_path):
    ledgers = tmp_path / "ledgers"
    ledgers.mkdir()
    make_ledger(
        ledgers / "a.db", [RunSpec("dup", steps=[StepSpec.failed(1, error_message="boom A")])]
    )
    make_ledger(
        ledgers / "b.db", [RunSpec("dup", steps=[StepSpec.failed(1, error_message="boom B")])]
    )
    index = _index(tmp_path)
    hits = _find(index, ledgers, "boom").hits
    assert sorted((Path(h.source).name, h.value) for h in hits) == [
        ("a.db", "boom A"),
        ("b.db", "boom B"),
    ]
    owners = index.files_of_runs(["dup"])["dup"]
    assert {Path(p).name for p in owners} == {"a.db", "b.db"}


def _age(path: Path) -> None:
    """Move a file's mtime out of the racy window, as minutes passing would."""
    old = time.time() - 60
    os.utime(path, (old, old))


def test_deleted_and_replaced_files(tmp_path):
    ledgers = tmp_path / "ledgers"
    ledgers.mkdir()
    a = make_ledger(
        ledgers / "a.db", [RunSpec("r-a", steps=[StepSpec.failed(1, error_message="alpha")])]
    )
    b = make_ledger(
        ledgers / "b.db", [RunSpec("r-b", steps=[StepSpec.failed(1, error_message="beta")])]
    )
    _age(a)
    _age(b)
    index = _index(tmp_path)
    assert len(_find(index, ledgers, "alpha").hits) == 1
    a.unlink()
    assert _find(index, ledgers, "alpha").hits == []
    assert index.search("alpha").hits == []  # dropped from the index, not only filtered out
    b.unlink()
    make_ledger(b, [RunSpec("r-b2", steps=[StepSpec.failed(1, error_message="gamma")])])
    _age(b)
    assert _find(index, ledgers, "beta").hits == []
    assert [h.run_id for h in _find(index, ledgers, "gamma").hits] == ["r-b2"]


WRITER = """
import sys, time
from ledger_core.rollback.writer import LedgerWriter
w = LedgerWriter(sys.argv[1])
w.start_run("r-live", profile="sandbox", environment="sandbox", company="CRONUS")
for seq in range(1, 4):
    url = f"https://api.test/live/step{seq}"
    s = w.write_intent(seq=seq, method="POST", url=url, body_hash="h")
    w.write_outcome(s, "committed", correlation_id=f"corr-live-{seq}")
    print("step", seq, flush=True)
    sys.stdin.readline()
print("done", flush=True)
time.sleep(600)
"""


def test_index_follows_a_live_writer(tmp_path):
    ledgers = tmp_path / "ledgers"
    ledgers.mkdir()
    path = ledgers / "live.db"
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    index = _index(tmp_path)
    try:
        assert proc.stdout is not None and proc.stdin is not None
        for seq in range(1, 4):
            assert proc.stdout.readline().strip() == f"step {seq}"
            hits = _find(index, ledgers, "api.test/live/").hits
            assert sorted(h.seq for h in hits) == list(range(1, seq + 1))
            assert [h.field for h in _find(index, ledgers, f"corr-live-{seq}").hits] == [
                "correlation_id"
            ]
            proc.stdin.write("\n")
            proc.stdin.flush()
    finally:
        proc.kill()
        proc.wait(timeout=10)


def test_corrupt_or_old_index_is_rebuilt(tmp_path):
    ledgers = tmp_path / "ledgers"
    make_ledger_dir(ledgers, _runs(ledgers))
    index = _index(tmp_path)
    assert len(_find(index, ledgers, "conflict").hits) == 1
    where = index.path
    index.close()
    assert where is not None
    where.write_bytes(b"SQLite format 3\x00" + b"\xff" * 5000)
    again = SearchIndex(where)
    result = _find(again, ledgers, "conflict")
    assert len(result.hits) == 1
    assert any("rebuilt" in note for note in result.notes)
    again.close()
    # An index of an older layout: rebuilt too.
    conn = sqlite3.connect(where)
    conn.execute("UPDATE meta SET value = '0' WHERE key = 'layout'")
    conn.commit()
    conn.close()
    third = SearchIndex(where)
    assert len(_find(third, ledgers, "conflict").hits) == 1
    third.close()


def test_a_locked_index_still_answers_from_what_the_files_hold_now(tmp_path, monkeypatch):
    from ledger_core.triage import search_index
    from ledger_core.triage.search_index import narrow_hits

    monkeypatch.setattr(search_index, "BUSY_TIMEOUT_MS", 200)
    ledgers = tmp_path / "ledgers"
    make_ledger_dir(ledgers, _runs(ledgers))
    index = _index(tmp_path)
    assert len(_find(index, ledgers, "conflict").hits) == 1
    changed = ledgers / "r-other.db"
    conn = sqlite3.connect(changed)
    conn.execute("UPDATE step SET bc_correlation_id = 'corr-NOW-1'")
    conn.commit()
    conn.close()
    make_ledger(
        ledgers / "new.db",
        [RunSpec("r-new", company="NEWCO", steps=[StepSpec.failed(1, error_message="fresh")])],
    )
    other = sqlite3.connect(index.path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another ledgerx writing the index
    try:
        found = {text: _find(index, ledgers, text) for text in ("corr-xyz", "corr-now", "fresh")}
        conflict = _find(index, ledgers, "conflict")  # an unchanged file: from the index
    finally:
        other.execute("ROLLBACK")
        other.close()
    # The changed and the new file were read but could not be written: searched directly.
    assert found["corr-xyz"].hits == []  # the old value is not reported from the old rows
    assert [(h.run_id, h.field, h.value) for h in found["corr-now"].hits] == [
        ("r-other", "correlation_id", "corr-NOW-1")
    ]
    assert [h.run_id for h in found["fresh"].hits] == ["r-new"]
    assert not found["fresh"].stale and any("searched directly" in n for n in found["fresh"].notes)
    assert [h.run_id for h in conflict.hits] == ["r-orders"]
    # Narrowed by run fields: those of a file not yet in the index come from what was read.
    fresh = found["fresh"]
    kept = narrow_hits(
        index,
        fresh.hits,
        lambda runs: [r for r in runs if r.company == "NEWCO"],
        pending=fresh.pending,
    )
    assert [h.run_id for h in kept] == ["r-new"]
    assert len(_find(index, ledgers, "fresh").hits) == 1  # written once the index is free
    assert _find(index, ledgers, "fresh").pending is None


def test_other_formats_are_searched(tmp_path):
    ledgers = tmp_path / "ledgers"
    ledgers.mkdir()
    make_cr(
        ledgers / "cr.db",
        [{"run_id": "c1"}],
        [
            {
                "action_id": "a1",
                "run_id": "c1",
                "status": "failed_terminal",
                "attempted_at": "2026-05-17T09:00:01Z",
                "attempts": 1,
            }
        ],
    )
    make_events(ledgers / "events.db", [{"run_id": "ev-run-1", "kind": "tool_call"}])
    index = _index(tmp_path)
    assert {h.run_id for h in _find(index, ledgers, "c1").hits} == {"c1"}
    assert any(h.seq is not None for h in _find(index, ledgers, "failed_terminal").hits)
    assert {h.run_id for h in _find(index, ledgers, "ev-run-1").hits} == {"ev-run-1"}
    assert any(h.seq is not None for h in _find(index, ledgers, "tool_call").hits)


def test_indexing_leaves_ledger_directories_byte_identical(tmp_path):
    ledgers = tmp_path / "ledgers"
    make_ledger_dir(ledgers, _runs(ledgers))
    make_cr(ledgers / "cr.db", [{"run_id": "c1"}], [])
    before = dir_state(ledgers)
    mtimes = {p.name: p.stat().st_mtime_ns for p in ledgers.iterdir()}
    index = _index(tmp_path)
    _find(index, ledgers, "conflict")
    for path in ledgers.iterdir():
        read_docs(path)
    assert dir_state(ledgers) == before
    assert {p.name: p.stat().st_mtime_ns for p in ledgers.iterdir()} == mtimes
    assert index.path is not None and not str(index.path).startswith(str(ledgers))


def test_cache_off_keeps_the_index_in_memory(tmp_path, monkeypatch):
    monkeypatch.setenv("LEDGERX_CACHE_DIR", "off")
    ledgers = tmp_path / "ledgers"
    make_ledger_dir(ledgers, _runs(ledgers))
    index = SearchIndex(memory=True)
    assert index.path is None
    assert len(_find(index, ledgers, "conflict").hits) == 1


def test_separator_and_nul_inside_values_keep_fields_apart(tmp_path):
    ledgers = tmp_path / "ledgers"
    make_ledger_dir(
        ledgers,
        [
            RunSpec(
                "r-sep",
                steps=[
                    StepSpec.failed(
                        1,
                        error_message="left\x1fright and nul\x00after",
                        bc_correlation_id="corr-after-sep",
                    )
                ],
            )
        ],
    )
    index = _index(tmp_path)
    (hit,) = _find(index, ledgers, "corr-after-sep").hits
    assert hit.field == "correlation_id"  # not shifted by the separator in the error text
    (hit,) = _find(index, ledgers, "after").hits[:1]
    # The value itself, as the ledger holds it (the index's escapes are taken off).
    assert hit.field == "error" and hit.value == "left\x1fright and nul\x00after"
    assert [h.field for h in _find(index, ledgers, "nul\x00aft").hits] == ["error"]
    assert [h.field for h in _find(index, ledgers, "left\x1fri").hits] == ["error"]
    # The escapes are not text of the value: "x1f", "\\" and "x00" are in no field.
    for text in ("x1f", "\\", "x00", "t\\"):
        assert _find(index, ledgers, text).hits == [], text


def test_two_processes_building_one_index_at_once(tmp_path):
    from tests.conftest import run_cli

    ledgers = tmp_path / "ledgers"
    make_ledger_dir(
        ledgers,
        [
            RunSpec(f"r-{i:04d}", steps=[StepSpec.failed(1, error_message=f"err-{i:04d}")])
            for i in range(260)  # above PARALLEL_MIN_FILES: worker processes read them
        ],
    )
    env = {"LEDGERX_CACHE_DIR": str(tmp_path / "cache")}
    args = [sys.executable, "-m", "tui.cli.main", "search", "err-0123", "--ledger-dir", ledgers]
    full = {k: v for k, v in os.environ.items() if not k.startswith("LEDGERX_")} | env
    procs = [
        subprocess.Popen(args, cwd=REPO, env=full, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        assert b"Traceback" not in err and b"unexpected" not in err, err
        # Each finds the match, or (on a loaded machine, the other one holding the index's
        # write lock past the busy timeout) says its answer may be stale, as documented.
        assert b"err-0123" in out or b"may be stale" in err, (out, err)
    again = run_cli("search", "err-0200", "--ledger-dir", ledgers, env=env)
    assert again.code == 0 and "r-0200" in again.stdout


def test_another_process_indexing_the_same_files_meanwhile(tmp_path, monkeypatch):
    from ledger_core.triage import search_index

    ledgers = tmp_path / "ledgers"
    make_ledger_dir(ledgers, _runs(ledgers))
    files = file_names([ledgers], [])
    mine, other = _index(tmp_path), _index(tmp_path)  # two connections, as two processes
    original = search_index._read_many

    def interleaved(paths, after):
        # While this update reads the ledgers, the other one indexes them and commits.
        monkeypatch.setattr(search_index, "_read_many", original)
        other.update(files)
        yield from original(paths, after)

    monkeypatch.setattr(search_index, "_read_many", interleaved)
    report = mine.update(files)
    assert not report.stale
    assert [h.run_id for h in mine.search("conflict", files=files).hits] == ["r-orders"]


def test_an_index_that_cannot_be_kept_falls_back_to_memory(tmp_path):
    ledgers = tmp_path / "ledgers"
    make_ledger_dir(ledgers, _runs(ledgers))
    blocked = tmp_path / "cache" / f"search-v{LAYOUT}.sqlite"
    blocked.mkdir(parents=True)  # a directory where the index file should be
    index = SearchIndex(blocked)
    result = _find(index, ledgers, "conflict")
    assert len(result.hits) == 1 and index.path is None
    assert any("kept in memory" in note for note in result.notes)
    assert blocked.is_dir()  # the user's directory is left as it was
    under_a_file = tmp_path / "a-file"
    under_a_file.write_text("x")
    index = SearchIndex(under_a_file / "search.sqlite")
    assert len(_find(index, ledgers, "conflict").hits) == 1 and index.path is None


def test_a_session_narrows_as_the_text_grows_and_scans_again_otherwise(tmp_path, monkeypatch):
    from ledger_core.triage.search_index import SearchSession

    ledgers = tmp_path / "ledgers"
    make_ledger_dir(
        ledgers,
        [
            RunSpec(
                "r-n",
                steps=[
                    # "orders" is in the URL first; "orders-late" only in the error field.
                    StepSpec.failed(1, url="https://x.test/orders", error_message="orders-late"),
                    StepSpec.failed(2, url="https://x.test/items", error_message="no"),
                ],
            )
        ],
    )
    index = _index(tmp_path)
    files = file_names([ledgers], [])
    index.update(files)
    session = SearchSession(index, files)
    found = {(h.seq, h.field) for h in session.search("orders").hits}
    assert found == {(1, "url"), (None, "manifest")}  # the run's /manifests/orders.yaml
    scans = []
    original = SearchIndex.search
    monkeypatch.setattr(
        SearchIndex, "search", lambda self, *a, **k: scans.append(a) or original(self, *a, **k)
    )
    # Contains the last text: filtered in memory, and the field that matches now is named.
    assert [(h.seq, h.field) for h in session.search("ORDERS-L").hits] == [(1, "error")]
    assert scans == []
    # Not an extension of the last text: the index is asked again.
    assert [h.seq for h in session.search("items").hits] == [2]
    assert len(scans) == 1
    # A search that saw too many rows to keep cannot be narrowed.
    small = SearchSession(index, files, keep_max=1)
    small.search("x.test", limit=1)
    assert [h.seq for h in small.search("x.test/items", limit=1).hits] == [2]
    assert len(scans) == 3


def test_file_names_are_the_scanners_source_strings(tmp_path, monkeypatch):
    from ledger_core.ledgers.sources import Sources, ledger_files

    ledgers = tmp_path / "ledgers"
    make_ledger_dir(ledgers, _runs(ledgers))
    odd = (".hidden.db", "x.db-wal", "x.db-shm", "b.sqlite-journal", "notes.txt", "a.sqlite3")
    for name in (*odd, "c.sqlite", "d.DB"):
        (ledgers / name).write_bytes(b"")
    monkeypatch.chdir(ledgers)
    assert {"a.sqlite3", "c.sqlite"} <= {Path(n).name for n in file_names([ledgers], [])}
    for dirs in ([Path(".")], [ledgers], [Path("../ledgers")]):
        expected = [str(p) for p in ledger_files(Sources(tuple(dirs)))[0]]
        assert file_names(dirs, []) == expected


def test_hits_are_narrowed_by_their_runs_indexed_fields(tmp_path):
    from ledger_core.triage import timefilter
    from ledger_core.triage.search_index import narrow_hits

    directory = tmp_path / "ledgers"
    make_ledger_dir(
        directory,
        [
            RunSpec(
                "early",
                started_at="2026-05-17T09:00:00Z",
                company="ACME",
                steps=[StepSpec.committed(1, url="https://x.test/orders(1)")],
            ),
            RunSpec(
                "late",
                started_at="2026-06-17T09:00:00Z",
                company="Globex",
                steps=[StepSpec.committed(1, url="https://x.test/orders(2)")],
            ),
        ],
    )
    index = _index(tmp_path)
    hits = _find(index, directory, "orders(").hits
    assert {h.run_id for h in hits} == {"early", "late"}
    fields = index.run_fields(hits)
    assert fields[(str(directory / "late.db"), "late")].company == "Globex"
    span = timefilter.TimeRange.parse("2026-06-01", None)
    kept = narrow_hits(index, hits, lambda runs: timefilter.filter_runs(runs, span))
    assert {h.run_id for h in kept} == {"late"}
