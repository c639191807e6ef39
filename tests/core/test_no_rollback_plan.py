"""The refused plan of another format tells the truth about its steps: in doubt stays in doubt."""

from __future__ import annotations

import json
from dataclasses import replace

from conftest import FIXED_NOW

from ledger_core.demo.other_formats import write_format_demos
from ledger_core.formats.no_rollback import refused_plan
from ledger_core.ledgers.reader import read_run
from ledger_core.rollback import CANNOT, DOUBT, UNDO, Plan, Profiles
from ledger_core.rollback import executor as rollback
from ledger_core.rollback.plan import fingerprint, make_plan


def _crashed_cr(tmp_path):
    roles = write_format_demos(tmp_path, FIXED_NOW)
    name, run_id = roles["cr_crashed_in_doubt"]
    return read_run(tmp_path / name, run_id, now=FIXED_NOW)


def test_in_doubt_steps_stay_in_doubt_and_lead_the_checklist(tmp_path):
    detail = _crashed_cr(tmp_path)
    assert detail.summary.counts.in_doubt == 1
    plan = rollback.preview(detail, Profiles(None))
    assert plan.refusal_code == "no_rollback_for_format"
    assert len(plan.in_doubt) == 1 and "1 in doubt" in plan.summary()
    assert plan.deletes == [] and plan.will_undo == [] and not plan.writes_enabled
    assert plan.fingerprint == fingerprint(detail, None, detail.summary.profile)
    checklist = plan.to_markdown(detail)
    assert "writes DISABLED" not in checklist
    assert f"- Profile: `{detail.summary.profile}` (no rollback for this format)" in checklist
    groups = [line for line in checklist.splitlines() if line.startswith("## ")]
    first_group = next(line for line in groups if "Diagnosis" not in line)
    assert first_group.startswith("## In doubt") and "ledgerx resolve" in checklist
    # The JSON says the same and reads back.
    data = json.loads(plan.to_json())
    assert [a["group"] for a in data["actions"]].count(DOUBT) == 1
    assert Plan.from_dict(data).in_doubt == plan.in_doubt


def test_a_would_be_undo_cannot_be_undone_for_the_formats_reason(tmp_path):
    detail = _crashed_cr(tmp_path)
    # A step the runner's rules would undo (a POST with a rollback target): never for cr.
    steps = [
        replace(s, method="POST", rollback_url="https://api.example/x/1")
        if s.derived_status == "committed"
        else s
        for s in detail.steps
    ]
    detail = replace(detail, steps=steps)
    as_runner = make_plan(detail, None)
    undone = {a.seq for a in as_runner.group(UNDO)}
    assert undone  # the rule the refusal must override
    plan = refused_plan(detail)
    assert plan is not None and plan.deletes == [] and plan.will_undo == []
    for action in plan.actions:
        if action.seq in undone:
            assert action.group == CANNOT and action.target is None
            assert action.reason == plan.refusal and "no rollback for this format" in plan.refusal
    assert len(plan.in_doubt) == 1
