"""The app side of ``ledgerx serve``: the read-only reason, and an end when the server is gone.

``ledgerx serve`` starts one ``python -m tui.cli.main --served …`` per browser session. Such a
process is read-only with the reason ``SERVED_READONLY`` (quoted by the core's refusal) unless
the server was started with ``--allow-writes``. It must also not outlive its server: if the
server is killed outright (SIGKILL, no chance to end its sessions), the app notices its parent
changed and ends itself through the same SIGTERM path textual's web driver already handles.
"""

from __future__ import annotations

import os
import signal
import threading

SERVED_READONLY = "served read-only; `ledgerx serve --allow-writes` allows rollbacks"
"""The read-only reason of a served app; the refusal sentence quotes it."""

_CHECK_EVERY = 1.0  # seconds


def end_with_parent() -> None:
    """Start a daemon thread that SIGTERMs this process once its parent process is gone."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            threading.Event().wait(_CHECK_EVERY)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="ledgerx-served-parent", daemon=True).start()
