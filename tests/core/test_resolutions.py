"""Resolving an in-doubt step: the audit trail, where it is kept, and what it moves."""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from format_factories import make_cr
from ledger_factory import RunSpec, StepSpec, add_writer, make_ledger
from rollback_servers import COMPANY, RUN_ID, entity_url, rollback_ledger, write_profiles

from ledger_core.demo.api import DemoApi
from ledger_core.errors import ResolutionRefused, RollbackRefused, SourceError
from ledger_core.ledgers.access import snapshot
from ledger_core.ledgers.reader import read_run, read_summaries
from ledger_core.rollback import executor as rollback
from ledger_core.rollback.plan import make_plan
from ledger_core.triage.resolutions import LEDGER_DDL, record

PENDING = {
    "action_id": "a1",
    "run_id": "c1",
    "status": "pending",
    "attempted_at": "2026-05-17T09:00:01Z",
    "attempts": 1,
}


@pytest.fixture(autouse=True)
def state_dir(tmp_path, monkeypatch):
    directory = tmp_path / "state"
    monkeypatch.setenv("LEDGERX_STATE_DIR", str(directory))
    monkeypatch.setenv("LEDGERX_USER", "ada")
    return directory


def _doubtful(path: Path, *, finished: bool = True) -> Path:
    steps = [StepSpec.committed(1), StepSpec.in_doubt(2, bc_correlation_id="corr-2")]
    run = RunSpec("r1", steps=steps)
    if finished:
        run = RunSpec(
            "r1", state="completed", finished_at="2026-05-17T09:05:00.000000Z", steps=steps
        )
    return make_ledger(path, [run])


def _runner_rows(path: Path) -> tuple[list, list]:
    def read(c: sqlite3.Connection):
        return (
            c.execute("SELECT * FROM run ORDER BY run_id").fetchall(),
            c.execute("SELECT * FROM step ORDER BY step_id").fetchall(),
        )

    return snapshot(path, read)


def test_landed_moves_the_verdict_and_keeps_the_runner_rows(tmp_path):
    path = _doubtful(tmp_path / "r1.db")
    before = _runner_rows(path)
    assert read_summaries(path)[0].verdict == "in_doubt"
    r = record(read_run(path, "r1"), 2, "landed", note="seen in BC")
    assert (r.outcome, r.who, r.seq, r.step_id) == ("landed", "ada", 2, 2)
    assert r.resolved_at.endswith("Z")
    summary = read_summaries(path)[0]
    assert summary.verdict == "completed" and summary.state == "completed"
    assert summary.resolved == (1, 0, 0) and summary.unresolved_doubt == 0
    assert any("resolved by a person" in s for s in summary.diagnosis)
    assert _runner_rows(path) == before
    detail = read_run(path, "r1")
    assert [x.note for x in detail.resolutions] == ["seen in BC"]
    assert detail.to_dict()["resolutions"][0]["who"] == "ada"


def test_latest_wins_and_history_stays(tmp_path):
    path = _doubtful(tmp_path / "r1.db")
    record(read_run(path, "r1"), 2, "landed", note="first look")
    record(read_run(path, "r1"), 2, "unknown", note="not so sure", who="bob")
    detail = read_run(path, "r1")
    assert [(x.outcome, x.who) for x in detail.resolutions] == [
        ("landed", "ada"),
        ("unknown", "bob"),
    ]
    assert detail.summary.verdict == "in_doubt" and detail.summary.resolved == (0, 0, 1)
    record(read_run(path, "r1"), 2, "not_landed", note="BC says no")
    assert read_summaries(path)[0].verdict == "completed"


def test_a_later_outcome_from_the_runner_wins(tmp_path):
    path = _doubtful(tmp_path / "r1.db", finished=False)
    record(read_run(path, "r1"), 2, "not_landed", note="no record")
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(
        "UPDATE step SET status='committed', outcome_ts='2026-05-17T09:09:00Z' WHERE seq=2"
    )
    conn.close()
    assert read_summaries(path)[0].resolved == (0, 0, 0)


@pytest.mark.parametrize(
    "kw,code",
    [
        ({"seq": 1, "outcome": "landed", "note": "x"}, "not_in_doubt"),
        ({"seq": 9, "outcome": "landed", "note": "x"}, "no_such_step"),
        ({"seq": 2, "outcome": "landed", "note": "   "}, "no_note"),
        ({"seq": 2, "outcome": "maybe", "note": "x"}, "bad_outcome"),
        ({"seq": 2, "outcome": "landed", "note": "x", "url": "ftp://h/x"}, "bad_url"),
        (
            {"seq": 2, "outcome": "landed", "note": "x", "url": "https://u:p@h/x"},
            "credentials_in_url",
        ),
        ({"seq": 2, "outcome": "not_landed", "note": "x", "url": "https://h/x"}, "bad_url"),
        ({"seq": 2, "outcome": "landed", "note": "x", "readonly": True}, "readonly"),
        # URLs the rollback could not send as shown (review finding): refused here, at once.
        ({"seq": 2, "outcome": "landed", "note": "x", "url": "http://h:99999/x"}, "bad_url"),
        ({"seq": 2, "outcome": "landed", "note": "x", "url": "http://h:1:80/x"}, "bad_url"),
        ({"seq": 2, "outcome": "landed", "note": "x", "url": "http://h/x(1)/../.."}, "bad_url"),
        ({"seq": 2, "outcome": "landed", "note": "x", "url": "http://h/x(1)#y"}, "bad_url"),
        ({"seq": 2, "outcome": "landed", "note": "x", "url": "http://h/x\x1b[2J"}, "bad_url"),
        ({"seq": 2, "outcome": "landed", "note": "x", "url": "http://h/x\u202e(1)"}, "bad_url"),
    ],
)
def test_refusals_write_nothing(tmp_path, kw, code):
    path = _doubtful(tmp_path / "r1.db")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    detail = read_run(path, "r1")
    seq, outcome = kw.pop("seq"), kw.pop("outcome")
    with pytest.raises(ResolutionRefused) as caught:
        record(detail, seq, outcome, **kw)
    assert caught.value.code == code
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    assert not (tmp_path / "r1.db-wal").exists() or read_run(path, "r1").resolutions == ()


def test_not_a_ledger_is_refused_by_the_writer(tmp_path):
    path = _doubtful(tmp_path / "r1.db")
    detail = read_run(path, "r1")
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.close()
    digest = hashlib.sha256(other.read_bytes()).hexdigest()
    from dataclasses import replace

    moved = replace(detail, summary=replace(detail.summary, source=str(other)))
    with pytest.raises(SourceError):
        record(moved, 2, "landed", note="x")
    assert hashlib.sha256(other.read_bytes()).hexdigest() == digest


_APPENDER = """
import sys, time
from ledger_core.rollback.writer import LedgerWriter
with LedgerWriter(sys.argv[1]) as w:
    w.start_run("live", profile="sandbox")
    sid = w.write_intent(seq=1, method="POST", url="https://h/x")
    print("ready", flush=True)
    for i in range(2, 200):
        w.write_intent(seq=i, method="POST", url="https://h/x")
        time.sleep(0.002)
"""


def test_recorded_while_a_writer_appends(tmp_path):
    path = tmp_path / "live.db"
    proc = subprocess.Popen(
        [sys.executable, "-c", _APPENDER, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout.readline().strip() == "ready"
        r = record(read_run(path, "live"), 1, "landed", note="in BC", url="https://h/x(1)")
        assert r.resolution_id == 1
    finally:
        assert proc.wait(timeout=60) == 0
    detail = read_run(path, "live")
    assert len(detail.steps) == 199  # the writer lost nothing
    assert [x.url for x in detail.resolutions] == ["https://h/x(1)"]
    assert detail.summary.resolved[0] == 1


def test_read_only_format_goes_to_the_state_file(tmp_path, state_dir):
    (tmp_path / "ledgers").mkdir()
    path = make_cr(
        tmp_path / "ledgers" / "cr.db",
        [{"run_id": "c1"}],
        [
            {
                "action_id": "a1",
                "run_id": "c1",
                "status": "pending",
                "attempted_at": "2026-05-17T09:00:01Z",
                "attempts": 1,
            }
        ],
    )
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    names = sorted(p.name for p in path.parent.iterdir())
    detail = read_run(path, "c1")
    step = detail.steps[0]
    assert step.derived_status == "in_doubt" and detail.summary.verdict == "in_doubt"
    record(detail, step.seq, "not_landed", note="no comment on the PR")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    assert sorted(p.name for p in path.parent.iterdir()) == names  # nothing beside the ledger
    assert (state_dir / "resolutions.sqlite").is_file()
    again = read_run(path, "c1")
    assert [x.outcome for x in again.resolutions] == ["not_landed"]
    assert again.summary.verdict != "in_doubt" and again.summary.resolved == (0, 1, 0)
    assert read_summaries(path)[0].resolved == (0, 1, 0)


def test_state_dir_off_refuses_for_read_only_formats(tmp_path, monkeypatch):
    monkeypatch.setenv("LEDGERX_STATE_DIR", "off")
    path = make_cr(
        tmp_path / "cr.db",
        [{"run_id": "c1"}],
        [
            {
                "action_id": "a1",
                "run_id": "c1",
                "status": "pending",
                "attempted_at": "2026-05-17T09:00:01Z",
                "attempts": 1,
            }
        ],
    )
    detail = read_run(path, "c1")
    with pytest.raises(ResolutionRefused) as caught:
        record(detail, detail.steps[0].seq, "landed", note="x")
    assert caught.value.code == "no_state_dir"


@pytest.fixture
def api():
    with DemoApi() as server:
        yield server


def _landed_in_doubt(tmp_path: Path, api: DemoApi) -> tuple[Path, str]:
    path = tmp_path / "ledgers" / f"{RUN_ID}.db"
    path.parent.mkdir()
    created = api.add_record(COMPANY, "customers")
    extra = [StepSpec.in_doubt(2, url=entity_url(api.base_url), bc_correlation_id="corr-2")]
    rollback_ledger(path, api, 1, extra=extra)
    return path, created


async def test_resolved_landed_with_url_is_rolled_back(tmp_path, api):
    path, created = _landed_in_doubt(tmp_path, api)
    profiles = write_profiles(tmp_path / "p.toml", api.base_url)
    before = rollback.preview(read_run(path, RUN_ID), profiles)
    assert [a.seq for a in before.deletes] == [1] and [a.seq for a in before.in_doubt] == [2]
    target = entity_url(api.base_url, "customers", created)
    record(read_run(path, RUN_ID), 2, "landed", note="found it", url=target)
    plan = rollback.preview(read_run(path, RUN_ID), profiles)
    assert [(a.seq, a.target) for a in plan.deletes][0] == (2, target)
    assert "resolved as landed by ada" in plan.deletes[0].reason
    assert plan.fingerprint != before.fingerprint
    result = await rollback.execute(plan, profiles)
    assert result.ok
    assert (COMPANY, "customers", created) not in api.records
    assert any(created in r.path for r in api.matching("DELETE"))


async def test_foreign_origin_url_is_still_refused(tmp_path, api):
    path, _ = _landed_in_doubt(tmp_path, api)
    profiles = write_profiles(tmp_path / "p.toml", api.base_url)
    record(read_run(path, RUN_ID), 2, "landed", note="x", url="https://elsewhere.example/x(1)")
    plan = rollback.preview(read_run(path, RUN_ID), profiles)
    assert plan.refusal_code == "foreign_origin"


async def test_resolution_after_preview_makes_the_plan_stale(tmp_path, api):
    path, created = _landed_in_doubt(tmp_path, api)
    profiles = write_profiles(tmp_path / "p.toml", api.base_url)
    plan = rollback.preview(read_run(path, RUN_ID), profiles)
    assert plan.refusal is None
    record(read_run(path, RUN_ID), 2, "unknown", note="asked the customer")
    with pytest.raises(RollbackRefused) as caught:
        await rollback.execute(plan, profiles)
    assert caught.value.code == "stale_plan"
    assert api.matching("DELETE") == []


def test_fingerprint_covers_resolutions(tmp_path):
    path = _doubtful(tmp_path / "r1.db")
    first = make_plan(read_run(path, "r1"), None).fingerprint
    record(read_run(path, "r1"), 2, "unknown", note="x")
    assert make_plan(read_run(path, "r1"), None).fingerprint != first


def test_checklist_leads_with_what_needs_a_human(tmp_path):
    steps = [
        StepSpec.committed(1),
        StepSpec.in_doubt(2, bc_correlation_id="corr-2", intent_ts="2026-05-17T09:00:02.000000Z"),
        StepSpec.in_doubt(3, bc_correlation_id="corr-3"),
    ]
    path = make_ledger(
        tmp_path / "r1.db", [RunSpec("r1", company="[x](https://evil.example)", steps=steps)]
    )
    record(read_run(path, "r1"), 3, "not_landed", note="checked [here](https://evil.example)")
    detail = read_run(path, "r1")
    md = make_plan(detail, None).to_markdown(detail)
    doubt = md.index("## In doubt — needs a human")
    assert doubt < md.index("## Resolved by a person") < md.index("## Will undo")
    assert "intent written at `2026-05-17T09:00:02.000000Z`" in md
    assert "correlation id `corr-2`" in md and "not resolved yet" in md
    assert "resolved as **did not land** by `ada`" in md
    assert "- Verdict: **in\\_doubt**" in md and "## Diagnosis" in md
    assert "- Manifest: `/manifests/orders.yaml`" in md
    assert "](https://evil" not in md.replace("`[x](https://evil.example)`", "")


def test_a_hand_written_outcome_moves_nothing(tmp_path):
    path = _doubtful(tmp_path / "r1.db")
    conn = sqlite3.connect(path, isolation_level=None)
    # A table made by hand, without ledgerx's CHECK on the outcome.
    conn.execute(
        LEDGER_DDL.split(" CHECK")[0] + ", url TEXT, note TEXT NOT NULL, who TEXT "
        "NOT NULL, resolved_at TEXT NOT NULL)"
    )
    conn.execute(
        "INSERT INTO step_resolution (run_id, step_id, seq, outcome, url, note, who, "
        "resolved_at) VALUES ('r1', 2, 2, 'maybe', 'https://h/x', 'n', 'w', 't')"
    )
    conn.close()
    detail = read_run(path, "r1")
    action = next(a for a in make_plan(detail, None).actions if a.seq == 2)
    assert action.group == "in_doubt" and action.action == "skip"
    assert detail.summary.verdict == "in_doubt"


def test_read_resolutions_for_paged_runs(tmp_path):
    from ledger_core.ledgers.reader import read_resolutions

    path = _doubtful(tmp_path / "r1.db")
    assert read_resolutions(path, "r1") == []
    record(read_run(path, "r1"), 2, "landed", note="ok")
    assert [r.outcome for r in read_resolutions(path, "r1")] == ["landed"]
    (tmp_path / "ledgers").mkdir()
    cr = make_cr(tmp_path / "ledgers" / "cr.db", [{"run_id": "c1"}], [PENDING])
    record(read_run(cr, "c1"), read_run(cr, "c1").steps[0].seq, "unknown", note="asked")
    assert [r.outcome for r in read_resolutions(cr, "c1")] == ["unknown"]


def _crashed(path: Path, method: str = "POST", first: bool = True) -> Path:
    """A run whose writer (a dead pid on this host) stopped after the intent of step 2."""
    steps = [StepSpec.in_doubt(2, method=method, bc_correlation_id="c-2")]
    steps = [StepSpec.committed(1), *steps] if first else steps
    make_ledger(path, [RunSpec("r1", steps=steps)])
    add_writer(path, "r1")
    return path


def _said(path: Path) -> str:
    return " ".join(read_run(path, "r1").summary.sentences("cli"))


@pytest.mark.parametrize(
    "outcome,url,method,now_true",
    [
        ("landed", "https://h/x(2)", "POST", "created record at https://h/x(2): the rollback can"),
        ("landed", None, "POST", "no URL of the created record was given: it cannot be undone"),
        ("landed", None, "PATCH", "a PATCH cannot be undone automatically"),
        ("not_landed", None, "POST", "resolved it as did not land (by ada at "),
    ],
)
def test_diagnosis_says_what_the_resolution_made_true(tmp_path, outcome, url, method, now_true):
    path = _crashed(tmp_path / "r1.db", method)
    assert "check the server by hand" in _said(path)
    record(read_run(path, "r1"), 2, outcome, note="checked", url=url)
    said = _said(path)
    assert now_true in said
    assert "check the server by hand" not in said and "may have landed" not in said
    assert "resolved by a person" in said  # the count line stays, after the facts
    # every surface reads the same summary: list, state/JSON, export, checklist
    detail = read_run(path, "r1")
    assert now_true in " ".join(read_summaries(path)[0].diagnosis)
    assert now_true in " ".join(detail.to_dict()["diagnosis"])
    assert now_true in make_plan(detail, None).to_markdown(detail).replace("\\", "")


def test_still_unknown_still_says_check_by_hand_with_who_and_when(tmp_path):
    path = _crashed(tmp_path / "r1.db")
    record(read_run(path, "r1"), 2, "unknown", note="asked", who="bob", at="2026-05-17T10:00:00Z")
    said = _said(path)
    assert "marked it still unknown (by bob at 2026-05-17T10:00:00Z)" in said
    assert "check the server by hand" in said


def test_landed_with_url_advises_the_rollback(tmp_path):
    path = _crashed(tmp_path / "r1.db", first=False)
    assert read_run(path, "r1").summary.advice == ()
    record(read_run(path, "r1"), 2, "landed", note="seen", url="https://h/x(2)")
    summary = read_run(path, "r1").summary
    assert [a.kind for a in summary.advice] == ["undo_resolved"]
    assert "ledgerx rollback r1 --dry-run" in summary.sentences("cli")[-1]


def test_not_dead_runs_name_the_resolution_too(tmp_path):
    steps = [StepSpec.committed(1), StepSpec.in_doubt(2), StepSpec.in_doubt(3)]
    path = make_ledger(
        tmp_path / "r1.db",
        [RunSpec("r1", state="completed", finished_at="2026-05-17T09:05:00Z", steps=steps)],
    )
    record(read_run(path, "r1"), 2, "not_landed", note="no")
    said = _said(path)
    assert "step 2 (POST" in said and "did not land (by ada" in said
    assert "step 3 (POST" in said and said.count("may or may not have landed") == 1


def test_read_only_format_diagnosis_names_the_resolution(tmp_path):
    path = make_cr(tmp_path / "cr.db", [{"run_id": "c1"}], [PENDING])
    detail = read_run(path, "c1")
    record(detail, detail.steps[0].seq, "not_landed", note="no comment on the PR")
    said = read_run(path, "c1").summary.diagnosis
    assert any("resolved by a person (1 did not land)" in s for s in said)
