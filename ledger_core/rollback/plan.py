"""Rollback planning (SPEC §3): pure, reads nothing but the run it is given.

A ``Plan`` lists every step newest first with what would happen to it and why, sorted into
three groups a person reads apart: *will undo*, *cannot undo* (and why), *in doubt* (check by
hand) — plus steps with nothing to undo. It carries a fingerprint of the rows it was computed
from and of the profile's write setting, so an executor can refuse a plan the ledger or the
profiles file has moved away from. Plans round-trip through JSON and export as a Markdown
checklist for a ticket.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from ..errors import PlanFileError
from ..ledgers.reader import step_id_problem
from ..models import RollbackAttempt, RunDetail, Step
from ..sanitize import clean, redact_urls
from ..timeutil import now_iso
from ..triage.resolutions import DOUBTFUL, LANDED, NOT_LANDED, Resolution, for_step
from .profiles import Profile, ProfileSnapshot

PLAN_FORMAT = 1
SETTLED = frozenset({LANDED, NOT_LANDED})  # resolutions that move a step (not "unknown")

UNDO = "undo"
CANNOT = "cannot"
DOUBT = "in_doubt"
NOTHING = "nothing"
NO_ROLLBACK_FOR_FORMAT = "no_rollback_for_format"  # refusal code of every non-runner format
GROUP_TITLES = {
    UNDO: "Will undo",
    CANNOT: "Cannot undo",
    DOUBT: "In doubt — check by hand",
    NOTHING: "Nothing to undo",
}

_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_NO_PREIMAGE = frozenset({"PATCH", "PUT", "DELETE", "MERGE"})


@dataclass(frozen=True, slots=True)
class PlanAction:
    """What the plan does with one step."""

    step_id: int
    seq: int | None
    method: str | None
    url: str | None
    action: str  # "delete" or "skip"
    target: str | None
    reason: str
    group: str
    derived_status: str
    correlation_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Plan:
    """A rollback plan for one run, as shown to a person and later executed exactly."""

    run_id: str
    source: str
    profile: str | None
    writes_enabled: bool
    fingerprint: str
    actions: tuple[PlanAction, ...]
    refusal: str | None = None
    refusal_code: str | None = None
    created_at: str = field(default_factory=now_iso)
    profile_snapshot: ProfileSnapshot | None = None
    """The profiles file as the plan saw it; ``None`` when unknown (an older saved plan)."""

    def group(self, name: str) -> list[PlanAction]:
        return [a for a in self.actions if a.group == name]

    @property
    def will_undo(self) -> list[PlanAction]:
        return self.group(UNDO)

    @property
    def cannot_undo(self) -> list[PlanAction]:
        return self.group(CANNOT)

    @property
    def in_doubt(self) -> list[PlanAction]:
        return self.group(DOUBT)

    @property
    def deletes(self) -> list[PlanAction]:
        return [a for a in self.actions if a.action == "delete"]

    def summary(self) -> str:
        return (
            f"{len(self.will_undo)} to undo, {len(self.cannot_undo)} cannot be undone, "
            f"{len(self.in_doubt)} in doubt, {len(self.group(NOTHING))} with nothing to undo"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": PLAN_FORMAT,
            "run_id": self.run_id,
            "source": self.source,
            "profile": self.profile,
            "writes_enabled": self.writes_enabled,
            "refusal": self.refusal,
            "refusal_code": self.refusal_code,
            "fingerprint": self.fingerprint,
            "created_at": self.created_at,
            "profile_snapshot": (
                self.profile_snapshot.to_dict() if self.profile_snapshot is not None else None
            ),
            "summary": self.summary(),
            "actions": [a.to_dict() for a in self.actions],
        }

    def to_json(self) -> str:
        # ASCII only: C1 controls, DEL and bidi overrides stay \u escapes, so `cat plan.json`
        # cannot act on the terminal (JSON itself escapes only C0). A password in a URL is
        # masked: a saved plan is carried around (a target with one is refused anyway).
        return redact_urls(json.dumps(self.to_dict(), indent=2, ensure_ascii=True))

    @classmethod
    def from_dict(cls, data: object) -> Plan:
        """Read a plan back from ``to_dict`` output; raises ``PlanFileError`` if malformed.

        Every field is checked for its type: a plan file is edited by people and carried
        between machines, and a wrong type must be a clear error, not a crash further on.
        """
        if not isinstance(data, dict) or data.get("format") != PLAN_FORMAT:
            raise PlanFileError("not a ledgerx plan (missing or unknown 'format')")
        try:
            raw_actions = data["actions"]
            if not isinstance(raw_actions, list):
                raise TypeError("'actions' must be a list")
            actions = tuple(_action_from_dict(a) for a in raw_actions)
            raw_snapshot = data.get("profile_snapshot")
            # Missing (a plan saved by an older ledgerx) is "unknown": kept, and refused later.
            snapshot = None if raw_snapshot is None else ProfileSnapshot.from_dict(raw_snapshot)
            return cls(
                run_id=_typed(data, "run_id", str),
                source=_typed(data, "source", str),
                profile=_typed(data, "profile", str, optional=True),
                writes_enabled=_typed(data, "writes_enabled", bool),
                fingerprint=_typed(data, "fingerprint", str),
                actions=actions,
                refusal=_typed(data, "refusal", str, optional=True, default=None),
                refusal_code=_typed(data, "refusal_code", str, optional=True, default=None),
                created_at=_typed(data, "created_at", str, default=""),
                profile_snapshot=snapshot,
            )
        except (KeyError, TypeError) as exc:
            raise PlanFileError(f"plan file is incomplete or malformed ({exc})") from None

    def to_markdown(self, detail: RunDetail | None = None) -> str:
        """A checklist an operator can paste into a ticket. Text is escaped, never rendered.

        It leads with what needs a human (the steps in doubt, with intent time, URL,
        correlation id and any resolution), then what will be undone, what cannot and why.
        With ``detail`` (the run the plan was made from) it carries the run's context too:
        verdict, company, environment, manifest, profile and diagnosis.
        """

        def md(value: object) -> str:
            text = clean(value, 300)
            return "`" + text.replace("`", "'") + "`" if text else "—"

        run = detail.summary if detail is not None else None
        lines = [f"# Rollback plan for run {md(self.run_id)}", ""]
        if run is not None:
            lines.append(
                f"- Verdict: **{_md_text(run.verdict or run.state, 40)}** (state "
                f"{md(run.state)}, liveness {md(run.liveness)})"
            )
            lines.append(f"- Company: {md(run.company)} · environment: {md(run.environment)}")
            lines.append(f"- Manifest: {md(run.manifest_path)}")
        if self.refusal_code == NO_ROLLBACK_FOR_FORMAT:  # the format's, not the profile's
            writes = "no rollback for this format"
        else:
            writes = "writes enabled" if self.writes_enabled else "writes DISABLED"
        lines += [
            f"- Ledger: {md(self.source)}",
            f"- Profile: {md(self.profile)} ({writes})",
            f"- Plan fingerprint: {md(self.fingerprint[:16])}, made {md(self.created_at)}",
            f"- Summary: {self.summary()}",
        ]
        if self.refusal_code == "nothing_to_do":
            lines.append(f"- **Nothing to do:** {_md_text(self.refusal, 500)}")
        elif self.refusal:
            lines.append(f"- **Refused:** {_md_text(self.refusal, 500)}")
        if run is not None and run.diagnosis:
            lines += ["", "## Diagnosis", ""]
            lines += [f"- {_md_text(sentence, 500)}" for sentence in run.sentences("cli")]
        steps = {(s.step_id, s.seq): s for s in detail.steps} if detail is not None else {}
        resolved = [
            a
            for a in self.actions
            if a.derived_status in DOUBTFUL and a.group != DOUBT and detail is not None
        ]
        order = [(DOUBT, self.in_doubt), ("resolved", resolved)]
        order += [(g, [a for a in self.group(g) if a not in resolved]) for g in (UNDO, CANNOT)]
        order.append((NOTHING, [a for a in self.group(NOTHING) if a not in resolved]))
        titles = GROUP_TITLES | {
            DOUBT: "In doubt — needs a human, check by hand",
            "resolved": "Resolved by a person",
        }
        for group, actions in order:
            if not actions:
                continue
            lines += ["", f"## {titles[group]} ({len(actions)})", ""]
            for a in actions:
                head = f"- [ ] step {a.seq} {md(a.method)} {md(a.url)}"
                if a.action == "delete":
                    head += f" → DELETE {md(a.target)}"
                lines.append(head)
                lines.append(f"  - {_md_text(a.reason, 500)}")
                step = steps.get((a.step_id, a.seq))
                if step is not None and a.derived_status in DOUBTFUL:
                    lines.append(f"  - intent written at {md(step.intent_ts)}")
                if a.correlation_id:
                    lines.append(f"  - correlation id {md(a.correlation_id)}")
                if step is not None and a.derived_status in DOUBTFUL:
                    lines += _resolution_lines(detail, step, md)
        return "\n".join(lines) + "\n"


def _resolution_lines(detail: RunDetail | None, step: Step, md: Any) -> list[str]:
    """The resolution in force for an in-doubt step, or how to record one."""
    if detail is None:
        return []
    found = for_step(detail, step)
    if found is None:
        run = clean(detail.summary.run_id, 80).replace("`", "'")
        return [
            f"  - not resolved yet: `ledgerx resolve {run} {step.seq} --landed|--not-landed "
            "--note …`"
        ]
    url = f" at {md(found.url)}" if found.url else ""
    return [
        f"  - resolved as **{_md_text(found.words, 40)}**{url} by {md(found.who)} at "
        f"{md(found.resolved_at)}: {_md_text(found.note, 500)}"
    ]


# Markdown punctuation that can start a link, image, HTML tag, entity or emphasis.
_MD_PUNCTUATION = re.compile(r"([\\`*_\[\]()<>!&|~#@])")
_MD_AUTOLINK = re.compile(r"(://|(?i:www)\.)")


def _md_text(value: object, limit: int) -> str:
    """Free text (a reason that may quote ledger data) as literal Markdown.

    Code spans keep ids and URLs inert, but a sentence is plain text: a status such as
    ``[click](https://evil.example)`` would become a link in the ticket. Every character that
    can open a Markdown construct is backslash-escaped, and ``://``/``www.`` are broken up so
    GitHub-style autolinking finds no bare URL; the rendered text reads exactly as the original.
    """
    text = _MD_PUNCTUATION.sub(r"\\\1", clean(value, limit))
    return _MD_AUTOLINK.sub(lambda m: m.group()[:-1] + "\\" + m.group()[-1], text)


_MISSING = object()
_ACTION_FIELDS: dict[str, tuple[type, bool]] = {
    # name: (type, may be null)
    "step_id": (int, True),  # null: the step's stored id is not an integer
    "seq": (int, True),
    "method": (str, True),
    "url": (str, True),
    "action": (str, False),
    "target": (str, True),
    "reason": (str, False),
    "group": (str, False),
    "derived_status": (str, False),
    "correlation_id": (str, True),
}


def _typed(
    data: dict, key: str, kind: type, *, optional: bool = False, default: object = _MISSING
) -> Any:
    """``data[key]`` if it has type ``kind`` (or is null when ``optional``); else TypeError."""
    if key not in data:
        if default is _MISSING:
            raise KeyError(key)
        return default
    value = data[key]
    if value is None and optional:
        return None
    # bool is an int subclass: a step id of ``true`` is as wrong as one of "7".
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise TypeError(f"{key!r} must be {kind.__name__}{' or null' if optional else ''}")
    return value


def _action_from_dict(data: object) -> PlanAction:
    if not isinstance(data, dict):
        raise TypeError("every action must be an object")
    fields = {
        name: _typed(data, name, kind, optional=nullable)
        for name, (kind, nullable) in _ACTION_FIELDS.items()
    }
    if fields["action"] not in ("delete", "skip"):
        raise TypeError(f"'action' must be 'delete' or 'skip', not {fields['action']!r}")
    return PlanAction(**fields)


def fingerprint(
    detail: RunDetail,
    profile: Profile | None,
    profile_name: str | None,
    snapshot: ProfileSnapshot | None = None,
) -> str:
    """Hash of every row the plan depends on, of the profile's settings and of the snapshot
    of the profiles file (so a plan made from other profile bytes has another fingerprint)."""
    digest = hashlib.sha256()
    run = detail.summary
    head: list[Any] = [run.run_id, run.stamped_state, run.finished_at, profile_name]
    head += [profile.disable_writes, profile.base_url] if profile else [None, None]
    if snapshot is not None:
        head.append(snapshot.to_dict())
    digest.update(json.dumps(head).encode())
    for s in detail.steps:
        row = [s.step_id, s.seq, s.method, s.url, s.status, s.outcome_ts, s.rollback_url]
        digest.update(json.dumps(row).encode())
    for a in detail.attempts:
        digest.update(json.dumps([a.attempt_id, a.step_id, a.outcome_ts, a.result]).encode())
    # A resolution moves a step between groups (a landed one with a URL becomes a DELETE):
    # a plan shown before it was recorded is stale.
    for r in detail.resolutions:
        digest.update(json.dumps(["resolution", *r.to_dict().values()]).encode())
    return digest.hexdigest()


def step_id_refusal(detail: RunDetail) -> tuple[str, str] | None:
    """(code, reason) refusing a run whose steps cannot be told apart by ``step_id``.

    The executor records attempts and updates steps by ``step_id``: with a NULL, non-integer
    or repeated id it could mark the wrong row ``rolled_back`` (SPEC §6: nothing is lost).
    """
    problem = step_id_problem(((s.step_id, s.seq) for s in detail.steps), stored=False)
    return ("bad_step_ids", problem) if problem else None


def _attempt_state(attempts: list[RollbackAttempt]) -> str | None:
    if not attempts:
        return None
    last = attempts[-1]
    if last.in_doubt:
        return "in_doubt"
    return last.result


def plan_step(
    step: Step, attempts: list[RollbackAttempt], resolution: Resolution | None = None
) -> PlanAction:
    """The rule of SPEC §3 that applies to one step; an in-doubt step a person resolved
    (``resolutions``) is planned as what they found: *landed* as a committed step (its URL,
    if given, is the rollback target), *did not land* as a failed one."""
    method = (step.method or "").upper()
    status = step.derived_status

    def act(action: str, group: str, reason: str, target: str | None = None) -> PlanAction:
        return PlanAction(
            step.step_id,
            step.seq,
            step.method,
            step.url,
            action,
            target,
            reason,
            group,
            status,
            step.bc_correlation_id,
        )

    previous = _attempt_state(attempts)
    # Only the two settled outcomes move a step; anything else in a hand-edited table is ignored.
    if resolution is not None and status in DOUBTFUL and resolution.outcome in SETTLED:
        said = f"resolved as {resolution.words} by {clean(resolution.who, 60)}"
        if resolution.outcome == NOT_LANDED:
            return act("skip", NOTHING, f"nothing to undo: {said}")
        if previous == "rolled_back":
            return act("skip", NOTHING, f"already rolled back ({said})")
        if method != "POST":
            return act("skip", CANNOT, f"{said}; {method or '?'} has no automatic undo")
        if not resolution.url:
            return act("skip", CANNOT, f"{said}; no URL of the created record was given")
        if previous == "in_doubt":
            reason = f"{said}; resume: the last DELETE got no answer (404 counts as done)"
        elif previous == "rollback_failed":
            reason = f"{said}; retry: the last DELETE failed"
        else:
            reason = f"{said}: delete the record it created"
        return act("delete", UNDO, reason, resolution.url)
    if status == "rolled_back" or previous == "rolled_back":
        return act("skip", NOTHING, "already rolled back")
    if status == "rollback_skipped":
        return act("skip", NOTHING, "already marked rollback_skipped")
    if status == "in_doubt":
        still = f" (resolved as still unknown by {clean(resolution.who, 60)})" if resolution else ""
        return act(
            "skip",
            DOUBT,
            "intent without outcome: the request may or may not have landed; check by hand" + still,
        )
    if status == "unknown":
        return act("skip", DOUBT, f"outcome {step.status!r} is not understood; check by hand")
    if status in ("failed", "skipped"):
        return act("skip", NOTHING, f"nothing to undo ({status})")
    # committed, or rollback_failed (a committed step whose DELETE failed before)
    if method in _READ_METHODS:
        return act("skip", NOTHING, f"nothing to undo ({method} does not change anything)")
    if method == "POST":
        if not step.rollback_url:
            return act("skip", CANNOT, "no rollback target recorded")
        if previous == "in_doubt":
            reason = "resume: the last DELETE got no answer; sending it again (404 counts as done)"
        elif status == "rollback_failed" or previous == "rollback_failed":
            reason = "retry: the last DELETE failed"
        else:
            reason = "created by POST: delete the record"
        return act("delete", UNDO, reason, step.rollback_url)
    if method in _NO_PREIMAGE:
        return act("skip", CANNOT, "no pre-image: cannot be undone automatically")
    return act("skip", CANNOT, f"method {method or '?'} has no known inverse")


def make_plan(
    detail: RunDetail,
    profile: Profile | None,
    *,
    refusal: tuple[str, str] | None = None,
    snapshot: ProfileSnapshot | None = None,
) -> Plan:
    """Plan the rollback of ``detail``; newest step first. ``refusal`` is (code, reason);
    ``snapshot`` is the profiles file the plan is made with (``Profiles.snapshot``)."""
    run = detail.summary
    # Ids may be None (a step table without INTEGER PRIMARY KEY): they must still sort, and
    # match no attempt (step_id_refusal refuses such a run).
    steps = sorted(
        detail.steps,
        key=lambda s: (
            s.seq if s.seq is not None else -1,
            s.step_id if s.step_id is not None else -1,
        ),
        reverse=True,
    )
    actions = tuple(
        plan_step(
            s,
            detail.attempts_for(s.step_id) if s.step_id is not None else [],
            for_step(detail, s),
        )
        for s in steps
    )
    return Plan(
        run_id=run.run_id,
        source=run.source,
        profile=run.profile,
        writes_enabled=bool(profile and profile.writes_enabled),
        fingerprint=fingerprint(detail, profile, run.profile, snapshot),
        actions=actions,
        refusal=refusal[1] if refusal else None,
        refusal_code=refusal[0] if refusal else None,
        profile_snapshot=snapshot,
    )
