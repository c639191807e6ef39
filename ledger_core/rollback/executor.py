"""Preview, refuse and execute a run's rollback, crash-safely (SPEC §3, §6).

Entry points, used alike by the CLI and the TUI:

* ``preview(detail, profiles)`` — the plan (``plan.make_plan``) plus the refusal that would stop
  it, so a person sees *why* before anything is attempted.
* ``check_refusal(plan, profiles)`` — raises ``RollbackRefused`` for a plan that must not run
  (session, profiles file, token); ``recheck(plan, profiles)`` adds a fresh read of the ledger
  and raises what ``execute`` would refuse now (a confirmation dialog calls it when it opens and
  when it is confirmed); ``as_it_stands(plan, profiles)`` is a saved plan with that refusal set.
* ``execute(plan, profiles)`` — re-reads the run, re-checks every rule (the fingerprint must
  still match, no other rollback of the run may be in progress), and only then opens an HTTP
  client and sends the DELETEs newest first.

``profiles`` is a ``ProfilesSource`` (the file is read afresh at each of those moments: a
``disable_writes = true`` added after the preview refuses) or, for callers holding one fixed
set, a ``Profiles``. The plan records a ``ProfileSnapshot`` of the file it was made with; any
difference later refuses with code ``profiles_changed`` and a sentence saying what changed, and
a file that cannot be read refuses with ``profiles_error`` (browsing never needs it).

Crash safety: each DELETE is preceded by a committed ``rollback_attempt`` intent row and
followed by its outcome, written in the same transaction as the step's new status. A request
whose answer never came (timeout, lost connection, a crash of this process) leaves the attempt
without an outcome — *in doubt* — and the step untouched; the next plan re-sends that DELETE,
where 404 counts as done. A step confirmed rolled back is never sent again.

What the executor deliberately does NOT do: steps the plan cannot undo (a committed PATCH or
DELETE without a pre-image, a POST without a rollback target) and steps in doubt keep their
status. The seed's runner marks PATCH/DELETE ``rollback_skipped``, but that status says
"handled", while the change those requests made still stands on the server: ledgerx keeps the
ledger saying ``committed`` so nobody mistakes a surviving change for an undone one (the run's
``rolled_back`` stamp, set when every *undoable* step is done, makes both tools agree on the run's
state). Nothing is written for a step that nothing was sent for.

The bearer token (from the variable the profile's ``token_env`` names) goes into one request
header and nowhere else: it is scrubbed from every message, stored error and progress line. It
is never sent in clear: a profile whose ``base_url`` is ``http://`` on a host other than the
loopback is refused, as is a token no HTTP header can carry (checked before any row is written).
Credentials written into a URL (``http://user:pass@host``) are never sent and never shown: such
a target is refused, and every text is masked by ``sanitize``.

Time is bounded: each DELETE has one deadline, the profile's ``timeout``, for connecting, the
answer's headers and its body together, so a server that drips its answer cannot hold a
rollback. Before the run is stamped ``rolled_back`` its steps are counted again under the write
lock: a step added since the plan (a runner still writing) means no stamp, and the result says
why (``RollbackResult.not_stamped``). A ledger that stays locked while a DELETE is recorded
stops the rollback cleanly (``RollbackResult.stopped``); a cancelled task (Ctrl-C) reports the
DELETE in flight as in doubt and leaves its intent row in the ledger.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import httpx

from ..derive import DEFAULT_STALE_AFTER, pid_alive, process_identity
from ..errors import LedgerxError, ProfilesError, RollbackRefused, SourceError
from ..formats.no_rollback import refuse_other_formats, refused_plan
from ..ledgers import holders
from ..ledgers.access import snapshot
from ..ledgers.reader import read_run
from ..ledgers.schema import ROLLBACK_DDL
from ..models import RunDetail
from ..sanitize import clean, has_credentials, redact_url
from ..timeutil import now_iso
from .plan import Plan, PlanAction, make_plan, step_id_refusal
from .profiles import (
    Profile,
    Profiles,
    ProfileSnapshot,
    ProfilesSource,
    describe_change,
    describe_findings,
)
from .targets import outside_base, url_problem
from .writer import open_readwrite

__all__ = [
    "RollbackProgress",
    "RollbackResult",
    "check_refusal",
    "execute",
    "origin_of",
    "preview",
    "recheck",
]

ERROR_BODY_LIMIT = 500  # characters of an error response kept in the ledger
_READ_LIMIT = 8192  # bytes of an error response read at all
_DEFAULT_PORTS = {"http": 80, "https": 443}
_LIVE = ("alive", "unknown")
# What httpx (ASCII encoding) and h11 (field-value) accept in a header value, minus the control
# characters h11 would let through: printable ASCII words separated by spaces or tabs.
_HEADER_VALUE = re.compile(r"[\x21-\x7e]+(?:[ \t]+[\x21-\x7e]+)*")

ROLLED_BACK = "rolled_back"
FAILED = "rollback_failed"
IN_DOUBT = "in_doubt"


@dataclass(frozen=True)
class RollbackProgress:
    """One step of an execution, reported when its DELETE is sent and when it lands.

    ``index`` counts from 1 up to ``total`` (the plan's DELETEs); ``result`` is ``None`` while
    ``phase`` is ``"sending"``. ``message`` is sanitised text, safe to show as is (no markup).
    """

    step_id: int
    seq: int | None
    target: str
    phase: str  # "sending" | "done"
    result: str | None  # "rolled_back" | "rollback_failed" | "in_doubt" | None while sending
    http_status: int | None
    message: str
    index: int
    total: int


@dataclass(frozen=True)
class RollbackResult:
    """What an execution did: one ``done`` progress item per DELETE, and the run's new stamp.

    ``stopped`` says why the rollback ended before the plan's last DELETE (the ledger stayed
    locked while a DELETE was being recorded); ``not_stamped`` says why every DELETE went through
    but the run was not stamped ``rolled_back`` (steps were added to the run meanwhile). Both are
    sanitised sentences, ``None`` when it did not happen.
    """

    run_id: str
    outcomes: tuple[RollbackProgress, ...]
    run_stamped: str | None
    stopped: str | None = None
    not_stamped: str | None = None

    @property
    def rolled_back(self) -> list[RollbackProgress]:
        return [o for o in self.outcomes if o.result == ROLLED_BACK]

    @property
    def failed(self) -> list[RollbackProgress]:
        return [o for o in self.outcomes if o.result == FAILED]

    @property
    def in_doubt(self) -> list[RollbackProgress]:
        return [o for o in self.outcomes if o.result == IN_DOUBT]

    @property
    def ok(self) -> bool:
        """Every DELETE of the plan confirmed, and nothing stopped or kept the stamp away."""
        return (
            not self.failed
            and not self.in_doubt
            and self.stopped is None
            and self.not_stamped is None
        )


# ---------------------------------------------------------------------------------------------
# Refusal rules


def origin_of(url: str | None) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an http(s) URL with default ports filled in; ``None`` if invalid.

    Parsed with httpx's own parser, so the origin checked is the origin httpx would contact.
    A URL carrying user:password is treated as invalid: httpx would turn it into credentials.
    """
    if not url or not isinstance(url, str):
        return None
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        return None
    scheme = parsed.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parsed.host or parsed.userinfo:
        return None
    port = parsed.port if parsed.port is not None else _DEFAULT_PORTS[scheme]
    return scheme, parsed.host.lower(), port


def _show_origin(origin: tuple[str, str, int]) -> str:
    scheme, host, port = origin
    host = f"[{host}]" if ":" in host else host
    return f"{scheme}://{host}:{port}"


def _readonly_refusal(readonly: bool | str) -> tuple[str, str]:
    """The session's own switch: ``--readonly``, or a reason given as text (``ledgerx serve``)."""
    where = clean(readonly, 200) if isinstance(readonly, str) else "--readonly"
    return "readonly", f"this session is read-only ({where}): no rollback request is sent."


def _profile_refusal(
    run_id: str,
    profile_name: str | None,
    profiles: Profiles,
    deletes: list[PlanAction],
    readonly: bool | str,
) -> tuple[str, str] | None:
    """The rules that depend on the session and the profiles file, in order of importance.

    ``readonly`` may be the reason itself (e.g. ``"served read-only"``) instead of ``True``.
    """
    if readonly:
        return _readonly_refusal(readonly)
    path = clean(profiles.path, 300)
    if profiles.findings:
        first = profiles.findings[0]
        return first.code, (
            f"the profiles file {path} has {describe_findings(profiles.findings)}: the whole "
            f"session stays read-only until that key is removed or replaced by "
            f"{first.expected} (or = false to allow writes)."
        )
    if profiles.readonly:
        return "readonly", (
            f"this session is read-only ([defaults] readonly = true in {path}): no rollback "
            "request is sent."
        )
    name = clean(profile_name, 100)
    if profile_name is None:
        return "unknown_profile", (
            f"run {clean(run_id, 60)} records no profile, so there is no server known to be "
            "safe to write to."
        )
    profile = profiles.get(profile_name)
    if profile is None:
        where = f"the profiles file {profiles.path}" if profiles.path else "any profiles file"
        return "unknown_profile", (
            f"run {clean(run_id, 60)} uses profile '{name}', which is not in {where}; "
            "ledgerx will not guess where to send requests."
        )
    if profile.findings:
        first = profile.findings[0]
        return first.code, (
            f"profile '{name}' has {describe_findings(profile.findings)}: the profile stays "
            f"write-disabled until that key is removed or replaced by {first.expected} (or "
            "= false to allow writes)."
        )
    if profile.disable_writes:
        return "writes_disabled", (
            f"profile '{name}' has disable_writes = true: rollbacks are refused on it, and no "
            "flag, key or prompt overrides that."
        )
    if has_credentials(profile.base_url):
        return "credentials_in_url", (
            f"profile '{name}' has a base_url with a user name or password in it "
            f"({clean(profile.base_url, 200)}); ledgerx never sends credentials written into a "
            "URL. Remove them from base_url and use token_env for a bearer token."
        )
    base = origin_of(profile.base_url)
    if base is None:
        what = "no base_url" if not profile.base_url else "a base_url that is not an http(s) URL"
        return "no_base_url", (
            f"profile '{name}' has {what}: there is no server to send the DELETEs to."
        )
    for action in deletes:
        if has_credentials(action.target):
            return "credentials_in_url", (
                f"step {action.seq}'s rollback target {clean(action.target, 200)} carries a user "
                "name or password; ledgerx never sends credentials written into a ledger's URL."
            )
        problem = url_problem(action.target) if isinstance(action.target, str) else None
        if problem:
            return "bad_target", (
                f"step {action.seq}'s rollback target {clean(action.target, 200)} {problem}; "
                "ledgerx sends a DELETE only to the URL it shows."
            )
        target = origin_of(action.target)
        if target != base:
            return "foreign_origin", (
                f"step {action.seq}'s rollback target {clean(action.target, 200)} is not on the "
                f"profile's server {_show_origin(base)}; ledgerx never contacts another origin."
            )
        # (The origin check above already refused a missing target; a refusal rule never rests
        # on an assert, which ``python -O`` removes.)
        if not isinstance(action.target, str) or outside_base(
            action.target, profile.base_url or ""
        ):
            return "outside_base_url", (
                f"step {action.seq}'s rollback target {clean(action.target, 200)} is not below "
                f"profile '{name}''s base_url {clean(profile.base_url, 200)}; ledgerx deletes "
                "only under the base_url's path (another path on that server may be another "
                "environment)."
            )
    return None


def _is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _token_refusal(profile: Profile | None) -> tuple[str, str] | None:
    """A bearer token that would travel in clear, or that is missing or cannot be sent.

    Checked when the plan is previewed as when it is executed, before any row is written.
    """
    if profile is None or not profile.token_env:
        return None
    name = clean(profile.name, 100)
    var = clean(profile.token_env, 100)
    base = origin_of(profile.base_url)
    if base is not None and base[0] == "http" and not _is_loopback(base[1]):
        return "insecure_token", (
            f"profile '{name}' would send its bearer token (${var}) in clear over http:// to "
            f"{clean(base[1], 100)}; use an https:// base_url (only a loopback address may be "
            "reached over plain http with a token)."
        )
    token = os.environ.get(profile.token_env)
    if token is None or token == "":
        return "missing_token", (
            f"profile '{name}' takes its token from ${var}, which is "
            f"{'not set' if token is None else 'empty'}; set it and try again."
        )
    if not _HEADER_VALUE.fullmatch(token):
        if not token.strip():
            why = "only whitespace"
        elif token != token.strip():
            why = "whitespace at its start or end (a trailing newline?)"
        elif not token.isascii():
            why = "characters outside ASCII"
        else:
            why = "control characters"
        return "bad_token", (
            f"${var} (the token of profile '{name}') holds {why}, which an HTTP header cannot "
            "carry; fix the variable and try again. Nothing was sent."
        )
    return None


def _liveness_refusal(detail: RunDetail) -> tuple[str, str] | None:
    run = detail.summary
    if run.liveness == "alive":
        who = clean(run.liveness_reason, 200) or "its writer process is alive"
        return "run_alive", (
            f"run {clean(run.run_id, 60)} is still being written ({who}); "
            "wait until it finishes or stops before rolling it back."
        )
    if run.liveness == "unknown":
        return "run_alive", (
            f"run {clean(run.run_id, 60)} had recent activity and no writer ledgerx can check: it "
            "may still be running. Wait until it finishes or goes quiet (stale)."
        )
    return None


def _busy_refusal(path: Path, run_id: str) -> tuple[str, str]:
    """Why a ledger that stayed locked is refused: ``run_alive`` naming the process seen
    holding it (``holders``), else ``ledger_busy``."""
    found = holders.check(path)
    if found.state == holders.HELD and found.holder is not None:
        return "run_alive", (
            f"run {clean(run_id, 60)} is still being written ({found.holder.describe()} holds "
            "the ledger open); nothing was sent. Wait until it finishes or stops before rolling "
            "it back."
        )
    return "ledger_busy", (
        f"another process kept {clean(path, 300)} locked for {_BUSY_TIMEOUT:g}s; "
        "nothing was sent. Try again when it is released."
    )


def _nothing_refusal(plan: Plan, stamped: str | None = None) -> tuple[str, str] | None:
    if plan.deletes:
        return None
    if stamped == "rolled_back" or any(a.reason == "already rolled back" for a in plan.actions):
        return "nothing_to_do", (
            "nothing left to undo: every step that could be undone is already rolled back."
        )
    return "nothing_to_do", (
        f"nothing to undo: no committed POST with a recorded rollback target ({plan.summary()})."
    )


def _lock_refusal(path: Path, run_id: str) -> tuple[str, str] | None:
    """Another process's rollback of this run holds the lock (read only, nothing written)."""
    try:
        holder = snapshot(path, lambda c: _lock_holder(c, run_id))
    except (SourceError, sqlite3.Error):
        return None  # unreadable now: execute re-reads and reports it
    if holder is not None and _holder_alive(holder, process_identity()):
        return _in_progress(run_id, holder)
    return None


def _refusal_for(detail: RunDetail, plan: Plan, profiles: Profiles, readonly: bool | str):
    return (
        _profile_refusal(plan.run_id, detail.summary.profile, profiles, plan.deletes, readonly)
        or _token_refusal(profiles.get(detail.summary.profile))
        or _liveness_refusal(detail)
        or step_id_refusal(detail)
        or _lock_refusal(Path(detail.summary.source), plan.run_id)
        or _nothing_refusal(plan, detail.summary.stamped_state)
    )


def _load(profiles: Profiles | ProfilesSource) -> tuple[Profiles | None, ProfilesError | None]:
    """The profiles as they are now: a source is read afresh; a fixed set is itself."""
    if isinstance(profiles, Profiles):
        return profiles, None
    try:
        return profiles.load(), None
    except ProfilesError as exc:
        return None, exc


def _snapshot(
    profiles: Profiles | ProfilesSource,
    loaded: Profiles | None,
    error: ProfilesError | None,
    name: str | None,
) -> ProfileSnapshot:
    if loaded is not None:
        return loaded.snapshot(name)
    assert error is not None and isinstance(profiles, ProfilesSource)
    return profiles.failed_snapshot(error)


def _profiles_error(error: ProfilesError) -> tuple[str, str]:
    return "profiles_error", (
        f"the profiles file cannot be used, so no server is known to be safe to write to: "
        f"{clean(error, 600)}"
    )


_UNKNOWN_SNAPSHOT = (
    "profiles_changed",
    "this plan does not record the profiles file it was made with (it was saved by an older "
    "ledgerx), so a change since then cannot be ruled out; make the plan again.",
)


def preview(
    detail: RunDetail,
    profiles: Profiles | ProfilesSource,
    *,
    readonly: bool | str = False,
    now: float | None = None,
) -> Plan:
    """The rollback plan of ``detail``, with ``refusal``/``refusal_code`` set if it would be
    refused. A ``ProfilesSource`` is read now; the plan records what it read
    (``profile_snapshot``). ``now`` (epoch seconds) fixes ``created_at`` (reproducible output).
    """
    if (refused := refused_plan(detail)) is not None:  # rollback is the runner's alone
        return refused
    loaded, error = _load(profiles)
    name = detail.summary.profile
    snapshot = _snapshot(profiles, loaded, error, name)
    profile = loaded.get(name) if loaded is not None else None
    plan = make_plan(detail, profile, snapshot=snapshot)
    if loaded is None:
        assert error is not None
        refusal = _readonly_refusal(readonly) if readonly else _profiles_error(error)
    else:
        refusal = _refusal_for(detail, plan, loaded, readonly)
    if refusal:
        plan = replace(plan, refusal_code=refusal[0], refusal=refusal[1])
    if now is not None:
        stamp = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        plan = replace(plan, created_at=stamp)
    return plan


def check_refusal(
    plan: Plan, profiles: Profiles | ProfilesSource, *, readonly: bool | str = False
) -> Profiles:
    """Raise ``RollbackRefused`` if ``plan`` must not be executed; else the profiles as read.

    Reads a ``ProfilesSource`` afresh and compares it with the snapshot the plan was made with:
    any difference is ``profiles_changed``, saying what changed. Then checks the session and
    profile rules against the plan itself and any refusal the plan was made with (a refused
    plan is never executed: preview again). ``execute`` checks all of this again against a
    fresh read of the ledger.
    """
    if plan.refusal_code == "no_rollback_for_format":  # said first: nothing else applies
        raise RollbackRefused(plan.refusal_code, plan.refusal or "no rollback for this format")
    if readonly:
        raise RollbackRefused(*_readonly_refusal(readonly))
    loaded, error = _load(profiles)
    if plan.profile_snapshot is None:
        raise RollbackRefused(*_UNKNOWN_SNAPSHOT)
    fresh = _snapshot(profiles, loaded, error, plan.profile)
    change = describe_change(plan.profile, plan.profile_snapshot, fresh)
    if change:
        raise RollbackRefused(
            "profiles_changed", f"{change}; nothing was sent: make the plan again (preview)."
        )
    if loaded is None:
        assert error is not None
        raise RollbackRefused(*_profiles_error(error))
    refusal = _profile_refusal(
        plan.run_id, plan.profile, loaded, plan.deletes, readonly
    ) or _token_refusal(loaded.get(plan.profile))
    if refusal is None and plan.refusal_code:
        refusal = (plan.refusal_code, plan.refusal or "the plan was refused when it was made")
    refusal = refusal or _nothing_refusal(plan)
    if refusal:
        raise RollbackRefused(*refusal)
    return loaded


def recheck(
    plan: Plan,
    profiles: Profiles | ProfilesSource,
    *,
    readonly: bool | str = False,
    stale_after: float = DEFAULT_STALE_AFTER,
) -> None:
    """Raise ``RollbackRefused`` with what ``execute`` would refuse now, reading only.

    The session and profile rules and the token (``check_refusal``), then a fresh read of the
    ledger: liveness, another rollback's lock, the fingerprint. A ledger that cannot be read
    any more refuses too (``ledger_unreadable``): a confirmation must never go ahead on a
    ledger that is not what the preview showed.
    """
    loaded = check_refusal(plan, profiles, readonly=readonly)
    try:
        detail, fresh = _fresh_plan(plan, loaded, stale_after)
    except LedgerxError as exc:
        raise RollbackRefused(
            "ledger_unreadable",
            f"the ledger cannot be read again ({clean(exc, 400)}); nothing was sent.",
        ) from None
    refusal = _refusal_for(detail, fresh, loaded, readonly)
    if refusal:
        raise RollbackRefused(*refusal)
    if _stale(plan, fresh):
        raise RollbackRefused(*_STALE)


def as_it_stands(
    plan: Plan,
    profiles: Profiles | ProfilesSource,
    *,
    readonly: bool | str = False,
    stale_after: float = DEFAULT_STALE_AFTER,
) -> Plan:
    """``plan`` with ``refusal``/``refusal_code`` set to what ``execute`` would refuse now (for
    a saved plan shown again: ``--plan FILE --dry-run``)."""
    try:
        recheck(plan, profiles, readonly=readonly, stale_after=stale_after)
    except RollbackRefused as refused:
        return replace(plan, refusal_code=refused.code, refusal=refused.reason)
    return plan


# ---------------------------------------------------------------------------------------------
# The lock: one rollback of a run at a time


def _lock_holder(conn: sqlite3.Connection, run_id: str) -> tuple | None:
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if "rollback_lock" not in tables:
        return None
    return conn.execute(
        "SELECT pid, host, proc_start, acquired_at FROM rollback_lock WHERE run_id = ?", (run_id,)
    ).fetchone()


def _holder_alive(holder: tuple, me: tuple[int, str, str | None]) -> bool:
    """A lock whose holder is a dead pid on this host is abandoned; any other holds."""
    pid, host, proc_start, _ = holder
    if host != me[1]:
        return True  # cannot check another host's processes: assume it is working
    if isinstance(pid, int) and pid == me[0] and proc_start == me[2]:
        return True  # this very process is already rolling the run back (another task)
    return isinstance(pid, int) and pid_alive(pid, proc_start)


def _in_progress(run_id: str, holder: tuple) -> tuple[str, str]:
    pid, host, _, acquired = holder
    return "rollback_in_progress", (
        f"another rollback of run {clean(run_id, 60)} is in progress (pid {pid} on "
        f"{clean(host, 80)}, since {clean(acquired, 40)}); wait for it to finish."
    )


def _acquire_lock(conn: sqlite3.Connection, run_id: str, me: tuple[int, str, str | None]) -> None:
    """Take the run's lock in one write transaction, or raise ``RollbackRefused``."""
    conn.executescript(ROLLBACK_DDL)
    conn.execute("BEGIN IMMEDIATE")
    try:
        holder = _lock_holder(conn, run_id)
        if holder is not None and _holder_alive(holder, me):
            raise RollbackRefused(*_in_progress(run_id, holder))
        conn.execute(
            "INSERT OR REPLACE INTO rollback_lock (run_id, pid, host, proc_start, acquired_at) "
            "VALUES (?,?,?,?,?)",
            (run_id, me[0], me[1], me[2], now_iso()),
        )
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _release_lock(conn: sqlite3.Connection, run_id: str, me: tuple[int, str, str | None]) -> None:
    conn.execute(
        "DELETE FROM rollback_lock WHERE run_id = ? AND pid = ? AND host = ?",
        (run_id, me[0], me[1]),
    )


# ---------------------------------------------------------------------------------------------
# Execution


class _Scrubber:
    """Removes the bearer token from any text before it is stored or shown."""

    def __init__(self, token: str | None) -> None:
        self.token = token

    def __call__(self, text: object, limit: int = ERROR_BODY_LIMIT) -> str:
        value = "" if text is None else str(text)
        if self.token:
            value = value.replace(self.token, "[token]")
        return clean(value, limit)


def _token(profile: Profile) -> str | None:
    """The profile's bearer token, or ``None``; ``RollbackRefused`` if it must not be sent."""
    refusal = _token_refusal(profile)
    if refusal:
        raise RollbackRefused(*refusal)
    return os.environ.get(profile.token_env) if profile.token_env else None


def _deletes_key(plan: Plan) -> list[tuple[int, str | None]]:
    return [(a.step_id, a.target) for a in plan.deletes]


def _fresh_plan(plan: Plan, profiles: Profiles, stale_after: float) -> tuple[RunDetail, Plan]:
    detail = read_run(Path(plan.source), plan.run_id, stale_after=stale_after)
    name = detail.summary.profile
    return detail, make_plan(detail, profiles.get(name), snapshot=profiles.snapshot(name))


def _stale(plan: Plan, fresh: Plan) -> bool:
    return fresh.fingerprint != plan.fingerprint or _deletes_key(fresh) != _deletes_key(plan)


_STALE = (
    "stale_plan",
    "the ledger or the profile changed since this plan was made (its fingerprint differs); "
    "preview the rollback again.",
)


async def _send(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], sent: list[bool]
) -> tuple[int, bytes, str | None]:
    """Send one DELETE; return (status, the start of the body, Location header).

    ``sent`` becomes ``[True]`` once the request's first byte is about to leave: until then a
    failure provably sent nothing.

    httpx works out where a 3xx answer points even when it does not follow it, and a
    ``Location`` it cannot parse makes it raise ``RemoteProtocolError`` — which would read as
    a connection lost, with the DELETE in doubt. The answer did come, and it is a redirect:
    its status and raw ``Location`` are taken from the response headers as they arrive (the
    same trace hook) and returned as the answer they are.
    """
    head: list[object] = []  # [status, [raw Location values]] once the headers arrived

    async def trace(event: str, info: object) -> None:
        if event.endswith("send_request_headers.started"):
            sent[0] = True
        elif event.endswith("receive_response_headers.complete"):
            head[:] = _status_and_locations(info)

    try:
        async with client.stream(
            "DELETE", url, headers=headers, extensions={"trace": trace}
        ) as answer:
            body = b""
            if not 200 <= answer.status_code < 300:
                async for chunk in answer.aiter_bytes():
                    body += chunk
                    if len(body) >= _READ_LIMIT:
                        break
            return answer.status_code, body[:_READ_LIMIT], answer.headers.get("location")
    except httpx.RemoteProtocolError:
        status = head[0] if head else None
        if isinstance(status, int) and 300 <= status < 400:
            raw = head[1] if isinstance(head[1], list) else []
            return status, b"", ", ".join(raw) if raw else None
        raise


def _status_and_locations(info: object) -> list[object]:
    """``[status, [Location values]]`` from httpcore's trace of the response headers
    (HTTP/1.1: ``(version, status, reason, headers)``; HTTP/2: ``(status, headers)``)."""
    value = info.get("return_value") if isinstance(info, dict) else None
    if not isinstance(value, tuple) or len(value) < 2:
        return []
    status = next((v for v in value if isinstance(v, int)), None)
    found: list[str] = []
    for pair in value[-1] if isinstance(value[-1], list) else []:
        if not isinstance(pair, tuple) or len(pair) != 2:
            continue
        name, raw = (v.decode("latin-1") if isinstance(v, bytes) else str(v) for v in pair)
        if name.lower() == "location":
            found.append(raw)
    return [status, found]


def _redirect_error(status: int, location: str | None, scrub: _Scrubber) -> str:
    """A 3xx answer in words: redirects are never followed (SPEC §6), so the DELETE was not
    done; the ``Location`` is shown cleaned, and said to be unusable when it is."""
    if location is None or not location.strip():
        return f"HTTP {status} redirect without a Location header (not followed)"
    shown = scrub(location, 200)
    try:
        httpx.URL(location)
    except (httpx.InvalidURL, TypeError, ValueError):
        return f"HTTP {status} redirect to an invalid Location {shown!r} (not followed)"
    return f"HTTP {status} redirect to {shown} (not followed)"


def _classify(
    status: int, body: bytes, location: str | None, scrub: _Scrubber
) -> tuple[str, str, str | None]:
    """(result, message, error to store) for an HTTP answer."""
    if 200 <= status < 300:
        return ROLLED_BACK, f"deleted ({status})", None
    if status == 404:
        return ROLLED_BACK, "already gone (404): counts as rolled back", None
    text = scrub(body.decode("utf-8", "replace"), ERROR_BODY_LIMIT)
    if 300 <= status < 400:
        error = _redirect_error(status, location, scrub)
    else:
        error = f"HTTP {status}" + (f": {text}" if text else "")
    return FAILED, error, error


_MAY_HAVE_LANDED = "the DELETE may or may not have landed; it will be sent again on resume"
# How long a write to the ledger waits for another process's lock before the rollback stops.
_BUSY_TIMEOUT = 5.0
_RELEASE_TIMEOUT = 15.0


def _write(conn: sqlite3.Connection, work: Callable[[], object]) -> object:
    """Run ``work`` in one write transaction; on any error roll back and re-raise."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        value = work()
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return value


def _steps_changed(conn: sqlite3.Connection, plan: Plan) -> str | None:
    """Why the run must not be stamped: its steps are not the ones the plan was made from."""
    count, newest = conn.execute(
        "SELECT COUNT(*), MAX(step_id) FROM step WHERE run_id = ?", (plan.run_id,)
    ).fetchone()
    planned = len(plan.actions)
    planned_newest = max((a.step_id for a in plan.actions), default=None)
    if (count, newest) == (planned, planned_newest):
        return None
    run = clean(plan.run_id, 60)
    if count > planned:
        what = f"{count - planned} step(s) were added to run {run} while it was being rolled back"
    else:
        what = f"the steps of run {run} changed while it was being rolled back"
    return (
        f"{what} (the plan had {planned} step(s), the ledger now has {count}): something is "
        "still writing this run, so it was not stamped rolled_back. Look at the new steps, then "
        "preview the rollback again."
    )


async def execute(
    plan: Plan,
    profiles: Profiles | ProfilesSource,
    *,
    readonly: bool | str = False,
    on_progress: Callable[[RollbackProgress], None] | None = None,
    stale_after: float = DEFAULT_STALE_AFTER,
) -> RollbackResult:
    """Execute ``plan`` exactly; raise ``RollbackRefused`` before any socket if it must not run.

    Every refusal is checked first without writing anything; then the run's lock is taken and
    the ledger re-read under it (fingerprint and liveness), and the profiles file (given as a
    ``ProfilesSource``) read and compared once more, immediately before the first DELETE; only
    then is an HTTP client created. Cancelling the task (Ctrl-C) reports the DELETE in flight as
    in doubt through ``on_progress`` and re-raises ``CancelledError``.
    """
    refuse_other_formats(plan.source)  # rollback is the runner's alone: before anything else
    source = profiles
    profiles = check_refusal(plan, source, readonly=readonly)
    path = Path(plan.source)
    run_id = plan.run_id
    detail, fresh = _fresh_plan(plan, profiles, stale_after)
    refusal = _refusal_for(detail, fresh, profiles, readonly)
    if refusal:
        raise RollbackRefused(*refusal)
    if _stale(plan, fresh):
        raise RollbackRefused(*_STALE)
    profile = profiles.get(detail.summary.profile)
    assert profile is not None and profile.base_url  # guaranteed by the checks above
    me = process_identity()
    token = _token(profile)
    scrub = _Scrubber(token)

    try:
        conn = open_readwrite(path, timeout=_BUSY_TIMEOUT)
    except SourceError as exc:
        # A process that appeared since the checks above and holds the file's lock (a runner
        # in locking_mode=EXCLUSIVE keeps it for its whole life): a refusal, not an error.
        if "locked" in str(exc) or "busy" in str(exc):
            raise RollbackRefused(*_busy_refusal(path, run_id)) from None
        raise
    try:
        try:
            _acquire_lock(conn, run_id, me)
        except sqlite3.Error as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise RollbackRefused(*_busy_refusal(path, run_id)) from None
            raise SourceError(
                str(path),
                "unreadable",
                f"the rollback cannot be recorded ({exc}): nothing was sent",
            ) from None
        try:
            # Immediately before the first DELETE, under the lock: the profiles file and the
            # ledger read afresh must still be the plan's, and no other process may be writing
            # the run.
            profiles = check_refusal(plan, source, readonly=readonly)
            detail, fresh = _fresh_plan(plan, profiles, stale_after)
            if _stale(plan, fresh):
                raise RollbackRefused(*_STALE)
            refusal = _liveness_refusal(detail)
            if refusal:
                raise RollbackRefused(*refusal)
            return await _run_deletes(conn, fresh, profile, token, scrub, me, on_progress)
        finally:
            with contextlib.suppress(sqlite3.Error):
                # Waits longer than a DELETE's recording would: a lock left behind by this
                # (living) process would refuse every later rollback of the run it makes.
                conn.execute(f"PRAGMA busy_timeout = {int(_RELEASE_TIMEOUT * 1000)}")
                _release_lock(conn, run_id, me)
    finally:
        conn.close()


async def _run_deletes(
    conn: sqlite3.Connection,
    plan: Plan,
    profile: Profile,
    token: str | None,
    scrub: _Scrubber,
    me: tuple[int, str, str | None],
    on_progress: Callable[[RollbackProgress], None] | None,
) -> RollbackResult:
    deletes = plan.deletes
    total = len(deletes)
    headers = {"Accept": "application/json", "User-Agent": "ledgerx-rollback"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    outcomes: list[RollbackProgress] = []
    stamped: str | None = None
    stopped: str | None = None
    not_stamped: str | None = None
    seconds = f"{profile.timeout:g}s"

    def report(item: RollbackProgress) -> None:
        if on_progress is not None:
            on_progress(item)

    async with httpx.AsyncClient(
        follow_redirects=False, trust_env=False, timeout=httpx.Timeout(profile.timeout)
    ) as client:
        for index, action in enumerate(deletes, start=1):
            # A Ctrl-C that came while the last outcome was written is delivered here, before
            # the next intent row: nothing is recorded for a DELETE that is never sent.
            await asyncio.sleep(0)
            target = action.target or ""
            shown = scrub(target, 300)

            def intent(action: PlanAction = action, target: str = target) -> int | None:
                return conn.execute(
                    "INSERT INTO rollback_attempt (run_id, step_id, method, url, "
                    "plan_fingerprint, pid, host, intent_ts) VALUES (?,?,?,?,?,?,?,?)",
                    (
                        plan.run_id,
                        action.step_id,
                        "DELETE",
                        redact_url(target),
                        plan.fingerprint,
                        me[0],
                        me[1],
                        now_iso(),
                    ),
                ).lastrowid

            try:
                # Committed before the request leaves (SPEC §6): survives a crash of this
                # process (not a power loss, SPEC §7), so the attempt is recorded or not sent.
                attempt_id = _write(conn, intent)
            except sqlite3.Error as exc:
                stopped = (
                    f"the ledger could not be written ({scrub(exc, 200)}) before step "
                    f"{action.seq}'s DELETE was recorded: that DELETE was not sent and the "
                    "rollback stopped there; run it again to resume."
                )
                break
            report(
                RollbackProgress(
                    action.step_id,
                    action.seq,
                    shown,
                    "sending",
                    None,
                    None,
                    f"DELETE {shown}",
                    index,
                    total,
                )
            )
            status: int | None = None
            sent = [False]
            try:
                # One deadline for connecting, the headers and the whole body: httpx's own
                # timeouts restart with every byte, so a dripping server would hold us for ever.
                async with asyncio.timeout(profile.timeout):
                    status, body, location = await _send(client, target, headers, sent)
            except asyncio.CancelledError:
                interrupted = RollbackProgress(
                    action.step_id,
                    action.seq,
                    shown,
                    "done",
                    IN_DOUBT,
                    None,
                    f"interrupted before its answer came: {_MAY_HAVE_LANDED}",
                    index,
                    total,
                )
                outcomes.append(interrupted)
                report(interrupted)
                raise
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                # Never reached the server: nothing was sent, so this is a plain failure.
                result = FAILED
                error = f"not sent: cannot connect ({scrub(exc, 200) or type(exc).__name__})"
                message = error
            except httpx.TimeoutException as exc:
                result, error = IN_DOUBT, None
                message = f"no answer within {seconds} ({type(exc).__name__}): {_MAY_HAVE_LANDED}"
            except httpx.TransportError as exc:
                what = scrub(exc, 200) or type(exc).__name__
                result, error = IN_DOUBT, None
                message = f"connection lost ({what}): {_MAY_HAVE_LANDED}"
            except TimeoutError:
                if sent[0]:
                    result, error = IN_DOUBT, None
                    message = (
                        f"no complete answer within {seconds} (the profile's timeout bounds "
                        f"connecting, the headers and the body together): {_MAY_HAVE_LANDED}"
                    )
                else:
                    result = FAILED
                    error = f"not sent: could not connect within {seconds}"
                    message = error
            else:
                result, message, error = _classify(status, body, location, scrub)

            if result != IN_DOUBT:
                last = index == total and result == ROLLED_BACK
                all_done = last and all(o.result == ROLLED_BACK for o in outcomes)

                def outcome(
                    action: PlanAction = action,
                    attempt_id: object = attempt_id,
                    result: str = result,
                    status: int | None = status,
                    error: str | None = error,
                    all_done: bool = all_done,
                ) -> str | None:
                    conn.execute(
                        "UPDATE rollback_attempt SET outcome_ts = ?, http_status = ?, "
                        "result = ?, error_message = ? WHERE attempt_id = ?",
                        (now_iso(), status, result, error, attempt_id),
                    )
                    conn.execute(
                        "UPDATE step SET status = ? WHERE step_id = ? AND run_id = ?",
                        (result, action.step_id, plan.run_id),
                    )
                    if not all_done:
                        return None
                    # Checked under the write lock, in the stamp's own transaction: a step
                    # committed by a runner still at work must not be buried under the stamp.
                    changed = _steps_changed(conn, plan)
                    if changed is None:
                        # Same transaction as the last outcome: a crash cannot leave the run
                        # fully undone but unstamped.
                        conn.execute(
                            "UPDATE run SET state = 'rolled_back', "
                            "finished_at = COALESCE(finished_at, ?) WHERE run_id = ?",
                            (now_iso(), plan.run_id),
                        )
                    return changed

                try:
                    not_stamped = _write(conn, outcome)  # type: ignore[assignment]
                    if all_done and not_stamped is None:
                        stamped = "rolled_back"
                except sqlite3.Error as exc:
                    # The answer came but the ledger cannot say so: the attempt keeps its
                    # intent without outcome, which is in doubt, and resume sends it again.
                    message = (
                        f"{message}; but this answer could not be recorded (the ledger: "
                        f"{scrub(exc, 200)}), so the ledger keeps this DELETE in doubt and "
                        "resume sends it again (404 counts as done)"
                    )
                    result = IN_DOUBT
                    stopped = (
                        f"the ledger could not be written ({scrub(exc, 200)}) after step "
                        f"{action.seq}'s DELETE was answered; the rollback stopped there. Run it "
                        "again to resume."
                    )
            done = RollbackProgress(
                action.step_id, action.seq, shown, "done", result, status, message, index, total
            )
            outcomes.append(done)
            report(done)
            if stopped:
                break
    return RollbackResult(plan.run_id, tuple(outcomes), stamped, stopped, not_stamped)
