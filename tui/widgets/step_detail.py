"""The detail pane of the run screen: everything about the selected step, shown literally.

Full URL, error text (wrapped, sanitised, cut only when huge), body hash, rollback URL,
correlation id, the step's rollback attempts with their results, and — for a step in doubt —
what that means in words. Every ledger value goes through ``safe_text``: never markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from ledger_core.derive import resolution_consequence
from ledger_core.models import RollbackAttempt, Step
from ledger_core.timeutil import format_duration
from ledger_core.triage import Resolution, display_with_zone

from .mono import for_mode
from .safe import safe_text, state_text

# Long enough for any real URL or error; a 1 MB field is cut with a note saying how much.
FIELD_LIMIT = 4000
# A longer error is shortened in place (so the fields below it stay on screen) and shown
# whole at the end of the pane.
ERROR_PREVIEW = 300

IN_DOUBT_WORDS = (
    "In doubt: the intent was recorded but no outcome ever was. The request may or may not "
    "have reached the server — check the server by hand (use the correlation id if there is "
    "one) before retrying or rolling back. Rollback will not touch this step."
)
IN_DOUBT_LIVE_WORDS = (
    "No outcome yet: a writer is still running, so this request may be in flight right now."
)
RESOLVE_HINT = " Found out? Press v to record whether it landed."
UNKNOWN_WORDS = (
    "Unknown: the recorded status is not one the runner defines; treat it like a step in doubt."
)


def _value(value: Text | str | None) -> Text:
    if value is None or (isinstance(value, Text) and not value.plain) or value == "":
        return Text("—", style="dim")
    return value if isinstance(value, Text) else Text(value)


def _stamp(ts: str | None) -> Text:
    """The timestamp exactly as stored (UTC), then the local time with its zone."""
    text = safe_text(ts, 60)
    local = display_with_zone(ts, "%H:%M:%S")
    if local is not None and not local.endswith(" UTC"):
        text.append(f"  ({local})", style="dim")
    return text


def _fields(rows: Sequence[tuple[str, Text | str | None]], mono: bool = False) -> Table:
    """Label/value rows; long values wrap under their own column, not under the labels."""
    grid = Table.grid(padding=(0, 1), expand=True)
    grid.add_column(style="bold", no_wrap=True, width=12)
    grid.add_column(ratio=1, overflow="fold")
    for label, value in rows:
        grid.add_row(label, for_mode(_value(value), mono))
    return grid


def _number(value: int | None) -> str:
    return "?" if value is None else str(value)  # a stored id that is not an integer


def _attempt(attempt: RollbackAttempt, mono: bool) -> Text:
    """One rollback attempt: the request, then what came back (or that nothing did)."""
    line = safe_text(attempt.method, 10)
    line.append(" ")
    line.append_text(safe_text(attempt.url, FIELD_LIMIT))
    line.append("\n→ ")
    if attempt.in_doubt:
        line.append_text(for_mode(Text("NO ANSWER", style="bold magenta"), mono, "in_doubt"))
        line.append(": the DELETE may have landed; check by hand")
    else:
        result = attempt.result or "unknown"
        line.append_text(for_mode(state_text(result), mono, result))
        if attempt.http_status is not None:
            line.append(f" · HTTP {attempt.http_status}")
    line.append(" · sent ")
    line.append_text(safe_text(attempt.intent_ts, 40))
    if attempt.error_message:
        line.append("\nerror: ", style="bold")
        line.append_text(safe_text(attempt.error_message, FIELD_LIMIT, style="red"))
    return line


def render_step(
    step: Step,
    attempts: Sequence[RollbackAttempt] = (),
    *,
    writer_alive: bool = False,
    mono: bool = False,
    resolution: Resolution | None = None,
) -> Group:
    """The whole detail of one step (wraps to the pane's width; ``mono``: NO_COLOR);
    ``resolution``: what a person found out about it (``ledger_core.triage.resolutions``)."""
    lines: list[Text] = []
    title = Text("Step ", style="bold")
    title.append_text(safe_text(step.seq if step.seq is not None else "?", 20, style="bold"))
    title.append("  ")
    title.append_text(for_mode(state_text(step.derived_status), mono, step.derived_status))
    if step.status is not None and step.status != step.derived_status:
        title.append("  (recorded: ")
        title.append_text(safe_text(step.status, 60))
        title.append(")")
    lines.append(title)
    if resolution is not None and step.derived_status in ("in_doubt", "unknown"):
        said = Text("Resolved as ", style="bold cyan")
        said.append(resolution.words.upper(), style="bold cyan")
        said.append(" by ")
        said.append_text(safe_text(resolution.who, 60))
        said.append(" at ")
        said.append_text(_stamp(resolution.resolved_at))
        said.append(": ")
        said.append_text(safe_text(resolution.note, 1000))
        if resolution.url:
            said.append("\nrecord: ")
            said.append_text(safe_text(resolution.url, FIELD_LIMIT))
        lines.append(said)
    settled = resolution is not None and resolution.outcome != "unknown"
    if settled:  # what the resolution means now, in the core's words
        now = resolution_consequence(step.method, resolution)
        lines.append(Text(f"Now: {now[0].upper()}{now[1:]}.", style="cyan"))
    if step.derived_status == "in_doubt" and not settled:
        words = IN_DOUBT_LIVE_WORDS if writer_alive else IN_DOUBT_WORDS
        lines.append(Text(words + RESOLVE_HINT, style="bold magenta"))
    elif step.derived_status == "unknown" and not settled:
        lines.append(Text(UNKNOWN_WORDS, style="magenta"))
    request = safe_text(step.method, 20)
    request.append(" ")
    request.append_text(safe_text(step.url, FIELD_LIMIT))
    outcome = _stamp(step.outcome_ts) if step.outcome_ts else Text("none", "bold magenta")
    if step.outcome_ts is None and step.format != "bcli" and step.derived_status != "in_doubt":
        outcome = Text("none recorded by this format", style="dim")  # e.g. an event log
    latency = None if step.latency_ms is None else format_duration(step.latency_ms / 1000.0)
    error = (
        safe_text(step.error_message, ERROR_PREVIEW, style="red") if step.error_message else None
    )
    long_error = step.error_message is not None and len(step.error_message) > ERROR_PREVIEW
    parts: list[RenderableType] = [for_mode(line, mono) for line in lines]
    parts.append(
        _fields(
            [
                ("request", request),
                ("error", error),
                ("intent", _stamp(step.intent_ts)),
                ("outcome", outcome),
                ("latency", latency),
                ("correlation", safe_text(step.bc_correlation_id, FIELD_LIMIT)),
                ("body hash", safe_text(step.body_hash, FIELD_LIMIT)),
                ("rollback URL", safe_text(step.rollback_url, FIELD_LIMIT)),
            ],
            mono,
        )
    )
    if step.extras:  # the format's own words: a cr action's kind and upstream_id, an event's turn
        rows = [(label, safe_text(value, FIELD_LIMIT)) for label, value in step.extras]
        parts.append(_fields([("format", safe_text(step.format, 40)), *rows], mono))
    if attempts:
        rows = [(f"rollback #{_number(a.attempt_id)}", _attempt(a, mono)) for a in attempts]
        parts.append(_fields(rows, mono))
    elif step.format != "bcli":
        parts.append(_fields([("rollback", Text("none for this format", style="dim"))], mono))
    else:
        parts.append(_fields([("rollback", Text("no attempts recorded", style="dim"))], mono))
    if long_error:
        full = safe_text(step.error_message, FIELD_LIMIT, style="red")
        parts.append(_fields([("whole error", full)], mono))
    return Group(*parts)


class StepDetail(VerticalScroll):
    """A scrollable pane showing ``render_step`` for the selected step (tab to scroll it)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "scroll_down", "Down", show=False),
        Binding("k", "scroll_up", "Up", show=False),
    ]

    DEFAULT_CSS = """
    StepDetail {
        height: auto;
        border-top: solid $primary 50%;
        padding: 0 1;
    }
    StepDetail > #step-detail-body {
        width: 1fr;
        height: auto;
    }
    """

    shown: RenderableType = Text("No step selected.", style="dim")
    """What the pane shows now (tests read it as text)."""

    def compose(self):
        yield Static(self.shown, id="step-detail-body")

    def show_step(
        self,
        step: Step | None,
        attempts: Sequence[RollbackAttempt] = (),
        *,
        writer_alive: bool = False,
        resolution: Resolution | None = None,
    ) -> None:
        """Show ``step`` (or a placeholder when ``None``, e.g. while its page loads)."""
        if step is None:
            self._show(Text("Loading step…", style="dim"))
        else:
            mono = bool(getattr(self.app, "no_color", False))
            self._show(
                render_step(
                    step, attempts, writer_alive=writer_alive, mono=mono, resolution=resolution
                )
            )
        self.scroll_home(animate=False)

    def show_message(self, message: str) -> None:
        """A plain note in place of a step (e.g. a run without steps)."""
        self._show(Text(message, style="dim"))

    def _show(self, renderable: RenderableType) -> None:
        self.shown = renderable
        self.query_one("#step-detail-body", Static).update(renderable)
