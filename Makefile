# Freeway developer commands.  `make run` and `make test` work on a fresh machine with
# only Python 3.11+ and make: `make install` bootstraps uv with pip when it is missing.
PYTHON ?= python3
VENV := .venv
UV := $(shell command -v uv 2>/dev/null || echo $(VENV)-uv/bin/uv)
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: install run test lint fmt bench bench-analytics docs clean

$(VENV)-uv/bin/uv:
	$(PYTHON) -m venv $(VENV)-uv
	$(VENV)-uv/bin/python -m pip install --quiet uv

$(STAMP): pyproject.toml uv.lock core/pyproject.toml $(wildcard plugins/*/pyproject.toml) panel/pyproject.toml | $(UV)
	UV_PYTHON=$(PYTHON) $(UV) sync --frozen --all-packages --python $(PYTHON)
	touch $(STAMP)

install: $(STAMP)

run: install
	$(VENV)/bin/freeway serve

test: install
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy core/src plugins/*/src panel/src

fmt: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: install
	$(VENV)/bin/python bench/run.py

bench-analytics: install
	$(VENV)/bin/python bench/analytics.py

clean:
	rm -rf $(VENV) $(VENV)-uv
