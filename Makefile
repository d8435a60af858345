# Every target creates the virtual environment from the lock file first; nothing else is needed.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint dev bench screenshots venv clean

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

# Two workers, a file each at a time: each starts its own embedded PostgreSQL, so files share nothing.
test: lint
	$(BIN)/pytest -n 2 --dist loadfile --cov --cov-report=term:skip-covered

demo: $(STAMP)
	$(BIN)/settle demo

dev: $(STAMP)
	$(BIN)/settle dev

bench: $(STAMP)
	$(BIN)/python -m bench

# The Dagster UI after a demo night, photographed by headless Chromium into docs/screenshots/ (a few
# minutes; not part of `make test`). Installs Debian's chromium package if missing, when run as root.
screenshots: $(STAMP)
	@command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get update -qq && apt-get install -y -qq chromium; } \
		|| { echo "make screenshots needs Debian's chromium package: apt-get install -y chromium (as root)" >&2; exit 1; }
	$(BIN)/settle screenshots

clean:
	-$(BIN)/settle db down
	rm -rf $(VENV) .data
