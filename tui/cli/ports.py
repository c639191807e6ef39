"""The ports ledgerx listens on by default, in one place: the CLI parser names them in its help
without importing the commands (``serve`` pulls in logging and textual-serve)."""

# The demo's local API, which the demo's rollbacks are sent to.
DEMO_API_PORT = 8765
# `ledgerx serve`: not the demo API's port, so both run side by side (`make demo` + serve).
SERVE_PORT = 8766
