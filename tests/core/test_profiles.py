"""The profiles file: lookup order, the runner's shape, strict write settings, clear errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ledger_core.errors import ProfilesError
from ledger_core.profiles import DEFAULT_TIMEOUT, candidate_paths, load_profiles, parse_profiles

RUNNER_CONFIG = """
# the seed runner's ~/.config/bcli/config.toml
default_profile = "sandbox"

[profiles.prod]
disable_writes = true
tenant_id = "contoso.onmicrosoft.com"

[profiles.sandbox]
base_url = "http://127.0.0.1:8765"
token_env = "SANDBOX_TOKEN"
timeout = 10
client_id = "ignored"
"""


def test_runner_shape_with_unknown_keys(tmp_path: Path):
    path = tmp_path / "config.toml"
    path.write_text(RUNNER_CONFIG)
    profiles = load_profiles(path)
    assert profiles.path == path and not profiles.readonly
    prod, sandbox = profiles.get("prod"), profiles.get("sandbox")
    assert prod is not None and prod.disable_writes and not prod.writes_enabled
    assert prod.base_url is None and prod.timeout == DEFAULT_TIMEOUT
    assert sandbox is not None and sandbox.writes_enabled
    assert (sandbox.base_url, sandbox.token_env, sandbox.timeout) == (
        "http://127.0.0.1:8765",
        "SANDBOX_TOKEN",
        10.0,
    )
    assert profiles.get("missing") is None and profiles.get(None) is None


def test_defaults_readonly(tmp_path: Path):
    profiles = parse_profiles("[defaults]\nreadonly = true\n", tmp_path / "p.toml")
    assert profiles.readonly and profiles.profiles == {}


def test_lookup_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("LEDGERX_PROFILES", raising=False)
    assert load_profiles().path is None  # nothing anywhere: an empty set, not an error
    runner = home / ".config/bcli/config.toml"
    runner.parent.mkdir(parents=True)
    runner.write_text(RUNNER_CONFIG)
    assert load_profiles().path == runner
    own = home / ".config/ledgerx/profiles.toml"
    own.parent.mkdir(parents=True)
    own.write_text("[profiles.own]\n")
    assert load_profiles().path == own
    env = tmp_path / "env.toml"
    env.write_text("[profiles.env]\n")
    monkeypatch.setenv("LEDGERX_PROFILES", str(env))
    assert load_profiles().path == env
    explicit = tmp_path / "explicit.toml"
    explicit.write_text("[profiles.explicit]\n")
    assert load_profiles(explicit).path == explicit
    assert candidate_paths(explicit) == [explicit]


def test_named_file_missing_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    with pytest.raises(ProfilesError, match="not found"):
        load_profiles(tmp_path / "nope.toml")
    monkeypatch.setenv("LEDGERX_PROFILES", str(tmp_path / "nope2.toml"))
    with pytest.raises(ProfilesError, match="nope2.toml"):
        load_profiles()


def test_bad_toml_names_file_and_line(tmp_path: Path):
    path = tmp_path / "p.toml"
    path.write_text("[profiles.a]\nbase_url = \n")
    with pytest.raises(ProfilesError) as info:
        load_profiles(path)
    assert str(path) in str(info.value) and "line 2" in str(info.value)


@pytest.mark.parametrize(
    "body, words",
    [
        ('disable_writes = "yes"', "disable_writes must be true or false"),
        ("disable_writes = 0", "disable_writes must be true or false"),
        ("base_url = 5", "base_url must be a string"),
        ("token_env = true", "token_env must be a string"),
        ("timeout = -1", "positive"),
        ("timeout = nan", "positive"),
        ('timeout = "10"', "number of seconds"),
    ],
)
def test_bad_values_name_file_line_and_profile(tmp_path: Path, body: str, words: str):
    path = tmp_path / "p.toml"
    path.write_text(f"[defaults]\nreadonly = false\n\n[profiles.prod]\n{body}\n")
    with pytest.raises(ProfilesError) as info:
        load_profiles(path)
    message = str(info.value)
    assert words in message and "[profiles.prod]" in message
    assert str(path) in message and "line 4" in message


def test_bad_shapes(tmp_path: Path):
    with pytest.raises(ProfilesError, match="must be a table"):
        parse_profiles('profiles = "x"\n', tmp_path / "p.toml")
    with pytest.raises(ProfilesError, match="readonly"):
        parse_profiles('[defaults]\nreadonly = "no"\n', tmp_path / "p.toml")
    path = tmp_path / "latin1.toml"
    path.write_bytes(b"[profiles.caf\xe9]\n")
    with pytest.raises(ProfilesError, match="UTF-8"):
        load_profiles(path)


def test_a_fifo_or_directory_is_refused_without_blocking(tmp_path: Path):
    # A FIFO named by mistake used to block `open()` forever, waiting for a writer.
    fifo = tmp_path / "profiles.toml"
    os.mkfifo(fifo)
    with pytest.raises(ProfilesError, match="not a regular file") as info:
        load_profiles(fifo)
    assert str(fifo) in str(info.value)
    with pytest.raises(ProfilesError, match="not a regular file"):
        load_profiles(tmp_path)
