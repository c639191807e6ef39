"""ledgerx's user interfaces: the Textual app and the command line, thin layers over ledger_core.

Importing this package imports nothing heavy; ``tui.app`` pulls in Textual only when the TUI
is opened, so ``ledgerx list`` starts fast.
"""
