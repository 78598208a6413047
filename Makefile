# Everything a fresh machine needs is installed from requirements.lock into .venv.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo sandbox test lint typecheck format bench clean

$(STAMP): requirements.lock
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	touch $(STAMP)

# Production is the default (docs/security.md); the demo is a laptop, so it says so. Its login: admin, with
# DEMO_PASSWORD if set, else a random password it prints.
demo: export DEBUG = 1
demo: $(STAMP)
	$(BIN)/python manage.py demo

sandbox: export DEBUG = 1
sandbox: $(STAMP)
	$(BIN)/python manage.py sandbox

# Tests (and bench, and mypy's django-stubs) run with tests/settings.py: production settings, DEBUG off, fixed
# public test keys.
test: $(STAMP) lint typecheck
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The contract between flows and connectors (integrations/connectors/capabilities.py), checked with django-stubs;
# which modules are checked is [tool.mypy] files in pyproject.toml.
typecheck: $(STAMP)
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# BENCH_SIZE scales every benchmark; CI runs them tiny to prove they work.
bench: $(STAMP)
	$(BIN)/python -m tests.benchmarks.run $(if $(BENCH_SIZE),--size $(BENCH_SIZE),)

clean:
	rm -rf $(VENV) db.sqlite3*
