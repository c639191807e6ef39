"""One incident bundle of a run, for a ticket: the run, its steps, rollback attempts,
resolutions, rollback plan and diagnosis in one JSON or Markdown document.

Pure: it formats what it is given (``RunDetail`` and the ``Plan`` made from it). Text from the
ledger stays data: JSON is ASCII-escaped (control and bidi characters stay ``\\u`` escapes) and
passwords in URLs are masked; Markdown puts values in code spans or escapes them
(``plan._md_text``), so nothing in a ledger becomes a link, a heading or a table cell.
"""

from __future__ import annotations

import json
from typing import Any

from ..models import RunDetail
from ..rollback.plan import Plan, _md_text
from ..sanitize import clean, redact_urls
from ..timeutil import now_iso

BUNDLE_FORMAT = "ledgerx-incident"
BUNDLE_VERSION = 1


def bundle(detail: RunDetail, plan: Plan, *, exported_at: str | None = None) -> dict[str, Any]:
    """The bundle as plain data (what ``--format json`` prints)."""
    return {
        "format": BUNDLE_FORMAT,
        "version": BUNDLE_VERSION,
        "exported_at": exported_at or now_iso(),
        "run": detail.summary.to_dict(),
        "diagnosis": list(detail.summary.sentences("cli")),
        "steps": [s.to_dict() for s in detail.steps],
        "rollback_attempts": [a.to_dict() for a in detail.attempts],
        "resolutions": [r.to_dict() for r in detail.resolutions],
        "plan": plan.to_dict(),
    }


def to_json(detail: RunDetail, plan: Plan, *, exported_at: str | None = None) -> str:
    data = bundle(detail, plan, exported_at=exported_at)
    return redact_urls(json.dumps(data, indent=2, ensure_ascii=True)) + "\n"


def _code(value: object, limit: int = 300) -> str:
    text = clean(value, limit)
    return "`" + text.replace("`", "'") + "`" if text else "—"


def _cell(value: object, limit: int = 120) -> str:
    # A table cell: a code span would still let "|" end the cell, so the text is escaped.
    text = _md_text(value, limit)
    return text if text else "—"


def to_markdown(detail: RunDetail, plan: Plan, *, exported_at: str | None = None) -> str:
    """The checklist (``Plan.to_markdown``: what needs a human first), then every step, the
    rollback attempts and the resolutions' full audit trail."""
    run = detail.summary
    lines = [
        f"# Incident bundle: run {_code(run.run_id)}",
        "",
        f"Exported {_code(exported_at or now_iso())} by ledgerx from {_code(run.source)}.",
        "",
    ]
    checklist = plan.to_markdown(detail).splitlines()
    lines += ["#" + line if line.startswith("#") else line for line in checklist]
    lines += ["", f"## Steps ({len(detail.steps)})", ""]
    lines += [
        "| seq | method | url | intent | outcome | status | correlation id | error |",
        "|---:|---|---|---|---|---|---|---|",
    ]
    for s in detail.steps:
        lines.append(
            "| "
            + " | ".join(
                _cell(v)
                for v in (
                    s.seq,
                    s.method,
                    s.url,
                    s.intent_ts,
                    s.outcome_ts,
                    s.derived_status,
                    s.bc_correlation_id,
                    s.error_message,
                )
            )
            + " |"
        )
    if detail.attempts:
        lines += ["", f"## Rollback attempts ({len(detail.attempts)})", ""]
        for a in detail.attempts:
            result = a.result if a.result is not None else "in doubt (no answer)"
            lines.append(
                f"- {_code(a.method)} {_code(a.url)} at {_code(a.intent_ts)}: "
                f"{_md_text(result, 60)} (HTTP {_code(a.http_status)})"
                + (f" — {_md_text(a.error_message, 300)}" if a.error_message else "")
            )
    if detail.resolutions:
        lines += ["", f"## Resolutions, oldest first ({len(detail.resolutions)})", ""]
        for r in detail.resolutions:
            url = f" at {_code(r.url)}" if r.url else ""
            lines.append(
                f"- step {_code(r.seq)}: **{_md_text(r.words, 40)}**{url} by {_code(r.who)} at "
                f"{_code(r.resolved_at)}: {_md_text(r.note, 1000)}"
            )
    return redact_urls("\n".join(lines)) + "\n"
