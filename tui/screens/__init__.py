"""The screens of the ledgerx TUI, one per file, each with its ``.tcss`` beside it."""
