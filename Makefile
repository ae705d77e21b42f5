# Two commands on a fresh machine: `make run` and `make test`. Both create .venv first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ARGS ?=

.PHONY: install run store test fuzz bench bench-smoke profile docs lint format clean

install: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt -e .
	touch $(STAMP)

run: install
	$(BIN)/payments-server $(ARGS)

store: install
	$(BIN)/python examples/store_server/app.py $(ARGS)

# In parallel, 1.5 workers per core; the slowest tests start first (tests/conftest.py).
test: install
	$(BIN)/python -m pytest -n auto --dist worksteal $(PYTEST_ARGS)

# Schemathesis against the real server for about a minute (also part of `make test`).
fuzz: install
	$(BIN)/python -m pytest -s -q tests/live/test_fuzz.py

# wrk drives the load: `sudo apt-get install wrk` or `brew install wrk` (docs/performance.md).
# About 6 minutes; `make bench ARGS="--rounds 1"` for a quicker look.
bench: install
	$(BIN)/python bench/run.py $(ARGS)

# py-spy samples the gateway under wrk: a table of microseconds per request, by part.
profile: install
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python bench/cost_table.py $(ARGS)

# A few seconds per run: checks that the harness works and computes its ratios (CI).
bench-smoke: install
	$(BIN)/python bench/run.py --smoke

# The documentation site in site/, from docs/ and mkdocs.yml (the configuration page's table
# and the OpenAPI reference made from the code first); a broken link or anchor fails it.
docs: install
	$(BIN)/python tools/configuration_table.py
	$(BIN)/python tools/openapi_reference.py
	$(BIN)/zensical build --clean --strict

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy payments_server bench

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info site
