# Neno SACCO C2B capture. `make demo` runs the product; `make test` proves it.
SHELL := /bin/bash
# The newest installed Python that pyproject.toml's requires-python allows (PYTHON=... chooses).
# Each candidate is run, not only looked up: a pyenv shim exists for versions it cannot run.
PYTHONS := python3.14 python3.13 python3.12 python3.11
PYTHON ?= $(firstword $(foreach p,$(PYTHONS),$(if $(shell $(p) -c 'import sys; \
	sys.exit(not (3, 11) <= sys.version_info < (3, 15))' 2>/dev/null && echo ok),$(p))))
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PORT ?= 8000
PYTEST_ARGS ?=
# Tests run against PostgreSQL, as production does: DATABASE_URL if set, else the server on
# 127.0.0.1:5432 (TEST_PG_ADDRESS), else a throwaway one of their own. See devtools/testdb.py.
WITH_PG := $(BIN)/python -m devtools.testdb
SQLITE_TEST_URL := sqlite:///$(CURDIR)/var/test.sqlite3

.PHONY: install test test-embedded test-sqlite lint format demo serve bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || test -n "$(PYTHON)" || { echo "No Python 3.11 to 3.14 found:" \
		"install one (Debian: apt-get install python3 python3-venv), or name it with" \
		"PYTHON=/path/to/python3.x" >&2; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

test: install
	$(WITH_PG) -- $(BIN)/pytest $(PYTEST_ARGS)

# The same on the throwaway PostgreSQL, even with a server up or DATABASE_URL set.
test-embedded: install
	$(WITH_PG) --embedded -- $(BIN)/pytest $(PYTEST_ARGS)

# The capture core once more on SQLite, the demo's database.
test-sqlite: install
	@mkdir -p var
	DATABASE_URL=$(SQLITE_TEST_URL) $(BIN)/pytest c2b capture core daraja config

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

# Benchmarks, not tests (~10 min): capture against PostgreSQL (a burst, validation beside
# confirmation, a sustained run), the staff web app at scale, reconciliation at 100,000 lines.
# `python -m bench capture --help` for one part (--parts), other settings (--app-env) or other
# server variants. The same PostgreSQL as `make test` (a throwaway one fsyncs here).
bench: install
	@test -x $(BIN)/gunicorn -a -x $(BIN)/granian || $(BIN)/python -m pip install --quiet -e '.[bench]'
	$(WITH_PG) --durable -- $(BIN)/python -m bench

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache .ruff_cache
