# Neno SACCO C2B capture. `make demo` runs the product; `make test` proves it.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PORT ?= 8000
# Tests run against PostgreSQL, as production does (override with DATABASE_URL=...).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/neno
SQLITE_TEST_URL := sqlite:///$(CURDIR)/var/test.sqlite3

.PHONY: install test test-sqlite lint format demo serve bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

test: install
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} $(BIN)/pytest

# The capture core once more on the embedded database.
test-sqlite: install
	@mkdir -p var
	DATABASE_URL=$(SQLITE_TEST_URL) $(BIN)/pytest c2b daraja config

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Production-shaped: migrations first, static files collected, then the web server (uWSGI) with
# a capture worker and an SMS worker beside it. See config/serve.py.
serve: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	PORT=$(PORT) $(BIN)/python -m config.serve

demo: install
	$(BIN)/python -m demo

# Benchmarks, not tests (~8 min): capture against PostgreSQL (a burst, validation beside
# confirmation, a sustained run), then the staff web app at scale. `python -m bench capture
# --help` for one part (--parts), other settings (--app-env) or other server variants.
bench: install
	@test -x $(BIN)/gunicorn -a -x $(BIN)/granian || $(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache
