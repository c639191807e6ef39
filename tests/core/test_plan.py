"""The pure rollback planner (SPEC §3): order, every rule and its reason, fingerprint, exports."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from ledger_factory import RunSpec, StepSpec, make_ledger
from markdown_it import MarkdownIt

from ledger_core.errors import PlanFileError
from ledger_core.ledgers.reader import read_run
from ledger_core.ledgers.schema import ROLLBACK_DDL
from ledger_core.rollback.plan import CANNOT, DOUBT, NOTHING, UNDO, Plan, make_plan
from ledger_core.rollback.profiles import Profile

URL = "https://bc.example.test/api/v2.0/companies(1)"
SANDBOX = Profile("sandbox", base_url="https://bc.example.test")


def _steps() -> list[StepSpec]:
    return [
        StepSpec.committed(1, rollback_url=f"{URL}/customers(a)", bc_correlation_id="corr-a"),
        StepSpec.committed(2, rollback_url=None),
        StepSpec.committed(3, method="PATCH", url=f"{URL}/items(i)"),
        StepSpec.committed(4, method="DELETE", url=f"{URL}/vendors(v)"),
        StepSpec.committed(5, method="GET", url=f"{URL}/items"),
        StepSpec.failed(6),
        StepSpec(7, status="skipped"),
        StepSpec.in_doubt(8),
        StepSpec(9, status="weird-status"),
        StepSpec.committed(10, status="rolled_back"),
        StepSpec.committed(11, status="rollback_skipped"),
        StepSpec.committed(12, status="rollback_failed", rollback_url=f"{URL}/customers(b)"),
        StepSpec.committed(13, method="post", rollback_url=f"{URL}/customers(c)"),
    ]


def _ledger(tmp_path: Path, steps: list[StepSpec] | None = None) -> Path:
    path = tmp_path / "run.db"
    make_ledger(path, [RunSpec("run-1", steps=steps if steps is not None else _steps())])
    return path


def _plan(path: Path, profile: Profile | None = SANDBOX) -> Plan:
    return make_plan(read_run(path, "run-1"), profile)


def test_newest_first_with_a_rule_and_reason_for_every_step(tmp_path):
    plan = _plan(_ledger(tmp_path))
    assert [a.seq for a in plan.actions] == list(range(13, 0, -1))
    got = {a.seq: (a.action, a.group, a.reason) for a in plan.actions}
    assert got[1] == ("delete", UNDO, "created by POST: delete the record")
    assert got[2] == ("skip", CANNOT, "no rollback target recorded")
    assert got[3] == ("skip", CANNOT, "no pre-image: cannot be undone automatically")
    assert got[4] == ("skip", CANNOT, "no pre-image: cannot be undone automatically")
    assert got[5][:2] == ("skip", NOTHING) and "GET" in got[5][2]
    assert got[6] == ("skip", NOTHING, "nothing to undo (failed)")
    assert got[7] == ("skip", NOTHING, "nothing to undo (skipped)")
    assert got[8][:2] == ("skip", DOUBT) and "check by hand" in got[8][2]
    assert got[9][:2] == ("skip", DOUBT) and "weird-status" in got[9][2]
    assert got[10] == ("skip", NOTHING, "already rolled back")
    assert got[11][:2] == ("skip", NOTHING)
    assert got[12][:2] == ("delete", UNDO) and "retry" in got[12][2]
    assert got[13][:2] == ("delete", UNDO)  # method case does not matter
    assert [a.target for a in plan.deletes] == [
        f"{URL}/customers(c)",
        f"{URL}/customers(b)",
        f"{URL}/customers(a)",
    ]
    assert plan.summary() == "3 to undo, 3 cannot be undone, 2 in doubt, 5 with nothing to undo"


def test_seq_ties_are_broken_by_step_id(tmp_path):
    path = _ledger(tmp_path, [StepSpec.committed(1), StepSpec.committed(1, rollback_url="u2")])
    plan = _plan(path)
    assert [a.step_id for a in plan.actions] == [2, 1]


def test_previous_attempts_resume_or_skip(tmp_path):
    path = _ledger(tmp_path, [StepSpec.committed(1), StepSpec.committed(2)])
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(ROLLBACK_DDL)
    conn.execute(
        "INSERT INTO rollback_attempt (run_id, step_id, method, url, intent_ts) "
        "VALUES ('run-1', 2, 'DELETE', 'u', 't')"  # no outcome: in doubt
    )
    conn.execute(
        "INSERT INTO rollback_attempt (run_id, step_id, method, url, intent_ts, outcome_ts, "
        "http_status, result) VALUES ('run-1', 1, 'DELETE', 'u', 't', 't', 204, 'rolled_back')"
    )
    conn.close()
    got = {a.seq: a for a in _plan(path).actions}
    assert got[2].action == "delete" and "resume" in got[2].reason
    assert got[1].action == "skip" and got[1].reason == "already rolled back"


def test_fingerprint_tracks_rows_and_write_setting(tmp_path):
    path = _ledger(tmp_path)
    first = _plan(path)
    assert _plan(path).fingerprint == first.fingerprint  # stable
    disabled = _plan(path, Profile("sandbox", base_url=SANDBOX.base_url, disable_writes=True))
    assert disabled.fingerprint != first.fingerprint and not disabled.writes_enabled
    moved = _plan(path, Profile("sandbox", base_url="https://elsewhere.test"))
    assert moved.fingerprint != first.fingerprint
    assert _plan(path, None).fingerprint != first.fingerprint
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("UPDATE step SET status = 'failed' WHERE seq = 13")
    conn.close()
    assert _plan(path).fingerprint != first.fingerprint


def test_json_round_trip(tmp_path):
    plan = _plan(_ledger(tmp_path))
    again = Plan.from_dict(json.loads(plan.to_json()))
    assert again == plan
    data = plan.to_dict()
    assert {"run_id", "profile", "writes_enabled", "refusal", "fingerprint", "actions"} <= set(data)
    assert {"step_id", "seq", "method", "url", "action", "target", "reason"} <= set(
        data["actions"][0]
    )


@pytest.mark.parametrize(
    "data",
    [None, [], {"format": 2}, {"format": 1}, {"format": 1, "run_id": "r", "actions": [{}]}],
)
def test_malformed_plan_files(data):
    with pytest.raises(PlanFileError):
        Plan.from_dict(data)


def test_plan_file_fields_of_the_wrong_type_are_plan_file_errors(tmp_path):
    # A hand-edited plan with e.g. a profile object used to crash later with TypeError.
    good = _plan(_ledger(tmp_path)).to_dict()
    action = good["actions"][0]
    for key, value in [
        ("profile", {"a": 1}),
        ("run_id", ["r"]),
        ("fingerprint", 7),
        ("writes_enabled", "yes"),
        ("refusal", [1]),
        ("actions", 5),
        ("actions", [None]),
        ("actions", [action | {"step_id": "7"}]),
        ("actions", [action | {"step_id": True}]),
        ("actions", [action | {"target": ["x"]}]),
        ("actions", [action | {"action": "post"}]),
        ("profile_snapshot", "sandbox"),
        ("profile_snapshot", {"path": 1}),
    ]:
        with pytest.raises(PlanFileError, match="malformed"):
            Plan.from_dict(good | {key: value})


def test_markdown_checklist(tmp_path):
    plan = _plan(_ledger(tmp_path))
    md = plan.to_markdown()
    assert md.startswith("# Rollback plan for run `run-1`")
    for title in ("## Will undo (3)", "## Cannot undo (3)", "## In doubt", "## Nothing to undo"):
        assert title in md
    assert "- [ ] step 1 `POST`" in md and "correlation id `corr-a`" in md


def test_markdown_keeps_hostile_text_inert(tmp_path):
    hostile = "x`\n# injected heading\x1b[31m\u202e"
    path = _ledger(tmp_path, [StepSpec.committed(1, url=hostile, rollback_url=hostile)])
    md = _plan(path).to_markdown()
    assert "\n# injected" not in md and "\x1b" not in md and "\u202e" not in md
    assert "\\x1b" in md and "\\x0a# injected" in md


def test_markdown_reasons_cannot_smuggle_links_into_a_ticket(tmp_path):
    # The "not understood" reason quotes the stored status; the refusal quotes a target URL.
    status = "[click](https://evil.example/a) ![x](https://evil.example/t.png) <b>"
    path = _ledger(tmp_path, [StepSpec(1, status=status)])
    detail = read_run(path, "run-1")
    refusal = ("foreign_origin", "step 1's target https://evil.example/b is not on the server")
    md = make_plan(detail, SANDBOX, refusal=refusal).to_markdown()
    html = MarkdownIt("gfm-like").render(md)  # CommonMark plus GitHub-style autolinks
    assert "evil.example" in html
    assert "<a " not in html and "<img" not in html and "<b>" not in html
    # What a reader sees is still the text as stored.
    assert "[click](https://evil.example/a)" in html
    assert "https://evil.example/b is not on the server" in html


def test_saved_plan_json_holds_no_raw_control_or_bidi_characters(tmp_path):
    hostile = "https://bc.example.test/x\x7f\x9b2J\u202e\u2066"
    path = _ledger(tmp_path, [StepSpec.committed(1, url=hostile, rollback_url=hostile)])
    plan = _plan(path)
    text = plan.to_json()
    assert text.isascii() and "\\u202e" in text
    assert Plan.from_dict(json.loads(text)) == plan
