# TechMatch: two commands do everything on a fresh machine.
#   make run   - venv, install, migrate, load demo data, build the index, serve on http://127.0.0.1:8000
#   make test  - venv, install with test tools (and Chromium for the browser tests), lint, type-check, test
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DATA_DIR ?= var
export TECHMATCH_DATA_DIR ?= $(DATA_DIR)

.PHONY: help run test install install-dev assets browser lint typecheck pytest clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

install: $(VENV)/.installed  ## install the service into the venv

install-dev: $(VENV)/.installed-dev  ## install the service and the test tools

assets:  ## the console's chart library (Chart.js from the npm registry, into a gitignored folder)
	bash api/console/install_assets.sh

browser:  ## Debian's Chromium and CJK fonts for the browser tests (no browser download)
	@command -v chromium >/dev/null && fc-list :lang=zh | grep -q . || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; }

run: install assets  ## migrate, load the demo, build the index and serve on http://127.0.0.1:8000
	$(BIN)/techmatch db upgrade
	$(BIN)/techmatch demo load --if-empty
	$(BIN)/techmatch reindex
	TECHMATCH_DEV_MODE=1 $(BIN)/techmatch serve

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install-dev
	$(BIN)/mypy .

pytest: install-dev assets browser
	$(BIN)/pytest -v --durations=15

test: lint typecheck pytest  ## lint, type checks and the whole test suite (SQLite and PostgreSQL)

clean:
	rm -rf $(DATA_DIR) .pytest_cache .mypy_cache .ruff_cache
