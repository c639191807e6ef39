"""``ledgerx --demo``: fresh demo ledgers, the demo API on loopback, the TUI on both, then tidy up.

Everything lives in a new temporary directory that is removed on exit, together with the
demo's live writer process and the API server, so a demo leaves nothing behind. The rollback
in the demo really sends DELETE requests — to the bundled API on 127.0.0.1, nowhere else, where
each takes a visible moment. While the TUI is open the demo keeps moving (``DemoWorld``: a new
batch every 20–30 s, now and then one killed mid-request), two runs' rollbacks meet a failing
and a hanging DELETE once, and the ledger directory holds the kinds of unreadable files
operators meet (``p`` lists them).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from ledger_core.sanitize import clean

from .cli.output import stale_after_seconds

DELETE_DELAY = (0.15, 0.3)  # seconds per DELETE at the demo API: progress is seen as it lands
# How the demo's app differs from a plain session: two minutes must tell the story, so it opens
# on the runs that need a person.
DEMO_APP_OPTIONS = {"title_note": "demo", "initial_filter": "attention"}


def _say(message: str) -> None:
    print(f"ledgerx: {clean(message, 2000)}", file=sys.stderr, flush=True)


def run_demo_tui(args: argparse.Namespace) -> int:
    """Build the demo, run the TUI on it, and remove every trace of it afterwards."""
    from ledger_core.demo import (
        DemoApi,
        DemoWorld,
        build_demo,
        install_demo_faults,
        write_problem_files,
    )
    from ledger_core.ledgers import Sources
    from ledger_core.rollback import ProfilesSource, load_profiles

    from .app import LedgerxApp

    directory = Path(tempfile.mkdtemp(prefix="ledgerx-demo-"))
    api = DemoApi()
    demo = world = None
    try:
        api.start()
        demo = build_demo(directory, api.base_url)
        api.delete_delay = DELETE_DELAY  # not while building: the demo opens sooner
        profiles = load_profiles(directory / "profiles.toml")
        sandbox = profiles.get("sandbox")
        install_demo_faults(api, demo.ledger_dir, demo.runs, sandbox.timeout if sandbox else 5.0)
        write_problem_files(demo.ledger_dir)
        world = DemoWorld(demo.ledger_dir, api.base_url).start()
        _say(
            f"demo data in {directory} (ledgers/, profiles.toml); demo API on {api.base_url}. "
            "Both are removed when you quit."
        )
        app = LedgerxApp(
            Sources.from_args([directory / "ledgers"], []),
            # Read at each decision, as everywhere: an edit to the demo's file is seen.
            ProfilesSource.lookup(directory / "profiles.toml"),
            readonly=bool(getattr(args, "readonly", False)),
            stale_after=stale_after_seconds(args),
            **DEMO_APP_OPTIONS,
        )
        app.run()
    finally:
        if world is not None:
            world.stop()
        if demo is not None:
            demo.stop()
        api.stop()
        shutil.rmtree(directory, ignore_errors=True)
    _say(f"demo finished; {directory} removed.")
    return 0
