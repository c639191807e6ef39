"""The profiles file: lookup order, the runner's shape, strict write settings, clear errors."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ledger_core.errors import ProfilesError
from ledger_core.rollback.profiles import (
    ABSENT,
    DEFAULT_TIMEOUT,
    ProfileSnapshot,
    ProfilesSource,
    candidate_paths,
    describe_change,
    describe_findings,
    load_profiles,
    parse_profiles,
    redact_password,
    says_no_writes,
    spelled_alike,
)

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
        ("timeout = 1e308", "at most 600 seconds"),  # a deadline that is none
        ('timeout = "10"', "number of seconds"),
    ],
)
def test_bad_values_name_file_line_and_profile(tmp_path: Path, body: str, words: str):
    path = tmp_path / "p.toml"
    path.write_text(
        f"[defaults]\nreadonly = false\n\n[profiles.prod]\n# the key at fault:\n\n{body}\n"
        "[profiles.other]\ntimeout = 5\n"
    )
    with pytest.raises(ProfilesError) as info:
        load_profiles(path)
    message = str(info.value)
    assert words in message and "[profiles.prod]" in message
    assert str(path) in message and ", line 7:" in message  # the key's line, not the header's


def test_a_bad_key_whose_line_cannot_be_found_names_its_table_header(tmp_path: Path):
    # "time\u006fut" is the key timeout, spelled so no line search finds it.
    text = '[profiles.a]\n\n[profiles.prod]\nbase_url = "http://h"\n"time\\u006fut" = 0\n'
    with pytest.raises(ProfilesError) as info:
        parse_profiles(text, tmp_path / "p.toml")
    assert ", line 3: [profiles.prod] timeout must be a positive" in str(info.value)


def test_a_bad_defaults_readonly_names_its_line(tmp_path: Path):
    text = '# settings\n[defaults]\n\nreadonly = "no"\n'
    with pytest.raises(ProfilesError, match=r", line 4: \[defaults\] readonly must be true"):
        parse_profiles(text, tmp_path / "p.toml")


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


# -- near misses of safety keys never fail open ----------------------------------------------

ALIKE_DISABLE = [
    "disable-writes",
    "Disable_Writes",
    "DISABLE_WRITES",
    "disable_write",
    "disableWrites",
    "DisableWrites",
    "disablewrites",
    "disable writes",
    "disable__writes",
    "disabled_writes",
    "disalbe_writes",
    "disable_wrtes",
]
NOT_ALIKE_DISABLE = ["disable_logs", "base_url", "timeout", "token_env", "writes", "disable"]
ALIKE_READONLY = ["read_only", "read-only", "readOnly", "ReadOnly", "READONLY", "read only"]
NOT_ALIKE_READONLY = ["readable", "reload", "ready", "read", "only"]


@pytest.mark.parametrize("key", ALIKE_DISABLE)
def test_spelled_alike_disable_writes(key: str):
    assert spelled_alike(key, "disable_writes")


@pytest.mark.parametrize("key", NOT_ALIKE_DISABLE + ["disable_writes"])
def test_not_spelled_alike_disable_writes(key: str):
    assert not spelled_alike(key, "disable_writes")


@pytest.mark.parametrize("key", ALIKE_READONLY + ["readonli", "readonyl"])
def test_spelled_alike_readonly(key: str):
    assert spelled_alike(key, "readonly")


@pytest.mark.parametrize("key", NOT_ALIKE_READONLY + ["readonly"])
def test_not_spelled_alike_readonly(key: str):
    assert not spelled_alike(key, "readonly")


@pytest.mark.parametrize("key", ALIKE_DISABLE)
@pytest.mark.parametrize("value", ["true", "false", '"yes"'])
def test_a_misspelled_disable_writes_makes_the_profile_write_disabled(
    tmp_path: Path, key: str, value: str
):
    # Even "= false": the operator meant *something* by it; ledgerx will not guess which.
    quoted = f'"{key}"' if " " in key else key
    path = tmp_path / "p.toml"
    path.write_text(f'[profiles.sandbox]\nbase_url = "http://127.0.0.1:1"\n{quoted} = {value}\n')
    profile = load_profiles(path).get("sandbox")
    assert profile is not None and profile.disable_writes and not profile.writes_enabled
    assert profile.misspelled == (key,)


@pytest.mark.parametrize("key", [k for k in NOT_ALIKE_DISABLE if k != "writes"])
def test_other_unknown_keys_are_still_ignored(tmp_path: Path, key: str):
    path = tmp_path / "p.toml"
    path.write_text(f'[profiles.sandbox]\n{key}_x = true\n{key} = "x"\n'.replace("timeout", "t"))
    profile = load_profiles(path).get("sandbox")
    assert profile is not None and profile.writes_enabled and profile.misspelled == ()


@pytest.mark.parametrize("key", ALIKE_READONLY)
def test_a_misspelled_readonly_makes_the_session_read_only(tmp_path: Path, key: str):
    quoted = f'"{key}"' if " " in key else key
    profiles = parse_profiles(f"[defaults]\n{quoted} = false\n", tmp_path / "p.toml")
    assert profiles.readonly and profiles.readonly_misspelled == f"[defaults] {key}"


def test_readonly_in_a_table_spelled_alike_defaults(tmp_path: Path):
    profiles = parse_profiles("[default]\nreadonly = true\n", tmp_path / "p.toml")
    assert profiles.readonly and profiles.readonly_misspelled == "[default] readonly"
    assert profiles.findings[0].code == "misspelled_key"
    # any other table: a key that says "read only" there is not read, so it never fails open
    other = parse_profiles("[depots]\nreadonly = false\n", tmp_path / "p.toml")
    assert other.readonly and other.findings[0].code == "misplaced_key"


def test_the_real_key_with_a_wrong_type_is_still_an_error(tmp_path: Path):
    with pytest.raises(ProfilesError, match="disable_writes must be true or false"):
        parse_profiles('[profiles.a]\ndisable_writes = "true"\n', tmp_path / "p.toml")


# -- write-blocking keys in the wrong place or other words (never fail open) ----------------

SAYS_NO_WRITES = [
    "disable_writes", "disable-writes", "disableWrites", "disable_write", "Disable-Writes",
    "readonly", "read_only", "read-only", "readOnly", "READ ONLY", "readonli",
    "writes_disabled", "disable_writing", "no_writes", "noWrites", "write_disabled",
    "writes", "write", "allow_writes", "allowWrites", "allow-write", "writable",
    "writes_enabled", "enable_writes", "write_protected",
]  # fmt: skip
NOT_NO_WRITES = [
    "disable_logs", "readable", "reload", "timeout", "token_env", "base_url", "write_timeout",
    "writer", "rewrite", "overwrite", "read", "only", "ready", "disable", "write_log",
    "writes_per_second", "tenant_id", "client_id", "default_profile", "disable_reads",
    "allow_reads", "read_timeout", "write_ahead_log", "readonly_token", "allow_redirects",
    "writer_id", "written", "x" * 5000,
]  # fmt: skip


@pytest.mark.parametrize("key", SAYS_NO_WRITES)
def test_keys_that_say_no_writes(key: str):
    assert says_no_writes(key)


@pytest.mark.parametrize("key", NOT_NO_WRITES)
def test_keys_that_say_nothing_about_writes(key: str):
    assert not says_no_writes(key)


# (file text, where the key must be found, "profile" or "session")
MISPLACED = [
    ("[defaults]\ndisable_writes = true\n", "[defaults] disable_writes = true (line 2)", "session"),
    ("readonly = true\n", "readonly = true at the top level (line 1)", "session"),
    ("disable_writes = true\n", "disable_writes = true at the top level (line 1)", "session"),
    ("[profiles]\ndisable_writes = true\n", "[profiles] disable_writes = true (line 2)", "session"),
    ("[tool.ledgerx]\nread-only = true\n", "[tool.ledgerx] read-only = true (line 2)", "session"),
    (
        "[profiles.sandbox]\nreadonly = true\n",
        "[profiles.sandbox] readonly = true (line 2)",
        "profile",
    ),
    ("[profiles.sandbox]\nread_only = true\n", "[profiles.sandbox] read_only = true", "profile"),
    ("[profiles.sandbox]\nread-only = true\n", "[profiles.sandbox] read-only = true", "profile"),
    (
        "[profiles.sandbox]\n[profiles.sandbox.settings]\ndisable_writes = true\n",
        "[profiles.sandbox.settings] disable_writes = true (line 3)",
        "profile",
    ),
    (
        "[profiles.sandbox]\nsettings.readonly = true\n",
        "[profiles.sandbox.settings] readonly = true (line 2)",
        "profile",
    ),
    (
        "[profiles.sandbox]\n[[profiles.sandbox.rules]]\nno_writes = true\n",
        "[profiles.sandbox.rules] no_writes = true (line 3)",
        "profile",
    ),
    ("[profiles.sandbox]\nwrites_disabled = true\n", "writes_disabled = true", "profile"),
    ("[profiles.sandbox]\ndisable_writing = true\n", "disable_writing = true", "profile"),
    ("[profiles.sandbox]\nno_writes = true\n", "no_writes = true", "profile"),
    ("[profiles.sandbox]\nwrite_disabled = true\n", "write_disabled = true", "profile"),
    ("[profiles.sandbox]\nwrites = false\n", "[profiles.sandbox] writes = false", "profile"),
    ("[profiles.sandbox]\nallow_writes = false\n", "allow_writes = false", "profile"),
    ('[profiles.sandbox]\nwrites = "no"\n', "writes = 'no'", "profile"),
    ("[profiles.sandbox]\nreadonly = 1\n", "readonly = 1", "profile"),
    ("[profiles.default]\nreadonly = true\n", "[profiles.default] readonly = true", "session"),
    ("[profiles.defaults]\nread_only = true\n", "[profiles.defaults] read_only", "session"),
]


@pytest.mark.parametrize(("text", "where", "scope"), MISPLACED)
def test_a_write_blocking_key_anywhere_never_fails_open(
    tmp_path: Path, text: str, where: str, scope: str
):
    full = text + (
        '\n[profiles.sandbox]\nbase_url = "http://127.0.0.1:1"\n' if "sandbox" not in text else ""
    )
    profiles = parse_profiles(full, tmp_path / "p.toml")
    sandbox = profiles.get("sandbox")
    assert sandbox is not None
    if scope == "session":
        assert profiles.readonly and len(profiles.findings) == 1
        assert where in profiles.findings[0].sentence()
        assert profiles.findings[0].expected == "[defaults] readonly = true"
    else:
        assert not profiles.readonly and profiles.findings == ()
        assert sandbox.disable_writes and not sandbox.writes_enabled
        assert where in sandbox.findings[0].sentence()
        assert sandbox.findings[0].expected == "[profiles.sandbox] disable_writes = true"
        assert sandbox.findings[0].code == "misplaced_key"


@pytest.mark.parametrize(
    "text",
    [
        "[defaults]\nreadonly = false\n[profiles.sandbox]\ndisable_writes = false\n",
        "[profiles.sandbox]\ndisable_writes = false\nwrite_timeout = 3\ndisable_logs = true\n",
        "[profiles.default]\ndisable_writes = true\n[profiles.sandbox]\nreadable = true\n",
        "[profiles.sandbox]\nreload = true\n[profiles.sandbox.extra]\ntoken_env = 'X'\n",
        "[profiles.writes]\nbase_url = 'http://h'\n[profiles.sandbox]\n",  # a profile's name
        RUNNER_CONFIG,
    ],
)
def test_correct_files_keep_writes_allowed(tmp_path: Path, text: str):
    profiles = parse_profiles(text, tmp_path / "p.toml")
    sandbox = profiles.get("sandbox")
    assert sandbox is not None and sandbox.writes_enabled and sandbox.findings == ()
    assert not profiles.readonly and profiles.findings == ()


def test_a_profile_named_default_with_the_real_key_only_disables_itself(tmp_path: Path):
    profiles = parse_profiles("[profiles.default]\ndisable_writes = true\n", tmp_path / "p")
    default = profiles.get("default")
    assert default is not None and default.disable_writes and not profiles.readonly


def test_a_misplaced_key_change_is_said_as_the_file_says_it(tmp_path: Path):
    path = tmp_path / "p.toml"
    path.write_text('[profiles.sandbox]\nbase_url = "http://h"\n')
    old = load_profiles(path).snapshot("sandbox")
    path.write_text('[profiles.sandbox]\nbase_url = "http://h"\nDisable-Writes = false\n')
    new = load_profiles(path).snapshot("sandbox")
    sentence = describe_change("sandbox", old, new)
    assert sentence is not None and "disable_writes = true" not in sentence.split(":")[0]
    assert f"profile 'sandbox' is now write-disabled in {path}" in sentence
    assert "[profiles.sandbox] Disable-Writes = false (line 3)" in sentence
    assert "misspelling of disable_writes" in sentence and "whatever its value" in sentence
    path.write_text('[profiles.sandbox]\nbase_url = "http://h"\n[defaults]\nread_only = false\n')
    sentence = describe_change("sandbox", old, load_profiles(path).snapshot("sandbox"))
    assert sentence is not None and "now read-only" in sentence
    assert "[defaults] read_only = false (line 4)" in sentence


def test_a_file_full_of_write_blocking_keys_is_said_briefly(tmp_path: Path):
    text = "[profiles.sandbox]\n" + "".join(
        f"[profiles.sandbox.t{i}]\nno_writes = 1\n" for i in range(500)
    )
    sandbox = parse_profiles(text, tmp_path / "p.toml").get("sandbox")
    assert sandbox is not None and sandbox.disable_writes and len(sandbox.findings) == 500
    said = describe_findings(sandbox.findings)
    assert said.endswith("; and 497 more such keys") and said.count("no_writes = 1") == 3
    assert "[profiles.sandbox.t0] no_writes = 1 (line 3)" in said and "not even true/false" in said


def test_a_snapshot_with_a_finding_survives_the_plan_file(tmp_path: Path):
    path = tmp_path / "p.toml"
    path.write_text("[profiles.sandbox]\nwrites = false\n")
    snap = load_profiles(path).snapshot("sandbox")
    assert snap.disable_writes and snap.disable_writes_by
    assert ProfileSnapshot.from_dict(snap.to_dict()) == snap
    path.write_text("[profiles.sandbox]\n")
    plain = load_profiles(path).snapshot("sandbox")
    assert "disable_writes_by" not in plain.to_dict()  # plans of correct files keep their hash
    assert ProfileSnapshot.from_dict(plain.to_dict()) == plain


# -- the source reads afresh; fingerprints and snapshots ---------------------------------------


def test_source_reads_the_file_afresh_every_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("LEDGERX_PROFILES", raising=False)
    source = ProfilesSource.lookup()
    assert source.load().path is None and source.load().fingerprint == ABSENT
    own = tmp_path / "home/.config/ledgerx/profiles.toml"
    own.parent.mkdir(parents=True)
    own.write_text("[profiles.sandbox]\n")
    first = source.load()  # a file created after the source was made is found
    assert first.path == own and first.get("sandbox") is not None
    assert first.fingerprint.startswith("sha256:")
    own.write_text("[profiles.sandbox]\ndisable_writes = true\n")
    second = source.load()
    assert second.get("sandbox").disable_writes and second.fingerprint != first.fingerprint


def test_snapshot_never_holds_a_password(tmp_path: Path):
    path = tmp_path / "p.toml"
    path.write_text('[profiles.s]\nbase_url = "http://user:s3cret@127.0.0.1:9"\n')
    snap = load_profiles(path).snapshot("s")
    assert snap.base_url == "http://user:***@127.0.0.1:9"
    assert "s3cret" not in repr(snap.to_dict())
    assert ProfileSnapshot.from_dict(snap.to_dict()) == snap
    assert redact_password("http://127.0.0.1:9/x") == "http://127.0.0.1:9/x"
    assert redact_password("https://tok@h/x") == "https://tok@h/x"


def _snap(tmp_path: Path, text: str, name: str = "sandbox") -> ProfileSnapshot:
    path = tmp_path / "profiles.toml"
    path.write_text(text)
    return load_profiles(path).snapshot(name)


SANDBOX_OK = '[profiles.sandbox]\nbase_url = "http://127.0.0.1:1"\n'


@pytest.mark.parametrize(
    "before, after, words",
    [
        (SANDBOX_OK, SANDBOX_OK + "disable_writes = true\n", "now has disable_writes = true"),
        ("[profiles.other]\n", SANDBOX_OK, "profile 'sandbox' was added to"),
        (SANDBOX_OK, "[profiles.other]\n", "profile 'sandbox' was removed from"),
        (SANDBOX_OK, SANDBOX_OK + "timeout = 3\n", "now has timeout = 3.0"),
        (SANDBOX_OK, "[defaults]\nreadonly = true\n" + SANDBOX_OK, "readonly is now true"),
        (
            SANDBOX_OK,
            SANDBOX_OK + "[profiles.other]\n",
            "changed since the preview (profile 'sandbox' itself is unchanged)",
        ),
    ],
)
def test_describe_change_says_what_changed(tmp_path: Path, before, after, words):
    old = _snap(tmp_path, before)
    new = _snap(tmp_path, after)
    sentence = describe_change("sandbox", old, new)
    assert sentence is not None and words in sentence
    assert str(tmp_path / "profiles.toml") in sentence
    assert describe_change("sandbox", new, _snap(tmp_path, after)) is None


def test_describe_change_of_a_file_that_stays_broken(tmp_path: Path):
    source = ProfilesSource.lookup(tmp_path / "p.toml")
    (tmp_path / "p.toml").write_text("[profiles.a\n")
    with pytest.raises(ProfilesError) as first:
        source.load()
    old = source.failed_snapshot(first.value)
    (tmp_path / "p.toml").write_text("[profiles.b\n")
    with pytest.raises(ProfilesError) as second:
        source.load()
    new = source.failed_snapshot(second.value)
    assert old.fingerprint != new.fingerprint and old.fingerprint.startswith("sha256:")
    sentence = describe_change("a", old, new)
    assert sentence is not None and "still cannot be read" in sentence
    assert "itself is unchanged" not in sentence
