"""The TUI's remembered preferences (theme, UTC or local time, hint bar, grouping), in a file
of its own.

Where: ``$LEDGERX_STATE_DIR``, else ``$XDG_STATE_HOME/ledgerx``, else ``~/.local/state/ledgerx``
(``LEDGERX_STATE_DIR=off`` remembers nothing). Only ledgerx writes that file, atomically (a
temporary file renamed over it), so a crash never leaves half a file; an unreadable or
malformed file is ignored — preferences are a convenience, never a reason not to start.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from ledger_core.triage import GROUP_FACETS

FILE_NAME = "tui-settings.json"


def settings_dir() -> Path | None:
    env = os.environ.get("LEDGERX_STATE_DIR")
    if env is not None:
        return None if env.strip().lower() in ("", "off", "0", "none") else Path(env)
    xdg = os.environ.get("XDG_STATE_HOME")
    base = Path(xdg) if xdg else Path("~/.local/state").expanduser()
    return base / "ledgerx"


@dataclass(slots=True)
class Settings:
    """What the TUI remembers between sessions."""

    theme: str | None = None
    utc: bool = False  # ``t``: times in UTC instead of the local zone
    hints: bool = True
    """The first-time hint bar on the runs list; ``x`` dismisses it, the palette restores it."""
    group_by: str | None = None
    """The runs list's grouping (``b``): one of ``triage.facets.GROUP_FACETS``, or none."""

    @classmethod
    def load(cls, directory: Path | None = None) -> Settings:
        directory = directory if directory is not None else settings_dir()
        if directory is None:
            return cls()
        try:
            data = json.loads((directory / FILE_NAME).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        if not isinstance(data, dict):
            return cls()
        theme = data.get("theme")
        hints = data.get("hints", True)
        group_by = data.get("group_by")
        return cls(
            theme=theme if isinstance(theme, str) and len(theme) < 100 else None,
            utc=data.get("utc") is True,
            hints=hints if isinstance(hints, bool) else True,
            group_by=group_by if group_by in GROUP_FACETS else None,
        )

    def save(self, directory: Path | None = None) -> bool:
        """Write the settings; False (and nothing written) when the directory cannot be used."""
        directory = directory if directory is not None else settings_dir()
        if directory is None:
            return False
        try:
            directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tui-settings-", dir=directory)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    json.dump(asdict(self), handle)
                os.replace(tmp, directory / FILE_NAME)
            except BaseException:
                os.unlink(tmp)
                raise
        except OSError:
            return False
        return True
