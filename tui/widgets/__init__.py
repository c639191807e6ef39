"""Reusable widgets of the ledgerx TUI, one per file."""
