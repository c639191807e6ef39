"""Preview, refuse and execute a run's rollback, crash-safely (SPEC §3, §6).

Three entry points, used alike by the CLI and the TUI:

* ``preview(detail, profiles)`` — the plan (``plan.make_plan``) plus the refusal that would stop
  it, so a person sees *why* before anything is attempted.
* ``check_refusal(plan, profiles)`` — raises ``RollbackRefused`` for a plan that must not run.
* ``execute(plan, profiles)`` — re-reads the run, re-checks every rule (the fingerprint must
  still match, no other rollback of the run may be in progress), and only then opens an HTTP
  client and sends the DELETEs newest first.

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
header and nowhere else: it is scrubbed from every message, stored error and progress line.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import httpx

from .access import snapshot
from .derive import DEFAULT_STALE_AFTER, pid_alive, process_identity
from .errors import RollbackRefused, SourceError
from .models import RunDetail
from .plan import Plan, PlanAction, make_plan
from .profiles import Profile, Profiles
from .reader import read_run
from .sanitize import clean
from .schema import ROLLBACK_DDL
from .timeutil import now_iso
from .writer import open_readwrite

__all__ = [
    "RollbackProgress",
    "RollbackResult",
    "check_refusal",
    "execute",
    "origin_of",
    "preview",
]

ERROR_BODY_LIMIT = 500  # characters of an error response kept in the ledger
_READ_LIMIT = 8192  # bytes of an error response read at all
_DEFAULT_PORTS = {"http": 80, "https": 443}
_LIVE = ("alive", "unknown")

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
    """What an execution did: one ``done`` progress item per DELETE, and the run's new stamp."""

    run_id: str
    outcomes: tuple[RollbackProgress, ...]
    run_stamped: str | None

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
        return not self.failed and not self.in_doubt


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
    if readonly or profiles.readonly:
        where = "--readonly" if readonly else f"[defaults] readonly = true in {profiles.path}"
        if isinstance(readonly, str):
            where = clean(readonly, 200)
        return "readonly", f"this session is read-only ({where}): no rollback request is sent."
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
    if profile.disable_writes:
        return "writes_disabled", (
            f"profile '{name}' has disable_writes = true: rollbacks are refused on it, and no "
            "flag, key or prompt overrides that."
        )
    base = origin_of(profile.base_url)
    if base is None:
        what = "no base_url" if not profile.base_url else "a base_url that is not an http(s) URL"
        return "no_base_url", (
            f"profile '{name}' has {what}: there is no server to send the DELETEs to."
        )
    for action in deletes:
        target = origin_of(action.target)
        if target != base:
            return "foreign_origin", (
                f"step {action.seq}'s rollback target {clean(action.target, 200)} is not on the "
                f"profile's server {_show_origin(base)}; ledgerx never contacts another origin."
            )
    return None


def _liveness_refusal(detail: RunDetail) -> tuple[str, str] | None:
    run = detail.summary
    if run.liveness == "alive":
        return "run_alive", (
            f"run {clean(run.run_id, 60)} is still being written (its writer process is alive); "
            "wait until it finishes or stops before rolling it back."
        )
    if run.liveness == "unknown":
        return "run_alive", (
            f"run {clean(run.run_id, 60)} had recent activity and no writer ledgerx can check: it "
            "may still be running. Wait until it finishes or goes quiet (stale)."
        )
    return None


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


def _refusal_for(detail: RunDetail, plan: Plan, profiles: Profiles, readonly: bool | str):
    return (
        _profile_refusal(plan.run_id, detail.summary.profile, profiles, plan.deletes, readonly)
        or _liveness_refusal(detail)
        or _nothing_refusal(plan, detail.summary.stamped_state)
    )


def preview(
    detail: RunDetail, profiles: Profiles, *, readonly: bool | str = False, now: float | None = None
) -> Plan:
    """The rollback plan of ``detail``, with ``refusal``/``refusal_code`` set if it would be
    refused. ``now`` (epoch seconds) fixes the plan's ``created_at`` (for reproducible output).
    """
    profile = profiles.get(detail.summary.profile)
    plan = make_plan(detail, profile)
    refusal = _refusal_for(detail, plan, profiles, readonly)
    if refusal:
        plan = replace(plan, refusal_code=refusal[0], refusal=refusal[1])
    if now is not None:
        stamp = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        plan = replace(plan, created_at=stamp)
    return plan


def check_refusal(plan: Plan, profiles: Profiles, *, readonly: bool | str = False) -> None:
    """Raise ``RollbackRefused`` if ``plan`` must not be executed.

    Checks the session and profile rules against the plan itself and any refusal the plan
    was made with (a refused plan is never executed: preview again). ``execute`` checks all of
    this again against a fresh read of the ledger.
    """
    refusal = _profile_refusal(plan.run_id, plan.profile, profiles, plan.deletes, readonly)
    if refusal is None and plan.refusal_code:
        refusal = (plan.refusal_code, plan.refusal or "the plan was refused when it was made")
    refusal = refusal or _nothing_refusal(plan)
    if refusal:
        raise RollbackRefused(*refusal)


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
    if not profile.token_env:
        return None
    token = os.environ.get(profile.token_env)
    if not token:
        raise RollbackRefused(
            "missing_token",
            f"profile '{clean(profile.name, 100)}' takes its token from "
            f"${clean(profile.token_env, 100)}, which is not set; set it and try again.",
        )
    if any(c in token for c in "\r\n\x00"):
        raise RollbackRefused(
            "missing_token",
            f"${clean(profile.token_env, 100)} holds characters a header cannot carry.",
        )
    return token


def _deletes_key(plan: Plan) -> list[tuple[int, str | None]]:
    return [(a.step_id, a.target) for a in plan.deletes]


def _fresh_plan(plan: Plan, profiles: Profiles, stale_after: float) -> tuple[RunDetail, Plan]:
    detail = read_run(Path(plan.source), plan.run_id, stale_after=stale_after)
    return detail, make_plan(detail, profiles.get(detail.summary.profile))


def _stale(plan: Plan, fresh: Plan) -> bool:
    return fresh.fingerprint != plan.fingerprint or _deletes_key(fresh) != _deletes_key(plan)


_STALE = (
    "stale_plan",
    "the ledger or the profile changed since this plan was made (its fingerprint differs); "
    "preview the rollback again.",
)


async def _send(
    client: httpx.AsyncClient, url: str, headers: dict[str, str]
) -> tuple[int, bytes, str | None]:
    """Send one DELETE; return (status, the start of the body, Location header)."""
    async with client.stream("DELETE", url, headers=headers) as response:
        body = b""
        if not 200 <= response.status_code < 300:
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) >= _READ_LIMIT:
                    break
        return response.status_code, body[:_READ_LIMIT], response.headers.get("location")


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
        error = f"HTTP {status} redirect to {scrub(location, 200) or '?'} (not followed)"
    else:
        error = f"HTTP {status}" + (f": {text}" if text else "")
    return FAILED, error, error


async def execute(
    plan: Plan,
    profiles: Profiles,
    *,
    readonly: bool | str = False,
    on_progress: Callable[[RollbackProgress], None] | None = None,
    stale_after: float = DEFAULT_STALE_AFTER,
) -> RollbackResult:
    """Execute ``plan`` exactly; raise ``RollbackRefused`` before any socket if it must not run.

    Every refusal is checked first without writing anything; then the run's lock is taken and
    the ledger re-read under it; only then is an HTTP client created.
    """
    check_refusal(plan, profiles, readonly=readonly)
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
    holder = snapshot(path, lambda c: _lock_holder(c, run_id))
    if holder is not None and _holder_alive(holder, me):
        raise RollbackRefused(*_in_progress(run_id, holder))
    token = _token(profile)
    scrub = _Scrubber(token)

    conn = open_readwrite(path)
    try:
        _acquire_lock(conn, run_id, me)
        try:
            detail, fresh = _fresh_plan(plan, profiles, stale_after)
            if _stale(plan, fresh):
                raise RollbackRefused(*_STALE)
            return await _run_deletes(conn, fresh, profile, token, scrub, me, on_progress)
        finally:
            with contextlib.suppress(sqlite3.Error):
                _release_lock(conn, run_id, me)
    except sqlite3.Error as exc:
        raise SourceError(
            str(path),
            "locked" if "locked" in str(exc) or "busy" in str(exc) else "unreadable",
            f"the rollback could not be recorded ({exc}); every DELETE sent so far is recorded "
            "or left in doubt — run the rollback again to resume",
        ) from None
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

    def report(item: RollbackProgress) -> None:
        if on_progress is not None:
            on_progress(item)

    async with httpx.AsyncClient(
        follow_redirects=False, trust_env=False, timeout=httpx.Timeout(profile.timeout)
    ) as client:
        for index, action in enumerate(deletes, start=1):
            target = action.target or ""
            shown = scrub(target, 300)
            conn.execute("BEGIN IMMEDIATE")
            cursor = conn.execute(
                "INSERT INTO rollback_attempt (run_id, step_id, method, url, plan_fingerprint, "
                "pid, host, intent_ts) VALUES (?,?,?,?,?,?,?,?)",
                (
                    plan.run_id,
                    action.step_id,
                    "DELETE",
                    target,
                    plan.fingerprint,
                    me[0],
                    me[1],
                    now_iso(),
                ),
            )
            # Committed before the request leaves (SPEC §6): survives a crash of this process
            # (not a power loss, SPEC §7), so the attempt is recorded or the DELETE not sent.
            conn.execute("COMMIT")
            attempt_id = cursor.lastrowid
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
            try:
                status, body, location = await _send(client, target, headers)
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
                # Never reached the server: nothing was sent, so this is a plain failure.
                result = FAILED
                error = f"not sent: cannot connect ({scrub(exc, 200) or type(exc).__name__})"
                message = error
            except httpx.TimeoutException as exc:
                result, error = IN_DOUBT, None
                message = (
                    f"no answer within {profile.timeout:g}s ({type(exc).__name__}): the DELETE "
                    "may or may not have landed; it will be sent again on resume"
                )
            except httpx.TransportError as exc:
                result, error = IN_DOUBT, None
                message = (
                    f"connection lost ({scrub(exc, 200) or type(exc).__name__}): the DELETE may "
                    "or may not have landed; it will be sent again on resume"
                )
            else:
                result, message, error = _classify(status, body, location, scrub)

            if result != IN_DOUBT:
                last = index == total and result == ROLLED_BACK
                all_done = last and all(o.result == ROLLED_BACK for o in outcomes)
                conn.execute("BEGIN IMMEDIATE")
                conn.execute(
                    "UPDATE rollback_attempt SET outcome_ts = ?, http_status = ?, result = ?, "
                    "error_message = ? WHERE attempt_id = ?",
                    (now_iso(), status, result, error, attempt_id),
                )
                conn.execute(
                    "UPDATE step SET status = ? WHERE step_id = ? AND run_id = ?",
                    (result, action.step_id, plan.run_id),
                )
                if all_done:
                    # Same transaction as the last outcome: a crash cannot leave the run
                    # fully undone but unstamped.
                    conn.execute(
                        "UPDATE run SET state = 'rolled_back', "
                        "finished_at = COALESCE(finished_at, ?) WHERE run_id = ?",
                        (now_iso(), plan.run_id),
                    )
                    stamped = "rolled_back"
                conn.execute("COMMIT")
            done = RollbackProgress(
                action.step_id, action.seq, shown, "done", result, status, message, index, total
            )
            outcomes.append(done)
            report(done)
    return RollbackResult(plan.run_id, tuple(outcomes), stamped)
