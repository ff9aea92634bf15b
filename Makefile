# Two commands do all the set-up on a fresh machine with Python 3.11+:
#   make demo   - create .venv, install what the demo needs, serve the demo town at
#                 http://127.0.0.1:8000 (another port: make demo PORT=8080)
#   make test   - create .venv, install with test extras, lint (with the import contracts),
#                 type-check, build the docs, run every test
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test

.PHONY: demo test lint typecheck docs install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $(RUN_STAMP)

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(TEST_STAMP) $(RUN_STAMP)

install: $(TEST_STAMP)

demo: $(RUN_STAMP)
	$(BIN)/taptrail demo --host $(HOST) --port $(PORT)

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(TEST_STAMP)
	$(BIN)/mypy

# The documentation site, built with every warning an error.
docs: $(TEST_STAMP)
	$(BIN)/mkdocs build --strict --quiet --site-dir "$$(mktemp -d)"

# Test files run side by side in TEST_WORKERS processes (pytest-xdist): much of the suite
# waits on servers, browsers and databases, so more processes than cores still helps.
TEST_WORKERS ?= 4

test: lint typecheck docs
	$(BIN)/pytest -q -p no:cacheprovider -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) taptrail-demo.db*
