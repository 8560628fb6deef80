# ipledge — run `make help` for the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# PostgreSQL (embedded) wants a private runtime directory.
export XDG_RUNTIME_DIR ?= $(CURDIR)/.ipledge/run

.PHONY: help install run test lint format typecheck bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## create .venv and install the project with its dev tools

$(XDG_RUNTIME_DIR):
	mkdir -p -m 700 $(XDG_RUNTIME_DIR)

run: install | $(XDG_RUNTIME_DIR) ## serve the API on http://127.0.0.1:8000 with demo data (embedded PostgreSQL unless DATABASE_URL is set)
	$(BIN)/ipledge serve --demo

lint: install ## ruff (lint + format check) and mypy strict on src/
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

format: install ## apply ruff fixes and formatting
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

test: install lint | $(XDG_RUNTIME_DIR) ## lint, then the whole suite against a real PostgreSQL (TEST_DATABASE_URL or embedded)
	$(BIN)/python -m pytest -q

bench: install | $(XDG_RUNTIME_DIR) ## run every benchmark in bench/ (prints figures and ratios to baselines)
	@for f in bench/bench_*.py; do echo "== $$f"; $(BIN)/python $$f || exit 1; done

clean: ## remove the virtual environment and local data (the embedded database!)
	rm -rf $(VENV) .ipledge .pytest_cache .mypy_cache .ruff_cache
