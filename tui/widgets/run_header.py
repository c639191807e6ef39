"""The run screen's header: verdict first, then stamped vs derived state, liveness and diagnosis.

Everything shown is what ``ledger_core`` derived (``RunSummary``); this widget only lays it
out. Ledger text goes through ``safe_text``; the file is named, never its directory, so
screenshots carry no machine-specific paths.
"""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.widgets import Static

from ledger_core.models import RunSummary
from ledger_core.rollback import Profiles
from ledger_core.sanitize import clean
from ledger_core.textfit import shorten_middle
from ledger_core.timeutil import format_duration, to_epoch
from ledger_core.triage import display_with_zone

from .mono import ALARM, for_mode, uncoloured
from .safe import liveness_text, safe_text, state_text, verdict_text


def profile_text(
    name: str | None,
    profiles: Profiles | None,
    readonly: bool,
    profiles_error: str | None = None,
) -> Text:
    """The run's profile and whether this session could write through it, in words."""
    out = Text()
    if not name:
        out.append("none recorded", style="bold red")
        return out
    out.append_text(safe_text(name, 60, style="bold"))
    profile = profiles.get(name) if profiles is not None else None
    if profiles_error:
        # Not "not in the file": the file itself cannot be read, so nothing in it is known.
        out.append(" (the profiles file cannot be used: writes refused)", style="bold red")
    elif profile is None:
        out.append(" (not in the profiles file: writes refused)", style="bold red")
    elif getattr(profile, "misspelled", ()):
        out.append(" (a safety key is misspelled or misplaced: writes refused)", style="bold red")
    elif profile.disable_writes:
        out.append(" (writes disabled)", style="bold red")
    else:
        out.append(" (writes allowed)", style="green")
    if readonly or (profiles is not None and profiles.readonly):
        out.append(" · session read-only", style="bold yellow")
    return out


def _duration(summary: RunSummary, now: float) -> Text:
    start, finish = to_epoch(summary.started_at), to_epoch(summary.finished_at)
    if start is not None and finish is not None:
        return Text(format_duration(finish - start))
    activity = to_epoch(summary.last_activity)
    out = Text("not finished", style="yellow")
    if start is not None and activity is not None:
        out.append(f" · ran {format_duration(activity - start)}")
    if activity is not None:
        out.append(f" · idle {format_duration(now - activity)}")
    return out


def _moment(ts: str | None, utc: bool = False) -> Text:
    """A timestamp to the second in the local zone (or UTC), the zone named; the full value is
    in the ledger (and the step detail). An odd value is shown raw."""
    shown = display_with_zone(ts, utc=utc)
    if shown is None:
        return safe_text(ts or "—", 40, style="dim" if not ts else "yellow")
    return Text(shown)


def _pair(label: str, value: Text) -> Text:
    out = Text(f"{label} ", style="dim")
    out.append_text(value)
    return out


def render_header(
    summary: RunSummary,
    profiles: Profiles | None,
    *,
    readonly: bool,
    now: float,
    mono: bool = False,
    profiles_error: str | None = None,
    utc: bool = False,
) -> Text:
    """The header as one ``Text``: states, counts, one line per diagnosis, then the facts."""
    sep = Text("  ")
    verdict = summary.verdict or summary.state
    title = for_mode(verdict_text(verdict), mono, verdict)
    title.append("  Run ", style="bold")
    # Cut in its middle if ever too long: ids that start alike differ at their end.
    title.append(shorten_middle(clean(summary.run_id, None), 120), style="bold")
    title.append("  state ", style="dim")
    title.append_text(for_mode(state_text(summary.state), mono, summary.state))
    if summary.stamp_mismatch and summary.liveness == "alive":
        # A live writer has simply not stamped its final state yet: not a stale stamp.
        title.append("  stamped ", style="dim")
        title.append_text(state_text(summary.stamped_state))
        title.append(" (still being written)", style="dim")
    elif summary.stamp_mismatch:
        title.append("  stamped ", style="dim")
        title.append_text(state_text(summary.stamped_state))
        title.append(" (mismatch)", style="bold yellow")
    elif summary.stamped_state is None:
        title.append("  (nothing stamped)", style="dim")
    else:
        title.append("  (stamp agrees)", style="dim")
    title.append("  liveness ", style="dim")
    title.append_text(for_mode(liveness_text(summary.liveness), mono, summary.liveness))
    # Why the liveness is what it is: the first diagnosis line says it (pid, reason).

    if summary.format == "bcli":
        profile = profile_text(summary.profile, profiles, readonly, profiles_error)
    else:  # the tool's own profile name: ledgerx never writes through it (no rollback)
        profile = safe_text(summary.profile or "—", 60, style="bold")
        profile.append(" (read-only format)", style="dim")
    where = sep.join(
        [
            _pair("profile", profile),
            _pair("env", safe_text(summary.environment or "—", 40)),
            _pair("company", safe_text(summary.company or "—", 60)),
        ]
    )
    source = sep.join(
        [
            _pair("file", safe_text(Path(summary.source).name, 80)),
            _pair("manifest", safe_text(summary.manifest_path or "—", 120)),
        ]
    )
    times = sep.join(
        [
            _pair("started", _moment(summary.started_at, utc)),
            _pair("finished", _moment(summary.finished_at, utc)),
            _duration(summary, now),
        ]
    )
    counts = summary.counts
    tally = Text()
    noun = "step" if summary.step_count == 1 else "steps"
    tally.append(f"{summary.step_count:,} {noun}: ", style="dim")
    tally.append(f"{counts.committed:,} committed", style="green" if counts.committed else "dim")
    tally.append(", ")
    failed = (ALARM if mono else "bold red") if counts.failed else "dim"
    tally.append(f"{counts.failed:,} failed", style=failed)
    tally.append(", ")
    doubt = (ALARM if mono else "bold magenta") if counts.in_doubt else "dim"
    tally.append(f"{counts.in_doubt:,} in doubt", style=doubt)
    for name in ("rolled_back", "rollback_failed", "unknown", "skipped"):
        value = getattr(counts, name)
        if value:
            tally.append(f", {value:,} {name.replace('_', ' ')}")
    if any(summary.resolved):  # in-doubt steps a person resolved (ledger_core.triage.resolutions)
        landed, not_landed, unknown = summary.resolved
        tally.append(
            f" · resolved: {landed} landed, {not_landed} did not land, {unknown} still unknown",
            style="cyan",
        )
    # Most urgent first: when a small terminal cuts the header, it cuts the plain facts.
    lines = [title, tally]
    for sentence in summary.sentences("tui"):
        line = Text("▸ ", style="bold yellow")
        line.append_text(safe_text(sentence, 600))
        lines.append(line)
    lines += [where, source, times]
    if summary.format != "bcli":  # another tool's ledger: its name and its own words
        own = _pair("format", safe_text(summary.format, 40, style="bold"))
        for label, value in summary.extras:
            own.append("  ")
            own.append_text(_pair(label, safe_text(value, 120)))
        lines.append(own)
    header = Text("\n").join(lines)
    return uncoloured(header) if mono else header


class RunHeader(Static):
    """Shows ``render_header`` for one run summary; call ``show`` when the summary changes."""

    DEFAULT_CSS = """
    RunHeader {
        height: auto;
        padding: 0 1;
        border-bottom: solid $primary 50%;
    }
    """

    shown: Text = Text()
    """What the header shows now (tests read it as text)."""

    def show(
        self,
        summary: RunSummary,
        profiles: Profiles | None,
        *,
        readonly: bool,
        now: float,
        profiles_error: str | None = None,
    ) -> None:
        mono = bool(getattr(self.app, "no_color", False))
        utc = bool(getattr(self.app, "show_utc", False))
        self.shown = render_header(
            summary,
            profiles,
            readonly=readonly,
            now=now,
            mono=mono,
            profiles_error=profiles_error,
            utc=utc,
        )
        self.update(self.shown)
