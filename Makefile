# The two commands a new machine needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
FAST_TESTS := tests/api tests/test_seeding.py tests/test_kinds.py tests/test_migrations.py \
	tests/test_imports.py tests/test_dependencies.py tests/test_locations.py tests/test_readme.py \
	tests/test_extract.py \
	tests/test_precision.py

.PHONY: run test check lint bench load abuse clean lock audit

# The versions installed are the ones the lock pins, each checked against its hash, so the
# versions tested are the versions run (the Dockerfile installs requirements.lock the same
# way); the project itself goes on top, without resolving anything again. The lock is
# complete, so nothing is resolved (--no-deps) and `pip check` proves it: resolving made
# the venv's pip 23.2 look up jusText's `lxml[html_clean]` apart from the pinned lxml, take
# the newest release, and refuse it as unpinned.
$(STAMP): pyproject.toml requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --no-deps --require-hashes -r requirements-dev.lock
	$(BIN)/pip check
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

## Re-pin every dependency (after editing pyproject.toml): requirements.lock for the image,
## requirements-dev.lock for development and CI, requirements-build.lock for the image's
## wheel build (the build backend), all with hashes.
## The image's pins are taken within the development ones (-c), so a package both install
## is the same version in both: a development tool's cap (typer, httpx) holds for the image.
LOCK := $(BIN)/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe \
	--no-emit-index-url --no-emit-find-links
lock: $(STAMP)
	$(LOCK) --extra dev --extra bench -o requirements-dev.lock pyproject.toml
	$(LOCK) -c requirements-dev.lock -o requirements.lock pyproject.toml
	$(LOCK) --build-deps-for wheel --only-build-deps -o requirements-build.lock pyproject.toml

## Known vulnerabilities in the pinned versions (needs an advisory database: PyPI's or OSV's).
audit: $(STAMP)
	scripts/audit

# The npm tools the tests drive (lint, typed client, explorer build), at the versions the
# lock file pins. Not `npm ci`: it refuses a lock without Vite's optional Windows-only
# dependency (napi-windows-process-start-time), which the registry here does not serve;
# `npm install --no-save` installs the locked tree and leaves the lock as it is.
NODE_STAMP := frontend/node_modules/.installed
$(NODE_STAMP): frontend/package.json frontend/package-lock.json
	npm install --prefix frontend --no-save --no-audit --no-fund
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
	$(BIN)/mypy app tests bench harness
	$(BIN)/pytest

## The edit loop: lint, types and the in-process tests on SQLite (no system packages, no
## servers, nothing outside the repository: tests that need ../shared/seeds are skipped with
## the reason), about a minute; `make test` runs everything on both engines.
check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy app tests bench harness
	$(BIN)/pytest -q -p no:cacheprovider -k "not postgresql" -m "not server" $(FAST_TESTS)

## Atlas vs Datasette vs a bare ceiling on 3M synthetic observations (about 10 minutes).
bench: $(STAMP)
	scripts/system-packages
	$(BIN)/python -m bench

## 64 connections for 60 s per engine, pools below the concurrency; errors and memory.
load: $(STAMP)
	scripts/system-packages
	$(BIN)/python -m bench.load

## One client holding 3,000 connections, and 1,000 slow readers, against one worker (~3 min).
abuse: $(STAMP)
	$(BIN)/python -m bench.abuse

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/mypy app tests bench harness

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
