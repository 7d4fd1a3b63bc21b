# The two commands a fresh machine needs: `make demo` and `make test`.
# Everything installs into .venv with uv (fetched from PyPI by pip if missing).

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
UV := $(shell command -v uv 2>/dev/null || echo $(BIN)/uv)
export UV_PYTHON_DOWNLOADS := never
export UV_LINK_MODE := copy
ARGS ?=
PYTEST_ARGS ?=

.PHONY: install system-deps test lint format demo bench docs clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml setup.py
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 ($(PYTHON)) is required"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@test -x $(BIN)/uv || command -v uv >/dev/null || $(BIN)/python -m pip install -q uv
	$(UV) pip install --python $(BIN)/python -q -e '.[all,dev]'
	@touch $@

# What the tests need from the system: Debian's chromium for the browser tests.
system-deps:
	@command -v chromium >/dev/null || { \
	  echo "Installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

test: install system-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python tools/typecheck_tree.py >/dev/null
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

demo: install
	$(BIN)/callscope demo $(ARGS)

bench: install
	$(BIN)/python benchmarks/run_all.py

docs: install
	$(BIN)/python -m callscope.collector.schema --markdown > docs/schema.md

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache test-output
