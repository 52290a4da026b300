# The two commands a new machine needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint check-seeds bench load clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $(STAMP)

# The npm tools the tests drive (lint, typed client, explorer build), from the lock file.
NODE_STAMP := frontend/node_modules/.installed
$(NODE_STAMP): frontend/package.json frontend/package-lock.json
	npm ci --prefix frontend --no-audit --no-fund
	touch $(NODE_STAMP)

## Load the seeds into the embedded SQLite database and serve the API on :8000.
run: $(STAMP)
	$(BIN)/atlas load
	$(BIN)/atlas serve

## Lint, type-check and run every test on SQLite and PostgreSQL.
test: $(STAMP)
	scripts/system-packages
	$(MAKE) $(NODE_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy app tests bench
	$(BIN)/pytest

## Atlas vs Datasette vs a bare ceiling on 3M synthetic observations (about 10 minutes).
bench: $(STAMP)
	scripts/system-packages
	$(BIN)/python -m bench

## 64 connections for 60 s per engine, pools below the concurrency; errors and memory.
load: $(STAMP)
	scripts/system-packages
	$(BIN)/python -m bench.load

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy app tests bench

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
