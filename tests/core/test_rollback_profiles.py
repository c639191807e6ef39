"""The profiles file is read when a rollback is decided, not when ledgerx started (issue 8).

A real profiles file is edited between steps; DELETEs go to a real ``DemoApi`` on 127.0.0.1,
whose request log proves what was (or was not) sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from ledger_factory import dir_state
from rollback_servers import RUN_ID, attempt_rows, rollback_ledger, step_rows, write_profiles

from ledger_core.demo.api import DemoApi
from ledger_core.errors import RollbackRefused
from ledger_core.ledgers.reader import read_run
from ledger_core.rollback import executor as rollback
from ledger_core.rollback.plan import Plan
from ledger_core.rollback.profiles import Profiles, ProfilesSource


@pytest.fixture
def api():
    with DemoApi() as server:
        yield server


@pytest.fixture
def ledger(tmp_path: Path, api: DemoApi) -> Path:
    directory = tmp_path / "ledgers"
    directory.mkdir()
    path = directory / f"{RUN_ID}.db"
    rollback_ledger(path, api, 2)
    return path


def _preview(ledger: Path, source: ProfilesSource) -> Plan:
    return rollback.preview(read_run(ledger, RUN_ID), source)


async def _refused(plan: Plan, source, ledger: Path, api: DemoApi, code: str) -> str:
    before = dir_state(ledger.parent)
    with pytest.raises(RollbackRefused) as info:
        await rollback.execute(plan, source)
    assert info.value.code == code, info.value.reason
    assert api.connections == 0 and api.requests == []
    assert dir_state(ledger.parent) == before
    return info.value.reason


async def test_disable_writes_added_after_the_preview_refuses(tmp_path, ledger, api):
    path = tmp_path / "profiles.toml"
    write_profiles(path, api.base_url)
    source = ProfilesSource.lookup(path)
    plan = _preview(ledger, source)
    assert plan.refusal is None and plan.profile_snapshot is not None
    write_profiles(path, api.base_url, disable_writes=True)
    with pytest.raises(RollbackRefused, match="now has disable_writes = true"):
        rollback.recheck(plan, source)
    reason = await _refused(plan, source, ledger, api, "profiles_changed")
    assert f"profile 'sandbox' now has disable_writes = true in {path}" in reason


async def test_a_profile_added_later_is_seen_without_a_restart(tmp_path, ledger, api):
    path = tmp_path / "profiles.toml"
    path.write_text("[profiles.other]\n")
    source = ProfilesSource.lookup(path)
    plan = _preview(ledger, source)
    assert plan.refusal_code == "unknown_profile"
    write_profiles(path, api.base_url)
    reason = await _refused(plan, source, ledger, api, "profiles_changed")
    assert f"profile 'sandbox' was added to {path} since the preview" in reason
    again = _preview(ledger, source)  # planning again reads the file as it is now
    assert again.refusal is None
    result = await rollback.execute(again, source)
    assert result.ok and len(api.requests) == 2
    assert set(step_rows(ledger).values()) == {"rolled_back"}


async def test_any_change_to_the_file_refuses_and_says_the_profile_is_unchanged(
    tmp_path, ledger, api
):
    path = tmp_path / "profiles.toml"
    write_profiles(path, api.base_url)
    source = ProfilesSource.lookup(path)
    plan = _preview(ledger, source)
    path.write_text(path.read_text() + "\n[profiles.staging]\n")
    reason = await _refused(plan, source, ledger, api, "profiles_changed")
    assert "changed since the preview (profile 'sandbox' itself is unchanged)" in reason


async def test_a_malformed_file_refuses_with_its_error(tmp_path, ledger, api):
    path = tmp_path / "profiles.toml"
    path.write_text('[profiles.sandbox]\nbase_url = "http://x\n')
    source = ProfilesSource.lookup(path)
    plan = _preview(ledger, source)  # planning still works: the plan says why it is refused
    assert plan.refusal_code == "profiles_error"
    assert str(path) in plan.refusal and "not valid TOML" in plan.refusal
    assert plan.actions and not plan.writes_enabled
    reason = await _refused(plan, source, ledger, api, "profiles_error")
    assert "not valid TOML" in reason


async def test_a_file_broken_after_the_preview_refuses(tmp_path, ledger, api):
    path = tmp_path / "profiles.toml"
    write_profiles(path, api.base_url)
    source = ProfilesSource.lookup(path)
    plan = _preview(ledger, source)
    path.write_text("[profiles.sandbox\n")
    reason = await _refused(plan, source, ledger, api, "profiles_changed")
    assert "can no longer be read" in reason and "not valid TOML" in reason


@pytest.mark.parametrize("key", ["disable-writes", "Disable_Writes", "disableWrites"])
async def test_a_misspelled_safety_key_refuses_naming_both_spellings(tmp_path, ledger, api, key):
    path = tmp_path / "profiles.toml"
    path.write_text(f'[profiles.sandbox]\nbase_url = "{api.base_url}"\n{key} = true\n')
    source = ProfilesSource.lookup(path)
    plan = _preview(ledger, source)
    assert plan.refusal_code == "misspelled_key" and not plan.writes_enabled
    assert f"'{key}'" in plan.refusal and "misspelling of disable_writes" in plan.refusal
    await _refused(plan, source, ledger, api, "misspelled_key")


async def test_a_misspelled_readonly_refuses_the_session(tmp_path, ledger, api):
    path = tmp_path / "profiles.toml"
    path.write_text(
        f'[defaults]\nread-only = true\n[profiles.sandbox]\nbase_url = "{api.base_url}"\n'
    )
    source = ProfilesSource.lookup(path)
    plan = _preview(ledger, source)
    assert plan.refusal_code == "misspelled_key"
    assert "[defaults] read-only" in plan.refusal and "[defaults] readonly" in plan.refusal
    await _refused(plan, source, ledger, api, "misspelled_key")


@dataclass(frozen=True, slots=True)
class EditedOnSecondRead(ProfilesSource):
    """The real file, which someone edits right after its first read by ``execute``."""

    edit: str = ""

    def load(self) -> Profiles:
        loaded = ProfilesSource.load(self)
        reads = self.paths[0].with_suffix(".reads")
        count = int(reads.read_text()) + 1 if reads.exists() else 1
        reads.write_text(str(count))
        if count == 2:  # the preview read once, execute's first check twice
            self.paths[0].write_text(self.edit)
        return loaded


async def test_the_file_is_read_again_just_before_the_first_delete(tmp_path, ledger, api):
    path = tmp_path / "profiles.toml"
    write_profiles(path, api.base_url)
    edited = path.read_text().replace("disable_writes = false", "disable_writes = true", 1)
    source = EditedOnSecondRead((path,), True, edited)
    plan = _preview(ledger, source)
    with pytest.raises(RollbackRefused, match="now has disable_writes = true") as info:
        await rollback.execute(plan, source)
    assert info.value.code == "profiles_changed"
    assert api.connections == 0 and api.requests == []
    assert attempt_rows(ledger) == []


async def test_a_saved_plan_without_a_snapshot_is_refused(tmp_path, ledger, api):
    path = tmp_path / "profiles.toml"
    write_profiles(path, api.base_url)
    source = ProfilesSource.lookup(path)
    data = json.loads(_preview(ledger, source).to_json())
    del data["profile_snapshot"]  # as saved by ledgerx before snapshots existed
    old = Plan.from_dict(data)
    assert old.profile_snapshot is None
    reason = await _refused(old, source, ledger, api, "profiles_changed")
    assert "does not record the profiles file" in reason and "make the plan again" in reason


def test_the_plan_records_the_snapshot_in_its_json(tmp_path, ledger, api):
    path = tmp_path / "profiles.toml"
    write_profiles(path, api.base_url.replace("http://", "http://ops:hunter2@"))
    plan = _preview(ledger, ProfilesSource.lookup(path))
    text = plan.to_json()
    assert "hunter2" not in text and "ops:***@" in text
    snap = json.loads(text)["profile_snapshot"]
    assert snap["path"] == str(path) and snap["fingerprint"].startswith("sha256:")
    assert snap["present"] is True and snap["disable_writes"] is False
    assert Plan.from_dict(json.loads(text)) == plan


# A write-blocking key in the wrong place or in other words: every one of these files once let
# `rollback --yes` send its DELETEs (exit 0). (file text before the sandbox table, profile's own
# extra lines, refusal code, words the refusal must hold)
MISPLACED_FILES = [
    ("[defaults]\ndisable_writes = true\n", "", "misplaced_key", "[defaults] disable_writes"),
    ("readonly = true\n", "", "misplaced_key", "readonly = true at the top level (line 1)"),
    ("disable_writes = true\n", "", "misplaced_key", "disable_writes = true at the top level"),
    ("", "readonly = true\n", "misplaced_key", "[profiles.sandbox] readonly = true"),
    ("", "read_only = true\n", "misplaced_key", "[profiles.sandbox] read_only = true"),
    ("", "read-only = true\n", "misplaced_key", "[profiles.sandbox] read-only = true"),
    (
        "",
        "[profiles.sandbox.settings]\ndisable_writes = true\n",
        "misplaced_key",
        "[profiles.sandbox.settings] disable_writes = true",
    ),
    ("", "writes_disabled = true\n", "misplaced_key", "writes_disabled = true"),
    ("", "disable_writing = true\n", "misplaced_key", "disable_writing = true"),
    ("", "no_writes = true\n", "misplaced_key", "no_writes = true"),
    ("", "write_disabled = true\n", "misplaced_key", "write_disabled = true"),
    ("", "writes = false\n", "misplaced_key", "writes = false"),
    ("", "allow_writes = false\n", "misplaced_key", "allow_writes = false"),
    ("", 'writes = "off"\n', "misplaced_key", "writes = 'off'"),
    ("", "Disable-Writes = false\n", "misspelled_key", "misspelling of disable_writes"),
    ("[profiles.default]\nreadonly = true\n", "", "misplaced_key", "[profiles.default] readonly"),
]


@pytest.mark.parametrize(("before", "extra", "code", "words"), MISPLACED_FILES)
async def test_a_misplaced_write_blocking_key_refuses_with_nothing_sent(
    tmp_path, ledger, api, before, extra, code, words
):
    path = tmp_path / "profiles.toml"
    path.write_text(f'{before}[profiles.sandbox]\nbase_url = "{api.base_url}"\n{extra}')
    source = ProfilesSource.lookup(path)
    plan = _preview(ledger, source)
    assert plan.refusal_code == code, plan.refusal
    assert words in plan.refusal and "whatever its value" in plan.refusal
    if "the whole session stays read-only" in plan.refusal:
        assert "replaced by [defaults] readonly = true" in plan.refusal
    else:  # the profile's own setting: the plan header says writes DISABLED
        assert not plan.writes_enabled and "[profiles.sandbox] disable_writes" in plan.refusal
    reason = await _refused(plan, source, ledger, api, code)
    assert words in reason
    if "'" in words:  # a value that is not a boolean is said so
        assert "not even true/false" in reason
    with pytest.raises(RollbackRefused) as info:  # a plan made without the key is refused too
        await rollback.execute(_preview(ledger, Profiles(path=None)), source)
    assert info.value.code in {code, "profiles_changed"}
    assert api.connections == 0 and set(step_rows(ledger).values()) == {"committed"}


async def test_a_near_miss_set_to_false_after_the_preview_is_said_as_written(tmp_path, ledger, api):
    path = tmp_path / "profiles.toml"
    write_profiles(path, api.base_url)
    source = ProfilesSource.lookup(path)
    plan = _preview(ledger, source)
    assert plan.refusal is None
    text = path.read_text().replace("disable_writes = false", "Disable-Writes = false")
    path.write_text(text)
    reason = await _refused(plan, source, ledger, api, "profiles_changed")
    assert "disable_writes = true" not in reason
    assert "profile 'sandbox' is now write-disabled" in reason
    assert "[profiles.sandbox] Disable-Writes = false (line 6)" in reason
    assert "misspelling of disable_writes" in reason and "whatever its value" in reason
