"""Browser tests run only from ``make browser-test`` (it sets LEDGERX_BROWSER_TESTS=1).

They need Playwright (the ``browser`` extra) and Debian's Chromium, which ``make test`` does
not install; the make target installs both, then runs this directory.
"""

from __future__ import annotations

import os

if not os.environ.get("LEDGERX_BROWSER_TESTS"):
    collect_ignore_glob = ["test_*.py"]
