"""The profiles file: which server a run's profile talks to and whether it may write there.

TOML in the seed runner's shape (``[profiles.NAME]``, unknown keys ignored), looked up in the
order of SPEC §3. ``disable_writes`` is read strictly: a value that is not a TOML boolean
(``"false"``, ``0``) is never guessed at: the whole file is a ``ProfilesError``, so nothing is
written anywhere until it is fixed.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .access import read_regular_file
from .errors import ProfilesError

DEFAULT_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class Profile:
    """One ``[profiles.NAME]`` table."""

    name: str
    base_url: str | None = None
    disable_writes: bool = False
    token_env: str | None = None
    timeout: float = DEFAULT_TIMEOUT

    @property
    def writes_enabled(self) -> bool:
        return not self.disable_writes


@dataclass(frozen=True, slots=True)
class Profiles:
    """Every profile from one file, plus the file's ``[defaults]``."""

    path: Path | None
    profiles: dict[str, Profile] = field(default_factory=dict)
    readonly: bool = False

    def get(self, name: str | None) -> Profile | None:
        return self.profiles.get(name) if name is not None else None


def candidate_paths(explicit: str | Path | None = None) -> list[Path]:
    """Where the profiles file is looked for, first match wins (SPEC §3)."""
    if explicit:
        return [Path(explicit).expanduser()]
    env = os.environ.get("LEDGERX_PROFILES")
    if env:
        return [Path(env).expanduser()]
    return [
        Path("~/.config/ledgerx/profiles.toml").expanduser(),
        Path("~/.config/bcli/config.toml").expanduser(),
    ]


def _bool(value: object, where: str) -> bool:
    if isinstance(value, bool):
        return value
    raise ProfilesError(f"{where} must be true or false, not {value!r}")


def _header_line(text: str, name: str) -> int | None:
    """The line of ``[profiles.NAME]`` in ``text`` (1-based), so errors can point at it."""
    pattern = re.compile(
        r"^[ \t]*\[\s*profiles\s*\.\s*(?:"
        + re.escape(name)
        + r"|\""
        + re.escape(name)
        + r"\"|'"
        + re.escape(name)
        + r"')\s*\]",
        re.MULTILINE,
    )
    match = pattern.search(text)
    return text.count("\n", 0, match.start()) + 1 if match else None


def _profile(name: str, table: object, source: Path, line: int | None = None) -> Profile:
    where = f"{source}" + (f", line {line}" if line else "") + f": [profiles.{name}]"
    if not isinstance(table, dict):
        raise ProfilesError(f"{where} must be a table")
    base_url = table.get("base_url")
    if base_url is not None and not isinstance(base_url, str):
        raise ProfilesError(f"{where} base_url must be a string")
    token_env = table.get("token_env")
    if token_env is not None and not isinstance(token_env, str):
        raise ProfilesError(f"{where} token_env must be a string")
    timeout = table.get("timeout", DEFAULT_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise ProfilesError(f"{where} timeout must be a number of seconds")
    if not math.isfinite(timeout) or timeout <= 0:
        raise ProfilesError(f"{where} timeout must be a positive number of seconds")
    disable = table.get("disable_writes", False)
    return Profile(
        name=name,
        base_url=base_url,
        disable_writes=_bool(disable, f"{where} disable_writes"),
        token_env=token_env,
        timeout=float(timeout),
    )


def parse_profiles(text: str, source: Path) -> Profiles:
    """Parse profiles TOML; raises ``ProfilesError`` naming the file and line."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfilesError(f"{source}: not valid TOML: {exc}") from None
    tables = data.get("profiles", {})
    if not isinstance(tables, dict):
        raise ProfilesError(f"{source}: 'profiles' must be a table of [profiles.NAME] tables")
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        raise ProfilesError(f"{source}: [defaults] must be a table")
    readonly = _bool(defaults.get("readonly", False), f"{source}: [defaults] readonly")
    return Profiles(
        path=source,
        profiles={
            name: _profile(name, table, source, _header_line(text, name))
            for name, table in tables.items()
        },
        readonly=readonly,
    )


def load_profiles(explicit: str | Path | None = None) -> Profiles:
    """Load the profiles file by SPEC §3 lookup; no file at all gives an empty set.

    An explicitly named file (``--profiles`` or ``$LEDGERX_PROFILES``) that does not exist is an
    error; the default locations are optional.
    """
    paths = candidate_paths(explicit)
    named = bool(explicit) or bool(os.environ.get("LEDGERX_PROFILES"))
    for path in paths:
        try:
            raw = read_regular_file(path)
        except FileNotFoundError:
            if named:
                raise ProfilesError(f"{path}: profiles file not found") from None
            continue
        except OSError as exc:
            raise ProfilesError(f"{path}: cannot be read ({exc.strerror})") from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ProfilesError(f"{path}: not UTF-8 text") from None
        return parse_profiles(text, path)
    return Profiles(path=None)
