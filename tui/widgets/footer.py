"""The footer of every ledgerx screen: Textual's, made compact on narrow terminals.

At 80 columns the roomy style cut the last hints (``? Help``) off the runs list and the
rollback preview; the compact style (less padding) fits them all.
"""

from __future__ import annotations

from textual import events
from textual.widgets import Footer

COMPACT_BELOW = 100  # columns


class LedgerxFooter(Footer):
    """``Footer`` that switches to its compact style below ``COMPACT_BELOW`` columns."""

    def on_resize(self, event: events.Resize) -> None:
        self.compact = event.size.width < COMPACT_BELOW
