"""The ``ledgerx`` command line: parses arguments, calls ledger_core, prints."""
