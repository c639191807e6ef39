"""The bearer token: never sent in clear to another host, never sent if no header can carry it.

Both are refusals computed by the preview (so a dry run says so) and raised by ``execute``
before any row is written or any socket opened. A token that httpx could not put into a header
used to fail mid-request, after the attempt's intent row: a false "in doubt" and exit 1.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from h11._abnf import field_value  # h11's own header-value grammar, which httpx sends through
from ledger_factory import dir_state
from rollback_servers import RUN_ID, rollback_ledger, write_profiles

from ledger_core.demo.api import DemoApi
from ledger_core.errors import RollbackRefused
from ledger_core.ledgers.reader import read_run
from ledger_core.rollback import executor as rollback
from ledger_core.rollback.profiles import Profile

VAR = "LEDGERX_TEST_TOKEN"
TOKEN = "s3cr3t-Tok3n-4242"


@pytest.fixture
def api():
    with DemoApi() as server:
        yield server


def _world(tmp_path: Path, api: DemoApi):
    path = tmp_path / "ledgers" / f"{RUN_ID}.db"
    path.parent.mkdir()
    rollback_ledger(path, api, 2)
    profiles = write_profiles(tmp_path / "p.toml", api.base_url, token_env=VAR)
    return path, profiles


async def _refused(path: Path, profiles, api: DemoApi, code: str) -> str:
    plan = rollback.preview(read_run(path, RUN_ID), profiles)
    assert plan.refusal_code == code, plan.refusal
    before = dir_state(path.parent)
    with pytest.raises(RollbackRefused) as info:
        await rollback.execute(plan, profiles)
    assert info.value.code == code
    assert api.connections == 0 and dir_state(path.parent) == before  # not a row written
    return info.value.reason


@pytest.mark.parametrize(
    "token, why",
    [
        ("tøken-with-non-ascii", "outside ASCII"),
        ("tok\x01en", "control characters"),
        ("tok\x7fen", "control characters"),
        ("tok\nen", "control characters"),
        (TOKEN + "\n", "start or end"),
        ("   ", "only whitespace"),
    ],
)
async def test_a_token_no_header_can_carry_is_refused_before_any_row(
    tmp_path, api, monkeypatch, token, why
):
    monkeypatch.setenv(VAR, token)
    path, profiles = _world(tmp_path, api)
    reason = await _refused(path, profiles, api, "bad_token")
    assert why in reason and f"${VAR}" in reason and "'sandbox'" in reason
    assert token.strip() not in reason or not token.strip()


@pytest.mark.parametrize("value", [None, ""])
async def test_a_missing_or_empty_token_is_refused_in_the_preview_too(
    tmp_path, api, monkeypatch, value
):
    if value is None:
        monkeypatch.delenv(VAR, raising=False)
    else:
        monkeypatch.setenv(VAR, value)
    path, profiles = _world(tmp_path, api)
    reason = await _refused(path, profiles, api, "missing_token")
    assert ("not set" if value is None else "empty") in reason


@pytest.mark.parametrize(
    "base_url, refused",
    [
        ("http://api.example.com", True),
        ("http://10.0.0.7:8080", True),
        ("http://[2001:db8::1]:80", True),
        ("http://127.0.0.1:8765", False),
        ("http://127.3.4.5", False),
        ("http://localhost:8765", False),
        ("http://[::1]:8765", False),
        ("https://api.example.com", False),
    ],
)
def test_a_token_over_plain_http_only_to_the_loopback(monkeypatch, base_url, refused):
    monkeypatch.setenv(VAR, TOKEN)
    profile = Profile("sandbox", base_url=base_url, token_env=VAR)
    refusal = rollback._token_refusal(profile)
    if refused:
        code, reason = refusal
        assert code == "insecure_token"
        assert "'sandbox'" in reason and "https://" in reason and "in clear" in reason
        assert TOKEN not in reason
    else:
        assert refusal is None


async def test_insecure_token_refused_before_anything_is_written(tmp_path, api, monkeypatch):
    # Targets and base_url on a non-loopback http origin; nothing may be sent, so no server.
    from ledger_factory import RunSpec, StepSpec, make_ledger

    monkeypatch.setenv(VAR, TOKEN)
    path = tmp_path / "ledgers" / "r.db"
    path.parent.mkdir()
    base = "http://192.0.2.10:8080"
    step = StepSpec.committed(1, url=f"{base}/x", rollback_url=f"{base}/x(1)")
    make_ledger(
        path,
        [
            RunSpec(
                RUN_ID,
                state="completed",
                finished_at="2026-05-17T09:01:00Z",
                profile="sandbox",
                steps=[step],
            )
        ],
    )
    profiles = write_profiles(tmp_path / "p.toml", base, token_env=VAR)
    reason = await _refused(path, profiles, api, "insecure_token")
    assert "192.0.2.10" in reason


# Header values httpx + h11 would take or reject, to hold our rule to theirs.
_SAMPLES = [
    "abc",
    "a b",
    "a\tb",
    "a  b",
    " a",
    "a ",
    "",
    "a\r\nb",
    "a\x00b",
    "é",
    "a\x01b",
    "a\x7fb",
    "~!#$%&'*+-.^_`|",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig_-",
]


@pytest.mark.parametrize("token", _SAMPLES)
def test_token_rule_never_accepts_what_httpx_and_h11_reject(token):
    ours = rollback._HEADER_VALUE.fullmatch(token) is not None
    try:
        raw = f"Bearer {token}".encode("ascii")  # what httpx does with a str header value
    except UnicodeEncodeError:
        theirs = False
    else:
        theirs = re.fullmatch(field_value.encode(), raw) is not None
    if ours:
        assert theirs, token
    # Stricter than h11 only for control characters, which no token holds.
    if theirs and not ours:
        assert any(ord(c) < 0x20 or ord(c) == 0x7F for c in token) or token != token.strip()
