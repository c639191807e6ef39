"""``ledgerx demo DIR``: write demo ledgers and a demo profiles file into a new or empty DIR.

The batches really run against the bundled demo API, started on 127.0.0.1 for the build only.
Its port is fixed where possible (8765, else a free one) because ``DIR/profiles.toml`` points
the ``sandbox`` profile at it: to roll a demo run back later, start the API again on that port
with the state file the build left, and its records (the ones the batches created) are still
there::

    python -m ledger_core.demo.api --port 8765 --state DIR/demo-api.json

The command prints exactly that line. No writer is left running when it exits (the
still-running demo run exists under ``ledgerx --demo``, which keeps its writer alive).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from ledger_core.demo import LEDGERS_NAME, DemoApi, build_demo
from ledger_core.sanitize import clean

from .output import fail
from .ports import DEMO_API_PORT

DEFAULT_PORT = DEMO_API_PORT
STATE_NAME = "demo-api.json"
EXIT_OK, EXIT_USAGE = 0, 2
_SHOWN = 3  # entries named when DIR is not empty


def start_api(directory: Path, port: int = DEFAULT_PORT) -> DemoApi:
    """The demo API on ``port`` if it is free, else on any free port; records kept in DIR."""
    state = directory / STATE_NAME
    try:
        return DemoApi(port, state_path=state).start()
    except OSError:
        return DemoApi(0, state_path=state).start()


def _listed(names: list[str]) -> str:
    shown = [clean(name, 60) for name in sorted(names)[:_SHOWN]]
    more = len(names) - len(shown)
    return ", ".join(shown) + (f" and {more} more" if more else "")


def refusal_for(directory: Path) -> str | None:
    """Why ``directory`` must not receive the demo, or ``None`` when it is new or empty.

    The demo writes ``profiles.toml``, and ``~/.config/ledgerx`` is where a person's real
    profiles live: any existing entry (a dotfile too) refuses, and nothing is touched.
    """
    try:
        if not directory.is_dir():
            if directory.exists() or directory.is_symlink():
                return f"{directory} exists and is not a directory; choose a new or empty one"
            return None
        with os.scandir(directory) as entries:
            names = [e.name + ("/" if e.is_dir(follow_symlinks=False) else "") for e in entries]
    except OSError as exc:
        return f"{directory} cannot be read ({exc.strerror or exc}); choose a new or empty one"
    if not names:
        return None
    return (
        f"{directory} is not empty (it holds {_listed(names)}); ledgerx demo writes only into "
        "a new or empty directory, so that none of your files (profiles.toml above all) is "
        "replaced. Choose a new or empty directory."
    )


def run_demo(args: argparse.Namespace) -> int:
    directory = Path(args.dir).expanduser()
    refusal = refusal_for(directory)
    if refusal is not None:
        fail(refusal)
        return EXIT_USAGE
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        fail(f"{directory}: cannot be created ({exc.strerror})")
        return EXIT_USAGE
    started = time.monotonic()
    api = start_api(directory)
    port = api.port
    try:
        demo = build_demo(directory, api.base_url, live=False)
    finally:
        api.stop()
    demo.stop()
    took = time.monotonic() - started
    crashed = demo.runs.get("crashed_in_doubt", "")
    shown_dir = clean(str(directory), 500)
    common = f"--ledger-dir {shown_dir}/{LEDGERS_NAME} --profiles {shown_dir}/profiles.toml"
    out = sys.stdout
    out.write(
        f"Wrote {len(demo.runs)} demo runs to {clean(str(demo.ledger_dir), 500)} and "
        f"profiles to {clean(str(demo.profiles_path), 500)} in {took:.1f}s.\n\n"
        "The demo API stopped with this command. To roll demo runs back, start it again on the "
        "same port:\n"
        f"  {clean(sys.executable, 300)} -m ledger_core.demo.api --port {port} "
        f"--state {shown_dir}/{STATE_NAME}\n\n"
        "Then try:\n"
        f"  ledgerx {common} list\n"
        f"  ledgerx {common} rollback {crashed[:8]} --dry-run\n"
        f"  ledgerx {common}            # the terminal UI\n"
    )
    return EXIT_OK
