"""A DELETE answered by a redirect is a redirect, whatever its ``Location`` holds.

Redirects are never followed (SPEC §6): the DELETE was not done there, so the step failed to
roll back, with the status and the ``Location`` as sent (cleaned). httpx parses a redirect's
``Location`` even when it does not follow it, and an unparsable one used to surface as
"connection lost" with the step left in doubt. A raw-socket server sends the odd headers.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rollback_servers import (
    RUN_ID,
    Behaviour,
    RawServer,
    attempt_rows,
    rollback_ledger,
    step_rows,
    write_profiles,
)

from ledger_core.ledgers.reader import read_run
from ledger_core.rollback import executor as rollback


@pytest.fixture
def server():
    with RawServer() as raw:
        yield raw


async def _roll_back(tmp_path: Path, server: RawServer, behaviour: Behaviour):
    path = tmp_path / "ledgers" / f"{RUN_ID}.db"
    path.parent.mkdir()
    rollback_ledger(path, server, 2, record_ids=["r-one", "r-two"])  # type: ignore[arg-type]
    server.on("r-two", behaviour)
    profiles = write_profiles(tmp_path / "p.toml", server.base_url, timeout=5)
    plan = rollback.preview(read_run(path, RUN_ID), profiles)
    assert plan.refusal is None, plan.refusal
    return path, await rollback.execute(plan, profiles)


@pytest.mark.parametrize(
    "status,location,said",
    [
        (302, None, "HTTP 302 redirect without a Location header (not followed)"),
        (301, "http://h:port/x", "HTTP 301 redirect to an invalid Location 'http://h:port/x'"),
        (307, "http://[1:2:3]/", "HTTP 307 redirect to an invalid Location 'http://[1:2:3]/'"),
        (303, "::::", "HTTP 303 redirect to an invalid Location '::::' (not followed)"),
        (308, "http://ok.example/\u202egnp.exe", "redirect to http://ok.example/\\u202egnp.exe"),
    ],
    ids=["missing", "bad-port", "bad-ipv6", "relative-colons", "bidi-override"],
)
async def test_a_redirect_with_an_odd_location_is_reported_as_a_redirect(
    tmp_path, server, status, location, said
):
    path, result = await _roll_back(
        tmp_path, server, Behaviour("answer", status, location=location)
    )
    [failed] = result.failed
    assert failed.seq == 2 and failed.http_status == status
    assert said in failed.message and "connection lost" not in failed.message
    assert "\u202e" not in failed.message  # control and bidi characters shown as escapes
    assert result.in_doubt == []  # the answer came: nothing may have landed by surprise
    assert step_rows(path) == {1: "rolled_back", 2: "rollback_failed"}
    assert [row[3] for row in attempt_rows(path)] == [status, 204]
    assert len(server.deletes()) == 2  # one DELETE each; the redirect was not followed


async def test_a_password_in_an_invalid_location_is_masked(tmp_path, server):
    secret = "hunter2-" + "s3cr3t"
    location = f"http://svc:{secret}@h:port/x"
    path, result = await _roll_back(tmp_path, server, Behaviour("answer", 302, location=location))
    [failed] = result.failed
    assert "invalid Location" in failed.message and "svc:***@" in failed.message
    assert secret not in repr(result) and secret not in repr(attempt_rows(path))
