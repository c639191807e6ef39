"""The profiles file: which server a run's profile talks to and whether it may write there.

TOML in the seed runner's shape (``[profiles.NAME]``, unknown keys ignored), looked up in the
order of SPEC §3. ``disable_writes`` is read strictly: a value that is not a TOML boolean
(``"false"``, ``0``) is never guessed at: the whole file is a ``ProfilesError``, so nothing is
written anywhere until it is fixed.

Safety keys never fail open on a typo. An unknown key that is *spelled alike* a safety key
(``disable-writes``, ``Disable_Writes``, ``disableWrites``, ``disable_write``; ``read_only``,
``readOnly`` in ``[defaults]``) makes the profile write-disabled (or the session read-only),
whatever its value, and the refusal names the key found and the spelling expected. Alike means:
equal once case, ``-``/``_``/spaces and camelCase humps are ignored, or within a small edit
distance of the expected spelling (``spelled_alike``).

Nor do they fail open in the wrong place or in other words. Every key of the whole TOML tree is
matched (same normalisation) against a vocabulary of "writes on/off" words (``WRITE_WORDS``:
``readonly``, ``no_writes``, ``writes``, ``allow_writes``, …; ``says_no_writes``). Except the two
keys ledgerx reads (``[profiles.NAME] disable_writes``, ``[defaults] readonly``), such a key in
``[profiles.NAME]`` or any sub-table of it write-disables that profile; anywhere else (top level,
``[defaults]``, ``[profiles]``, any other table, or a profile named alike ``defaults``) it makes
the session read-only. Each is a ``Finding`` quoting the key, value, table and line.

The file is read when a decision is made, not once at start: a ``ProfilesSource`` knows where
the file is and ``load()`` reads it afresh every call. Each ``Profiles`` carries a fingerprint
of the bytes it was parsed from, and ``ProfileSnapshot`` is what a plan records of it, so a
change between preview and sending is seen and said in words (``describe_change``).
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import tomllib
import urllib.parse
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ProfilesError
from ..ledgers.access import read_regular_file
from ..sanitize import clean

DEFAULT_TIMEOUT = 10.0
MAX_TIMEOUT = 600.0  # seconds: one DELETE never holds a rollback longer than this
ABSENT = "absent"  # the fingerprint of "no profiles file at all"

DISABLE_WRITES = "disable_writes"
READONLY = "readonly"


# ---------------------------------------------------------------------------------------------
# Spelled alike


def _normalise(key: str) -> str:
    """``disableWrites``, ``Disable-Writes`` and ``disable writes`` all become ``disablewrites``."""
    return re.sub(r"[\s_\-.]+", "", key).lower()


def _distance(a: str, b: str) -> int:
    """Edit distance counting an adjacent swap as one edit (optimal string alignment)."""
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            row[j] = min(rows[i - 1][j] + 1, row[j - 1] + 1, rows[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[i - 2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


def spelled_alike(found: str, expected: str) -> bool:
    """True if ``found`` is a near miss of ``expected`` (but not ``expected`` itself).

    Case, separators (``-``, ``_``, spaces, dots) and camelCase are ignored; then up to two
    edits are forgiven for long keys (``disable_writes``), one for short ones (``readonly``),
    so ``disable_write`` and ``readonli`` match while ``disable_logs`` does not.
    """
    if not isinstance(found, str) or found == expected:
        return False
    a, b = _normalise(found), _normalise(expected)
    allowed = 2 if len(b) >= 10 else 1
    return a == b or (abs(len(a) - len(b)) <= allowed and _distance(a, b) <= allowed)


# Keys that say "no writes" in other words: ledgerx reads none of them, so wherever one sits it
# counts as write-blocking, whatever its value (it never fails open). Normalised spellings.
WRITE_WORDS = frozenset(
    {
        "disablewrites", "disablewrite", "disablewriting", "writesdisabled", "writedisabled",
        "writingdisabled", "readonly", "readonlymode", "nowrites", "nowrite", "nowriting",
        "denywrites", "blockwrites", "preventwrites", "writeprotect", "writeprotected",
        "writes", "write", "allowwrites", "allowwrite", "allowwriting", "writesallowed",
        "writeallowed", "writable", "writeable", "writesenabled", "writeenabled",
        "enablewrites", "enablewrite", "canwrite",
    }
)  # fmt: skip


def says_no_writes(key: object) -> bool:
    """True if ``key`` is one of the words for "writes on/off" (``WRITE_WORDS``), or a near miss.

    Matched after ``spelled_alike``'s normalisation; a near miss (two edits for words of ten
    letters or more, one for eight or nine, none below) also counts, so ``disable_logs``,
    ``readable``, ``reload``, ``writer`` and ``write_timeout`` do not.
    """
    if not isinstance(key, str) or len(key) > 100:
        return False
    found = _normalise(key)
    if found in WRITE_WORDS:
        return True
    pairs = _bigrams(found)
    if not pairs & _ALL_BIGRAMS:
        return False
    for word, allowed, needed in _NEAR_WORDS:
        # k edits destroy at most 2k of the word's bigrams: a cheap test before the distance
        # (a file may hold a hundred thousand keys).
        if abs(len(found) - len(word)) > allowed or len(pairs & needed) < len(needed) - 2 * allowed:
            continue
        if _distance(found, word) <= allowed:
            return True
    return False


def _bigrams(text: str) -> frozenset[str]:
    return frozenset(text[i : i + 2] for i in range(len(text) - 1))


_NEAR_WORDS = tuple(
    (word, 2 if len(word) >= 10 else 1, _bigrams(word)) for word in WRITE_WORDS if len(word) >= 8
)
_ALL_BIGRAMS = frozenset().union(*(needed for _, _, needed in _NEAR_WORDS))


@dataclass(frozen=True, slots=True)
class Finding:
    """A write-blocking key ledgerx does not read where it stands, as the file spells it.

    ``table`` is the TOML path of the table holding it (``[profiles.sandbox.settings]``, or
    ``the top level``); ``expected`` is the spelling ledgerx reads instead; ``code`` is
    ``misspelled_key`` (the right key misspelled in its right table) or ``misplaced_key``.
    """

    key: str
    value: str
    table: str
    line: int | None
    expected: str
    code: str

    def quote(self) -> str:
        """``[profiles.sandbox] Disable-Writes = false (line 3)``, cleaned for display."""
        at = f" (line {self.line})" if self.line else ""
        setting = f"{clean(self.key, 60)} = {clean(self.value, 60)}"
        if self.table == "the top level":
            return f"{setting} at the top level{at}"
        return f"{clean(self.table, 120)} {setting}{at}"

    def sentence(self) -> str:
        """What the file says, why it counts as write-blocking, and what ledgerx reads."""
        if self.code == "misspelled_key":
            real = DISABLE_WRITES if self.expected.startswith("[profiles") else READONLY
            why = f"and '{clean(self.key, 60)}' looks like a misspelling of {real}"
        else:
            why = f"a key about writes that ledgerx does not read there (it reads {self.expected})"
        odd = "" if self.value in ("true", "false") else " (and that value is not even true/false)"
        return f"{self.quote()}, {why}, so it counts as write-blocking whatever its value{odd}"


# ---------------------------------------------------------------------------------------------
# What the file holds


@dataclass(frozen=True, slots=True)
class Profile:
    """One ``[profiles.NAME]`` table.

    ``misspelled`` lists keys spelled alike ``disable_writes`` (e.g. ``disable-writes``) or
    other write-blocking keys in the profile or any sub-table of it (``readonly``, ``writes``,
    …); ``findings`` says each as found. Any of them makes ``disable_writes`` true, whatever its
    value.
    """

    name: str
    base_url: str | None = None
    disable_writes: bool = False
    token_env: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    misspelled: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = ()

    @property
    def writes_enabled(self) -> bool:
        return not self.disable_writes


@dataclass(frozen=True, slots=True)
class Profiles:
    """Every profile from one file, plus the file's ``[defaults]``.

    ``fingerprint`` is ``sha256:<hex>`` of the file's bytes (``absent`` when there is no file);
    ``readonly_misspelled`` names a key spelled alike ``[defaults] readonly`` (which then makes
    ``readonly`` true). ``findings`` lists every write-blocking key outside the profiles (top
    level, ``[defaults]``, any other table): each makes ``readonly`` true.
    """

    path: Path | None
    profiles: dict[str, Profile] = field(default_factory=dict)
    readonly: bool = False
    fingerprint: str = ABSENT
    readonly_misspelled: str | None = None
    findings: tuple[Finding, ...] = ()

    def get(self, name: str | None) -> Profile | None:
        return self.profiles.get(name) if name is not None else None

    def readonly_reason(self) -> str | None:
        """What in this file makes the session read-only, in words; ``None`` if nothing does."""
        path = clean(self.path, 300)
        if self.findings:  # a misspelled or misplaced key (``read_only``) counts as readonly
            return f"the profiles file {path} has {describe_findings(self.findings)}"
        if self.readonly:
            return f"[defaults] readonly = true in {path}"
        return None

    def snapshot(self, name: str | None) -> ProfileSnapshot:
        """What a plan for a run on profile ``name`` records of this file."""
        profile = self.get(name)
        return ProfileSnapshot(
            path=str(self.path) if self.path else None,
            fingerprint=self.fingerprint,
            present=profile is not None,
            disable_writes=profile.disable_writes if profile else None,
            base_url=redact_password(profile.base_url) if profile else None,
            token_env=profile.token_env if profile else None,
            timeout=profile.timeout if profile else None,
            readonly=self.readonly,
            disable_writes_by=_quotes(profile.findings) if profile else None,
            readonly_by=_quotes(self.findings),
        )


def _quotes(findings: tuple[Finding, ...]) -> str | None:
    return describe_findings(findings) or None


def describe_findings(findings: tuple[Finding, ...] | list[Finding], most: int = 3) -> str:
    """The first ``most`` findings in words (a hostile file may hold thousands)."""
    said = "; ".join(finding.sentence() for finding in findings[:most])
    more = len(findings) - most
    return said + (f"; and {more} more such key{'s' if more > 1 else ''}" if more > 0 else "")


def redact_password(url: str | None) -> str | None:
    """``url`` with the password of any ``user:password@`` shown as ``***``."""
    if not url:
        return url
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return "<a base_url that cannot be parsed>"
    if parts.password is None and "@" not in parts.netloc:
        return url
    user, _, host = parts.netloc.rpartition("@")
    name = user.split(":", 1)[0]
    netloc = f"{name}:***@{host}" if ":" in user else f"{name}@{host}"
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


# ---------------------------------------------------------------------------------------------
# What a plan records of the file, and how a change is said


@dataclass(frozen=True, slots=True)
class ProfileSnapshot:
    """The profile settings a plan was made with, compared again before anything is sent.

    ``error`` is the file's error when it could not be read (the plan is then refused).
    ``base_url`` never holds a password. ``disable_writes_by``/``readonly_by`` quote the
    write-blocking keys that made ``disable_writes``/``readonly`` true, when not the real key
    (left out of ``to_dict`` when None, so plans of correct files keep their fingerprint).
    """

    path: str | None
    fingerprint: str
    present: bool
    disable_writes: bool | None
    base_url: str | None
    token_env: str | None
    timeout: float | None
    readonly: bool
    error: str | None = None
    disable_writes_by: str | None = None
    readonly_by: str | None = None

    @classmethod
    def failed(cls, path: str | None, fingerprint: str, error: str) -> ProfileSnapshot:
        return cls(path, fingerprint, False, None, None, None, None, False, error)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in _OPTIONAL:
            if data[key] is None:
                del data[key]
        return data

    @classmethod
    def from_dict(cls, data: object) -> ProfileSnapshot:
        """Raises ``TypeError``/``KeyError`` on a malformed snapshot (the plan reader words it)."""
        if not isinstance(data, dict):
            raise TypeError("'profile_snapshot' must be an object")
        kinds: dict[str, tuple[tuple[type, ...], bool]] = {
            "path": ((str,), True),
            "fingerprint": ((str,), False),
            "present": ((bool,), False),
            "disable_writes": ((bool,), True),
            "base_url": ((str,), True),
            "token_env": ((str,), True),
            "timeout": ((int, float), True),
            "readonly": ((bool,), False),
            "error": ((str,), True),
            "disable_writes_by": ((str,), True),
            "readonly_by": ((str,), True),
        }
        values: dict[str, Any] = {}
        for key, (types, nullable) in kinds.items():
            value = data.get(key) if key in _OPTIONAL or key == "error" else data[key]
            ok = (value is None and nullable) or (
                isinstance(value, types) and not (bool not in types and isinstance(value, bool))
            )
            if not ok:
                raise TypeError(f"'profile_snapshot.{key}' has the wrong type")
            values[key] = value
        return cls(**values)


_OPTIONAL = ("disable_writes_by", "readonly_by")


def describe_change(name: str | None, old: ProfileSnapshot, new: ProfileSnapshot) -> str | None:
    """A sentence saying what changed in the profiles file between two snapshots, or None."""
    if old == new:
        return None
    who = f"profile '{clean(name, 100)}'"
    where = clean(new.path or old.path or "the profiles file", 300)
    if new.error and not old.error:
        return f"the profiles file {where} can no longer be read: {clean(new.error, 500)}"
    if old.error and not new.error:
        return f"the profiles file {where} was fixed since the preview"
    if old.error and new.error:
        return (
            f"the profiles file {where} changed since the preview and still cannot be read: "
            f"{clean(new.error, 500)}"
        )
    if old.path != new.path:
        return (
            f"the profiles file is now {clean(new.path or 'none', 300)} "
            f"(it was {clean(old.path or 'none', 300)} at the preview)"
        )
    if new.present and not old.present:
        return f"{who} was added to {where} since the preview"
    if old.present and not new.present:
        return f"{who} was removed from {where} since the preview"
    if old.disable_writes != new.disable_writes:
        if new.disable_writes and new.disable_writes_by:
            return f"{who} is now write-disabled in {where}: {clean(new.disable_writes_by, 600)}"
        value = "true" if new.disable_writes else "false"
        return f"{who} now has disable_writes = {value} in {where}"
    if old.readonly != new.readonly:
        if new.readonly and new.readonly_by:
            return f"the session is now read-only by {where}: {clean(new.readonly_by, 600)}"
        value = "true" if new.readonly else "false"
        return f"[defaults] readonly is now {value} in {where}"
    for key in ("base_url", "token_env", "timeout"):
        before, after = getattr(old, key), getattr(new, key)
        if before != after:
            shown = "(not set)" if after is None else clean(after, 200)
            was = "(not set)" if before is None else clean(before, 200)
            return f"{who} now has {key} = {shown} in {where} (it was {was})"
    return f"the profiles file {where} changed since the preview ({who} itself is unchanged)"


# ---------------------------------------------------------------------------------------------
# Reading


def candidate_paths(explicit: str | Path | None = None) -> list[Path]:
    """Where the profiles file is looked for, first match wins (SPEC §3).

    Absolute, so a plan saved in one directory and run from another names the same file.
    """
    if explicit:
        return [Path(os.path.abspath(Path(explicit).expanduser()))]
    env = os.environ.get("LEDGERX_PROFILES")
    if env:
        return [Path(os.path.abspath(Path(env).expanduser()))]
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


def _profile(
    name: str,
    table: object,
    source: Path,
    line: int | None = None,
    findings: tuple[Finding, ...] = (),
    text: str = "",
) -> Profile:
    """One ``[profiles.NAME]`` table; an error names the line of the key at fault, or of the
    table's header (``line``) when the key's line cannot be found."""

    def where(key: str | None = None) -> str:
        at = (_line_in_table(text, ("profiles", name), key) if key else None) or line
        return f"{source}" + (f", line {at}" if at else "") + f": [profiles.{name}]"

    if not isinstance(table, dict):
        raise ProfilesError(f"{where()} must be a table")
    base_url = table.get("base_url")
    if base_url is not None and not isinstance(base_url, str):
        raise ProfilesError(f"{where('base_url')} base_url must be a string")
    token_env = table.get("token_env")
    if token_env is not None and not isinstance(token_env, str):
        raise ProfilesError(f"{where('token_env')} token_env must be a string")
    timeout = table.get("timeout", DEFAULT_TIMEOUT)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise ProfilesError(f"{where('timeout')} timeout must be a number of seconds")
    if not math.isfinite(timeout) or timeout <= 0:
        raise ProfilesError(f"{where('timeout')} timeout must be a positive number of seconds")
    if timeout > MAX_TIMEOUT:
        # Each DELETE's whole deadline: 1e308 would be a wait without one.
        raise ProfilesError(f"{where('timeout')} timeout must be at most {MAX_TIMEOUT:g} seconds")
    disable = _bool(table.get(DISABLE_WRITES, False), f"{where(DISABLE_WRITES)} {DISABLE_WRITES}")
    return Profile(
        name=name,
        base_url=base_url,
        disable_writes=disable or bool(findings),
        token_env=token_env,
        timeout=float(timeout),
        misspelled=tuple(finding.key for finding in findings),
        findings=findings,
    )


def _defaults_alike(name: str) -> bool:
    return name == "defaults" or spelled_alike(name, "defaults")


def _shown_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{a table}"
    if isinstance(value, list):
        return "[an array]"
    return repr(value) if isinstance(value, str) else str(value)


def _table_name(path: tuple[str, ...]) -> str:
    if not path:
        return "the top level"
    return "[" + ".".join(p if re.fullmatch(r"[A-Za-z0-9_-]+", p) else repr(p) for p in path) + "]"


def _line_in_table(text: str, path: tuple[str, ...], key: str) -> int | None:
    """The line (1-based) of ``key = …`` in the table ``[path]`` itself (between its header and
    the next header); ``None`` when it is not set there (an inline table, a dotted key)."""

    def name(part: str) -> str:
        return rf"(?:{re.escape(part)}|\"{re.escape(part)}\"|'{re.escape(part)}')"

    header = re.compile(
        r"^[ \t]*\[\s*" + r"\s*\.\s*".join(name(p) for p in path) + r"\s*\][ \t]*(?:#.*)?$",
        re.MULTILINE,
    )
    match = header.search(text)
    if match is None:
        return None
    start = match.end()
    following = re.compile(r"^[ \t]*\[", re.MULTILINE).search(text, start)
    end = following.start() if following else len(text)
    assignment = re.compile(r"^[ \t]*" + name(key) + r"[ \t]*=", re.MULTILINE)
    if found := assignment.search(text, start, end):
        return text.count("\n", 0, found.start()) + 1
    return None


def _key_line(text: str, path: tuple[str, ...], key: str) -> int | None:
    """The line (1-based) where ``key`` is set under table ``path``, when it can be found."""

    def name(part: str) -> str:
        return rf"(?:{re.escape(part)}|\"{re.escape(part)}\"|'{re.escape(part)}')"

    start = 0
    if path:
        header = re.compile(
            r"^[ \t]*\[\[?\s*" + r"\s*\.\s*".join(name(p) for p in path) + r"\s*\]", re.MULTILINE
        )
        if match := header.search(text):
            start = match.end()
    assignment = re.compile(r"^[ \t]*(?:[^=\n]*\.\s*)?" + name(key) + r"\s*=", re.MULTILINE)
    nested = re.compile(
        r"^[ \t]*\[\[?[^\]\n]*" + name(key) + r"\s*\]", re.MULTILINE
    )  # the key is itself a table: [profiles.sandbox.readonly]
    for pattern in (assignment, nested):
        if match := pattern.search(text, start) or pattern.search(text):
            return text.count("\n", 0, match.start()) + 1
    return None


def _findings(data: dict[str, Any], text: str) -> tuple[dict[str, list[Finding]], list[Finding]]:
    """Every write-blocking key ledgerx does not read where it stands, in the whole tree.

    Inside ``[profiles.NAME]`` or any sub-table of it, the key write-disables that profile;
    anywhere else (top level, ``[defaults]``, ``[profiles]`` itself, any other table) it makes
    the session read-only, and so does one in a profile named alike ``defaults``.
    """
    per_profile: dict[str, list[Finding]] = {}
    session: list[Finding] = []

    def found(path: tuple[str, ...], key: str, value: object) -> None:
        # Each line is a search of the text: only the few that are ever shown get one.
        shown_already = len(session) + sum(len(found) for found in per_profile.values())
        line = _key_line(text, path, key) if shown_already < 10 else None
        table, shown = _table_name(path), _shown_value(value)
        if len(path) >= 2 and path[0] == "profiles":
            name = path[1]
            spelled = len(path) == 2 and spelled_alike(key, DISABLE_WRITES)
            per_profile.setdefault(name, []).append(
                Finding(
                    key,
                    shown,
                    table,
                    line,
                    f"[profiles.{name}] {DISABLE_WRITES} = true",
                    "misspelled_key" if spelled else "misplaced_key",
                )
            )
            if not _defaults_alike(name):
                return
        spelled = len(path) == 1 and _defaults_alike(path[0])
        spelled = spelled and (key == READONLY or spelled_alike(key, READONLY))
        session.append(
            Finding(
                key,
                shown,
                table,
                line,
                f"[defaults] {READONLY} = true",
                "misspelled_key" if spelled else "misplaced_key",
            )
        )

    def walk(node: dict[str, Any], path: tuple[str, ...]) -> None:
        for key, value in node.items():
            is_profile = path == ("profiles",) and isinstance(value, dict)
            proper = (len(path) == 2 and path[0] == "profiles" and key == DISABLE_WRITES) or (
                path == ("defaults",) and key == READONLY
            )
            if not is_profile and not proper and says_no_writes(key):
                found(path, key, value)
            if isinstance(value, dict):
                walk(value, (*path, key))
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, dict):
                        walk(item, (*path, key))

    walk(data, ())
    return per_profile, session


def _readonly(data: dict[str, Any], source: Path, text: str = "") -> bool:
    """``[defaults] readonly`` itself (strict: true or false)."""
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        raise ProfilesError(f"{source}: [defaults] must be a table")
    line = _line_in_table(text, ("defaults",), READONLY)
    at = f", line {line}" if line else ""
    return _bool(defaults.get(READONLY, False), f"{source}{at}: [defaults] {READONLY}")


def parse_profiles(text: str, source: Path, fingerprint: str | None = None) -> Profiles:
    """Parse profiles TOML; raises ``ProfilesError`` naming the file and line."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ProfilesError(f"{source}: not valid TOML: {exc}") from None
    tables = data.get("profiles", {})
    if not isinstance(tables, dict):
        raise ProfilesError(f"{source}: 'profiles' must be a table of [profiles.NAME] tables")
    readonly = _readonly(data, source, text)
    per_profile, session = _findings(data, text)
    return Profiles(
        path=source,
        profiles={
            name: _profile(
                name,
                table,
                source,
                _header_line(text, name),
                tuple(per_profile.get(name, ())),
                text,
            )
            for name, table in tables.items()
            if isinstance(table, dict) or not says_no_writes(name)  # that one is in ``session``
        },
        readonly=readonly or bool(session),
        fingerprint=fingerprint or file_fingerprint(text.encode("utf-8")),
        readonly_misspelled=f"{session[0].table} {session[0].key}" if session else None,
        findings=tuple(session),
    )


def file_fingerprint(raw: bytes) -> str:
    return "sha256:" + hashlib.sha256(raw).hexdigest()


@dataclass(frozen=True, slots=True)
class ProfilesSource:
    """Where the profiles file is (SPEC §3 lookup); ``load()`` reads it afresh every call.

    ``paths`` are tried in order; ``named`` means the first was named by the user
    (``--profiles``, ``$LEDGERX_PROFILES``), so its absence is an error rather than "no file".
    A source with no paths never has a file (tests, benchmarks).
    """

    paths: tuple[Path, ...]
    named: bool = False

    @classmethod
    def lookup(cls, explicit: str | Path | None = None) -> ProfilesSource:
        """The SPEC §3 lookup: ``explicit``, else ``$LEDGERX_PROFILES``, else the defaults."""
        named = bool(explicit) or bool(os.environ.get("LEDGERX_PROFILES"))
        return cls(tuple(candidate_paths(explicit)), named)

    @classmethod
    def of(cls, profiles: Profiles | ProfilesSource) -> ProfilesSource:
        """A source for ``profiles``: the file it was read from (read again), or none."""
        if isinstance(profiles, ProfilesSource):
            return profiles
        return cls((profiles.path,), True) if profiles.path else cls(())

    def load(self) -> Profiles:
        """The file as it is now; no file at all gives an empty set. Raises ``ProfilesError``."""
        for index, path in enumerate(self.paths):
            try:
                raw = read_regular_file(path)
            except FileNotFoundError:
                if self.named and index == 0:
                    raise ProfilesError(f"{path}: profiles file not found") from None
                continue
            except OSError as exc:
                raise ProfilesError(f"{path}: cannot be read ({exc.strerror})") from None
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise ProfilesError(f"{path}: not UTF-8 text") from None
            return parse_profiles(text, path, file_fingerprint(raw))
        return Profiles(path=None)

    def failed_snapshot(self, error: ProfilesError) -> ProfileSnapshot:
        """What a plan records when the file could not be read: where, its bytes, the error."""
        for path in self.paths:
            try:
                fingerprint = file_fingerprint(read_regular_file(path))
            except FileNotFoundError:
                continue
            except OSError:
                fingerprint = "unreadable"
            return ProfileSnapshot.failed(str(path), fingerprint, str(error))
        path = str(self.paths[0]) if self.paths else None
        return ProfileSnapshot.failed(path, ABSENT, str(error))


def load_profiles(explicit: str | Path | None = None) -> Profiles:
    """Load the profiles file by SPEC §3 lookup; no file at all gives an empty set.

    An explicitly named file (``--profiles`` or ``$LEDGERX_PROFILES``) that does not exist is an
    error; the default locations are optional.
    """
    return ProfilesSource.lookup(explicit).load()
