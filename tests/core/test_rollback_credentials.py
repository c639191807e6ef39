"""A password written into a URL is never shown, exported or stored, and never sent.

Runners and people put ``user:password@`` into URLs: a profile's ``base_url``, a step's ``url``,
a server's error text. ``sanitize`` masks it in every text (``http://user:***@host``); the
rollback refuses to send credentials embedded in a URL at all.
"""

from __future__ import annotations

import pytest
from ledger_factory import StepSpec, dir_state
from rollback_servers import (
    COMPANY,
    RUN_ID,
    attempt_rows,
    entity_url,
    rollback_ledger,
    write_profiles,
)

from ledger_core.demo.api import DemoApi
from ledger_core.errors import RollbackRefused
from ledger_core.ledgers.reader import read_run
from ledger_core.rollback import executor as rollback
from ledger_core.sanitize import clean, has_credentials, redact_url, redact_urls

SECRET = "hunter2-S3cret"


@pytest.fixture
def api():
    with DemoApi() as server:
        yield server


@pytest.mark.parametrize(
    "text, shown",
    [
        (f"http://user:{SECRET}@host/x", "http://user:***@host/x"),
        (f"see https://u:{SECRET}@h:8443/p?q=a@b now", "see https://u:***@h:8443/p?q=a@b now"),
        (f"http://u:p@ss{SECRET}@host/", "http://u:***@host/"),  # "@" inside the password
        (f"https://{SECRET}@github.com/o/r", "https://***@github.com/o/r"),  # token as user
        (f'{{"url": "http://u:{SECRET}\\u00e9@h"}}', '{"url": "http://u:***@h"}'),  # JSON text
        (f"a http://a:{SECRET}@h and ftp://b:{SECRET}@i", "a http://a:***@h and ftp://b:***@i"),
        ("http://host/path@x?y=@z", "http://host/path@x?y=@z"),  # no userinfo: unchanged
        ("mailto:someone@example.com", "mailto:someone@example.com"),
        ("http://@host/", "http://@host/"),
    ],
)
def test_redact_urls(text, shown):
    assert redact_urls(text) == shown
    assert SECRET not in clean(text)
    assert has_credentials(text) == (text != shown)


def test_clean_masks_before_cutting_and_after_escaping_nothing():
    long_password = "p" * 3000
    shown = clean(f"http://u:{long_password}@host/" + "x" * 5000, 100)
    assert "ppp" not in shown and shown.startswith("http://u:***@host/")
    assert clean(f"\x1b[31mhttp://u:{SECRET}@h") == "\\x1b[31mhttp://u:***@h"
    assert redact_url(None) is None and not has_credentials(None)


async def test_password_in_base_url_is_refused_and_never_shown(tmp_path, api):
    path = tmp_path / "ledgers" / f"{RUN_ID}.db"
    path.parent.mkdir()
    rollback_ledger(path, api, 2)
    base = api.base_url.replace("http://", f"http://user:{SECRET}@")
    profiles = write_profiles(tmp_path / "p.toml", base)
    plan = rollback.preview(read_run(path, RUN_ID), profiles)
    assert plan.refusal_code == "credentials_in_url"
    assert "user:***@127.0.0.1" in plan.refusal and "token_env" in plan.refusal
    before = dir_state(path.parent)
    with pytest.raises(RollbackRefused) as info:
        await rollback.execute(plan, profiles)
    assert info.value.code == "credentials_in_url" and SECRET not in str(info.value)
    assert api.connections == 0 and dir_state(path.parent) == before
    for text in (plan.to_json(), plan.to_markdown(), repr(plan.refusal)):
        assert SECRET not in text


async def test_password_in_a_rollback_target_is_refused(tmp_path, api):
    path = tmp_path / "ledgers" / f"{RUN_ID}.db"
    path.parent.mkdir()
    target = entity_url(api.base_url, "customers", "x1").replace("http://", f"http://u:{SECRET}@")
    extra = [StepSpec.committed(9, url=entity_url(api.base_url), rollback_url=target)]
    rollback_ledger(path, api, 1, extra=extra)
    profiles = write_profiles(tmp_path / "p.toml", api.base_url)
    plan = rollback.preview(read_run(path, RUN_ID), profiles)
    assert plan.refusal_code == "credentials_in_url"
    assert "never sends credentials" in plan.refusal and "u:***@" in plan.refusal
    for text in (plan.refusal, plan.to_json(), plan.to_markdown()):
        assert SECRET not in text
    with pytest.raises(RollbackRefused):
        await rollback.execute(plan, profiles)
    assert api.connections == 0


async def test_passwords_echoed_by_a_server_are_masked_in_results_and_the_ledger(tmp_path, api):
    path = tmp_path / "ledgers" / f"{RUN_ID}.db"
    path.parent.mkdir()
    ids = rollback_ledger(path, api, 2)
    api.fault(ids[1], "status", status=502, body=f"upstream http://svc:{SECRET}@10.0.0.7/ failed")
    api.fault(ids[0], "redirect", location=f"http://svc:{SECRET}@127.0.0.1:1/x")
    profiles = write_profiles(tmp_path / "p.toml", api.base_url)
    progress: list = []
    plan = rollback.preview(read_run(path, RUN_ID), profiles)
    result = await rollback.execute(plan, profiles, on_progress=progress.append)
    assert len(result.failed) == 2
    assert SECRET not in repr(result) + repr(progress)
    assert "http://svc:***@10.0.0.7/" in repr(result)
    stored = attempt_rows(path)
    assert stored and all(SECRET not in repr(row) for row in stored)
    assert any("svc:***@" in (row[5] or "") for row in stored)
    assert api.has_record(COMPANY, "customers", ids[0])  # the redirect was not followed
