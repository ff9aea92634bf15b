# Two commands do all the set-up on a fresh machine with Python 3.11+:
#   make demo   - create .venv, install, serve the demo town at http://127.0.0.1:8000
#   make test   - create .venv, install with test extras, lint, type-check, run every test
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck docs install clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/taptrail demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

# The documentation site, built with every warning an error.
docs: $(STAMP)
	$(BIN)/mkdocs build --strict --quiet --site-dir "$$(mktemp -d)"

test: lint typecheck docs
	$(BIN)/pytest -q -p no:cacheprovider $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) taptrail-demo.db*
