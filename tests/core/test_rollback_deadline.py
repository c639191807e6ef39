"""One deadline per DELETE: servers that drip, stall or redirect slowly cannot hold a rollback.

httpx's own timeouts restart with every byte read, so a server dripping one byte at a time kept
a rollback waiting for as long as it liked. Each test's server would drip for longer than the
profile's timeout many times over; the client must hang up at the deadline and keep the step in
doubt (the answer never completed), then go on with the next step.
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
    run_row,
    step_rows,
    write_profiles,
)

from ledger_core.ledgers.reader import read_run
from ledger_core.rollback import executor as rollback

TIMEOUT = 0.5


@pytest.fixture
def server():
    with RawServer() as raw:
        yield raw


def _ledger(tmp_path: Path, server: RawServer) -> Path:
    path = tmp_path / "ledgers" / f"{RUN_ID}.db"
    path.parent.mkdir()
    rollback_ledger(path, server, 2, record_ids=["r-one", "r-two"])  # type: ignore[arg-type]
    return path


async def _execute(tmp_path: Path, path: Path, server: RawServer):
    profiles = write_profiles(tmp_path / "p.toml", server.base_url, timeout=TIMEOUT)
    plan = rollback.preview(read_run(path, RUN_ID), profiles)
    assert plan.refusal is None, plan.refusal
    return await rollback.execute(plan, profiles)


@pytest.mark.parametrize(
    "behaviour",
    [
        # 45 bytes of status line and headers, 0.1 s apart: every read is quick, the whole slow.
        Behaviour("drip_head", interval=0.1),
        # An error answer whose body takes 20 s to arrive.
        Behaviour("drip_body", status=500, size=200, interval=0.1),
        # A redirect (never followed) whose body drips.
        Behaviour("drip_body", status=307, size=200, interval=0.1, location="http://127.0.0.1:1/"),
        # Headers promising a body, then silence.
        Behaviour("head_then_hang", status=500),
    ],
    ids=["dripping-headers", "dripping-body", "dripping-redirect", "headers-then-hang"],
)
async def test_an_answer_that_never_completes_in_time_stays_in_doubt(tmp_path, server, behaviour):
    path = _ledger(tmp_path, server)
    server.on("r-two", behaviour)
    result = await _execute(tmp_path, path, server)
    [doubt] = result.in_doubt
    assert doubt.seq == 2 and doubt.http_status is None
    assert f"within {TIMEOUT:g}s" in doubt.message and "may or may not have landed" in doubt.message
    # The run went on to the next step, which was undone.
    assert [o.seq for o in result.rolled_back] == [1]
    assert step_rows(path) == {1: "rolled_back", 2: "committed"}
    assert [a[2] is None for a in attempt_rows(path)] == [True, False]
    assert result.run_stamped is None and run_row(path)[0] == "completed"
    # The client hung up: the server never got to send its whole answer.
    assert not any("r-two" in p for p in server.finished)


async def test_resume_after_a_dripping_answer_sends_the_delete_again(tmp_path, server):
    path = _ledger(tmp_path, server)
    server.on("r-two", Behaviour("drip_body", status=500, size=200, interval=0.1))
    await _execute(tmp_path, path, server)
    del server.behaviours["r-two"]
    result = await _execute(tmp_path, path, server)
    assert result.ok and result.run_stamped == "rolled_back"
    assert sum("r-two" in p for p in server.deletes()) == 2
    assert sum("r-one" in p for p in server.deletes()) == 1
