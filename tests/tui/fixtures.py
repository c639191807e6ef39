"""Fixed-time ledgers and a profiles file for the TUI tests and snapshots.

Everything is deterministic: fixed timestamps, a fixed ``FIXED_NOW``, a dead writer recorded
as a pid that cannot exist with this machine's host name (so it derives ``dead`` anywhere),
and a "live" writer recorded as the test process itself. Sources are given relative to the
test's working directory (``ledgers``), so no tmp path ever reaches a snapshot.

Other TUI test modules may append their own builders at the end of this file.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from ledger_factory import (
    BASE_URL,
    DEAD_PID,
    RunSpec,
    StepSpec,
    add_writer,
    make_garbage,
    make_ledger,
    make_zero_byte,
)

from ledger_core.timeutil import to_epoch

FIXED_NOW_ISO = "2026-05-17T10:00:00.000000Z"
FIXED_NOW = to_epoch(FIXED_NOW_ISO)
assert FIXED_NOW is not None

LEDGER_DIR = "ledgers"
PROFILES = """\
[profiles.sandbox]
base_url = "https://api.example.test"

[profiles.production]
base_url = "https://api.example.test"
disable_writes = true
"""

HOSTILE_ID = "evil-[/]-[@click=app.quit]x"
HOSTILE_ERROR = "E" * 5000
IDS = {
    "completed": "0800-completed-orders",
    "crashed": "0830-crashed-orders",
    "partial": "0845-partial-invoices",
    "patch": "0900-patch-delete",
    "rolled_back": "0700-rolled-back",
    "production": "0915-production-sync",
    "live": "0958-live-import",
    "hostile": HOSTILE_ID,
}


def _ts(hour: int, minute: int, second: int = 0, micro: int = 0) -> str:
    return f"2026-05-17T{hour:02d}:{minute:02d}:{second:02d}.{micro:06d}Z"


def _steps(hour: int, minute: int, kinds: list[str], method: str = "POST") -> list[StepSpec]:
    """One step per kind (committed/failed/in_doubt/rolled_back), a second apart."""
    out = []
    for n, kind in enumerate(kinds, start=1):
        intent = _ts(hour, minute, n)
        outcome = _ts(hour, minute, n, 250_000 + n * 10_000)
        url = f"{BASE_URL}/salesOrders"
        if kind == "committed":
            out.append(StepSpec.committed(n, method=method, intent_ts=intent, outcome_ts=outcome))
        elif kind == "failed":
            out.append(
                StepSpec.failed(
                    n, intent_ts=intent, outcome_ts=outcome, error_message="HTTP 409: conflict"
                )
            )
        elif kind == "in_doubt":
            out.append(StepSpec.in_doubt(n, intent_ts=intent, bc_correlation_id=None))
        elif kind == "rolled_back":
            out.append(StepSpec(n, status="rolled_back", intent_ts=intent, outcome_ts=outcome))
        else:
            raise ValueError(kind)
        out[-1].url = url if method == "POST" else f"{url}(id-{n})"
    return out


def fixture_runs() -> dict[str, RunSpec]:
    """The runs of the TUI fixture directory, by role."""
    hostile_step = StepSpec.failed(
        1,
        url=f"{BASE_URL}/x\x00y[/]\x1b]52;c;cm0gLXJm\x07\u202etxt.exe",
        intent_ts=_ts(9, 50, 1),
        outcome_ts=_ts(9, 50, 2),
        error_message=HOSTILE_ERROR,
    )
    return {
        "completed": RunSpec(
            IDS["completed"],
            state="completed",
            started_at=_ts(8, 0),
            finished_at=_ts(8, 0, 5),
            steps=_steps(8, 0, ["committed"] * 3),
        ),
        "crashed": RunSpec(
            IDS["crashed"],
            state="running",
            started_at=_ts(8, 30),
            steps=_steps(8, 30, ["committed", "committed", "in_doubt"]),
        ),
        "partial": RunSpec(
            IDS["partial"],
            state="partially_committed",
            started_at=_ts(8, 45),
            finished_at=_ts(8, 46),
            environment="staging",
            steps=_steps(8, 45, ["committed", "committed", "failed"]),
        ),
        "patch": RunSpec(
            IDS["patch"],
            state="completed",
            started_at=_ts(9, 0),
            finished_at=_ts(9, 0, 10),
            steps=_steps(9, 0, ["committed", "committed"], method="PATCH")
            + [
                StepSpec.committed(
                    3, method="DELETE", intent_ts=_ts(9, 0, 5), outcome_ts=_ts(9, 0, 6)
                )
            ],
        ),
        "rolled_back": RunSpec(
            IDS["rolled_back"],
            state="rolled_back",
            started_at=_ts(7, 0),
            finished_at=_ts(7, 30),
            steps=_steps(7, 0, ["rolled_back", "rolled_back"]),
        ),
        "production": RunSpec(
            IDS["production"],
            state="partially_committed",
            started_at=_ts(9, 15),
            finished_at=_ts(9, 16),
            profile="production",
            environment="production",
            company="ACME Corp",
            steps=_steps(9, 15, ["committed", "committed", "failed"]),
        ),
        "live": RunSpec(
            IDS["live"],
            state="running",
            started_at=_ts(9, 58),
            steps=_steps(9, 58, ["committed", "committed"]),
        ),
        "hostile": RunSpec(
            HOSTILE_ID,
            state="running",
            started_at=_ts(9, 50),
            profile="[@click=app.quit]x",
            environment="\x1b[2J\x1b[Hcleared",
            company="\u202eevil\x00nul",
            manifest_path="\x1b]52;c;cm0gLXJmIH4=\x07",
            steps=[hostile_step],
        ),
    }


def build_ledgers(directory: Path | str, *, with_problems: bool = True) -> Path:
    """Write one ``.db`` per fixture run into ``directory`` (plus two bad files)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    runs = fixture_runs()
    for role, run in runs.items():
        name = "hostile.db" if role == "hostile" else f"{run.run_id}.db"
        make_ledger(directory / name, [run])
    add_writer(directory / f"{IDS['crashed']}.db", IDS["crashed"], pid=DEAD_PID)
    # The live run's writer is this very process, with a heartbeat a minute before FIXED_NOW.
    live = directory / f"{IDS['live']}.db"
    add_writer(live, IDS["live"], pid=os.getpid())
    conn = sqlite3.connect(live, isolation_level=None)
    conn.execute("UPDATE writer SET heartbeat_at = ?", (_ts(9, 59),))
    conn.close()
    if with_problems:
        make_garbage(directory / "broken.db")
        make_zero_byte(directory / "empty.db")
    return directory


def write_profiles(path: Path | str) -> Path:
    path = Path(path)
    path.write_text(PROFILES)
    return path


def append_run(directory: Path | str, run_id: str, started_minute: int = 59) -> Path:
    """A new finished run file, as a writer adds one while the app runs."""
    path = Path(directory) / f"{run_id}.db"
    make_ledger(
        path,
        [
            RunSpec(
                run_id,
                state="completed",
                started_at=_ts(9, started_minute, 30),
                finished_at=_ts(9, started_minute, 40),
                steps=_steps(9, started_minute, ["committed"]),
            )
        ],
    )
    return path
