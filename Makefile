# ledgerx: every target bootstraps .venv from pyproject.toml when it is missing or stale.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test browser-test check lint format bench screenshots clean

# Editable in "compat" mode: one path line in a .pth file. The default mode installs an import
# finder that every Python start loads (pathlib, importlib.util, …): 15–25 ms on each
# `ledgerx` command, a tenth of a warm search's 0.2 s budget. setuptools calls compat
# transitional (its warning is silenced): if a future one refuses it, the default mode is
# installed instead.
EDITABLE := --config-settings editable_mode=compat

$(STAMP): pyproject.toml Makefile
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	PYTHONWARNINGS=ignore $(BIN)/python -m pip install --quiet -e '.[dev]' $(EDITABLE) || \
		$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# The browser test's extra (Playwright, no browser download) on top of the dev install.
BROWSER_STAMP := $(VENV)/.browser-stamp
CHROMIUM ?= /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(BROWSER_STAMP): $(STAMP)
	PYTHONWARNINGS=ignore $(BIN)/python -m pip install --quiet -e '.[dev,browser]' $(EDITABLE) || \
		$(BIN)/python -m pip install --quiet -e '.[dev,browser]'
	@touch $(BROWSER_STAMP)

demo: $(STAMP)
	$(BIN)/ledgerx --demo

test: $(STAMP)
	$(BIN)/python -m pytest -q -n auto

# `ledgerx serve` in a real browser: Debian's Chromium (installed when missing), headless,
# driven by Playwright; saves screenshots/serve-browser.png (the README's picture).
browser-test: $(BROWSER_STAMP)
	@test -x $(CHROMIUM) || { echo "browser-test: installing Debian's chromium"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium >/dev/null; }
	LEDGERX_BROWSER_TESTS=1 LEDGERX_CHROMIUM=$(CHROMIUM) $(BIN)/python -m pytest -q -p no:randomly tests/browser

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

check: lint test

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# make bench BENCH_ARGS="--only formats,before-formats --reps 3": some parts (see python -m bench -h).
BENCH_ARGS ?=
bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

screenshots: $(STAMP)
	$(BIN)/python -m tui.screenshots screenshots

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info
