# Two commands for a newcomer: `make run` (the daily job on the bundled example) and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
AS_OF ?= 2026-11-26
OUT ?= outbox

.PHONY: install run run-later test test-fast lint

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

install: $(VENV)/.installed

## The daily job on the bundled example cooperative, as of its documented first day.
run: install
	$(VENV)/bin/cae run --as-of $(AS_OF) --out $(OUT)

## The same cooperative a month later, with the ledger the first run left in $(OUT).
run-later: install
	$(VENV)/bin/cae run --data cae/example-december --as-of 2026-12-28 --out $(OUT)

test: install
	$(PY) -m pytest -q

## Everything but the end-to-end tests (no Prefect server): under 2 minutes.
test-fast: install
	$(PY) -m pytest -q -m "not e2e"

## Style, types (mypy on charter/) and the layers contract of pyproject.toml (import-linter).
lint: install
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check . && $(VENV)/bin/mypy \
		&& $(VENV)/bin/lint-imports
