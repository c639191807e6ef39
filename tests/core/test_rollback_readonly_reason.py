"""A read-only session may carry its reason (``ledgerx serve``): the core's refusal quotes it."""

from __future__ import annotations

from pathlib import Path

import pytest
from ledger_factory import dir_state
from rollback_servers import RUN_ID, rollback_ledger, write_profiles

from ledger_core.demo.api import DemoApi
from ledger_core.errors import RollbackRefused
from ledger_core.ledgers.reader import read_run
from ledger_core.rollback import executor as rollback

REASON = "served read-only; `ledgerx serve --allow-writes` allows rollbacks"


@pytest.fixture
def api():
    with DemoApi() as server:
        yield server


@pytest.fixture
def ledger(tmp_path: Path, api: DemoApi) -> Path:
    (tmp_path / "ledgers").mkdir()
    path = tmp_path / "ledgers" / f"{RUN_ID}.db"
    rollback_ledger(path, api, 3)
    return path


async def test_the_reason_is_quoted_by_preview_check_and_execute(ledger, api, tmp_path):
    profiles = write_profiles(tmp_path / "p.toml", api.base_url)
    plan = rollback.preview(read_run(ledger, RUN_ID), profiles, readonly=REASON)
    assert plan.refusal_code == "readonly"
    assert f"this session is read-only ({REASON})" in (plan.refusal or "")
    # A plan made in a writable session is refused by a served read-only one, before any socket.
    writable = rollback.preview(read_run(ledger, RUN_ID), profiles)
    assert writable.refusal is None
    before = dir_state(ledger.parent)
    with pytest.raises(RollbackRefused) as info:
        await rollback.execute(writable, profiles, readonly=REASON)
    assert info.value.code == "readonly" and "served read-only" in info.value.reason
    assert api.connections == 0 and api.requests == []
    assert dir_state(ledger.parent) == before


def test_the_reason_is_sanitised(ledger, api, tmp_path):
    profiles = write_profiles(tmp_path / "p.toml", api.base_url)
    plan = rollback.preview(read_run(ledger, RUN_ID), profiles, readonly="served\x1b[2J")
    assert "\x1b" not in (plan.refusal or "") and "served\\x1b[2J" in (plan.refusal or "")


def test_true_still_names_the_flag(ledger, api, tmp_path):
    profiles = write_profiles(tmp_path / "p.toml", api.base_url)
    plan = rollback.preview(read_run(ledger, RUN_ID), profiles, readonly=True)
    assert "(--readonly)" in (plan.refusal or "")
