# Every target creates .venv and installs what it needs on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Prefect's state stays inside the project, never in the user's home, and the server never phones out.
export PREFECT_HOME := $(CURDIR)/.state/prefect
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS := 120
export PREFECT_LOGGING_LEVEL ?= WARNING

.PHONY: install demo test lint typecheck pytest chaos bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@mkdir -p .state
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/lingong demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy lingong_core lingong_sandbox lingong_payroll lingong_receiver lingong_cli tasks flows

# pytest exits 5 when it collects nothing: that is a failure here, not a pass.
pytest: $(STAMP)
	@$(BIN)/python -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi; exit $$rc

test: lint typecheck pytest

chaos: $(STAMP)
	$(BIN)/python -m pytest -m 'chaos or chaos_full' tests/chaos $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf .state .mypy_cache .ruff_cache .pytest_cache

# docs/api.md is generated from lingong_core/models; tests/core/test_api_docs.py fails when they drift.
.PHONY: api-docs
api-docs: $(STAMP)
	$(BIN)/python -m lingong_core.models.docgen docs/api.md
