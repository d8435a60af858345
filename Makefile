# Every target creates the virtual environment from the lock file first; nothing else is needed.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint dev bench venv clean

$(STAMP): requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -qq --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install -qq --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

venv: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy domain ingest_api
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest --cov --cov-report=term:skip-covered

demo: $(STAMP)
	$(BIN)/settle demo

dev: $(STAMP)
	$(BIN)/settle dev

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	-$(BIN)/settle db down
	rm -rf $(VENV) .data
