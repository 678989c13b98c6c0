# The two commands: `make run` (serve the demo) and `make test` (run every check).
# Without DATABASE_URL an embedded PostgreSQL runs under .data/; without REDIS_URL Celery
# uses kombu's filesystem transport under .data/broker.

SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
# Locked with hashes (requirements/*.in -> *.txt, `make lock`): runtime.txt is what a
# production install takes; dev.txt holds it and the test and lint tools, for `make run`
# and `make test`. The stamp is refreshed when a lock changes, so pip runs only on news.
RUNTIME_LOCK := requirements/runtime.txt
DEV_LOCK := requirements/dev.txt
REQUIREMENTS_STAMP := $(VENV)/.requirements.stamp
UV_COMPILE := $(BIN)/uv pip compile --quiet --no-config --python-version 3.11 --universal \
    --generate-hashes --custom-compile-command "make lock"
NPM_STAMP := node_modules/.npm-ci.stamp
CHROMIUM := /usr/bin/chromium
# Two workers: the machines have two cores. Each worker has its own test database.
PYTEST_ARGS ?= -n 2
# Commands of these targets load the settings, which want a SECRET_KEY when DEBUG is off;
# they sign nothing, so a placeholder serves unless one is set.
COMMAND_ENV := SECRET_KEY="$${SECRET_KEY:-commands-only-not-a-secret}"

.PHONY: run test test-calendar install lock assets check-chromium migrate seed lint types format bench clean

run: install assets
	@scripts/run.sh

test: install assets check-chromium
	$(COMMAND_ENV) $(PY) manage.py makemigrations --check --dry-run
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(COMMAND_ENV) $(BIN)/mypy .
	$(BIN)/pytest $(PYTEST_ARGS)

# The whole suite on the days most likely to catch a test that depends on today: the day
# after a fiscal year's returns are due (2 April) and a leap day (tests/clock.py).
CALENDAR := 2027-04-02 2028-02-29
test-calendar: install assets check-chromium
	@for day in $(CALENDAR); do \
	    echo "== the suite with the clock at $$day"; \
	    TEST_TODAY=$$day $(BIN)/pytest $(PYTEST_ARGS) || exit 1; \
	done

$(PY):
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) is needed to create $(VENV)." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(REQUIREMENTS_STAMP): $(RUNTIME_LOCK) $(DEV_LOCK) | $(PY)
	$(BIN)/pip install --disable-pip-version-check --quiet --require-hashes -r $(DEV_LOCK)
	@touch $@

install: $(REQUIREMENTS_STAMP)

# After editing requirements/runtime.in or dev.in: pin what they ask for, with hashes.
# Pins already in a lock are kept unless an .in file asks otherwise (`--upgrade-package
# NAME` through UV_ARGS upgrades one).
lock: install
	$(UV_COMPILE) $(UV_ARGS) requirements/runtime.in -o $(RUNTIME_LOCK)
	$(UV_COMPILE) $(UV_ARGS) requirements/dev.in -o $(DEV_LOCK)

# GOV.UK Frontend compiled with sass into static/build/, and axe-core for the browser tests.
assets:
	@if [ -f package.json ]; then \
	    if [ ! -f $(NPM_STAMP) ] || [ package.json -nt $(NPM_STAMP) ] \
	        || { [ -f package-lock.json ] && [ package-lock.json -nt $(NPM_STAMP) ]; }; then \
	        npm ci --no-audit --no-fund && touch $(NPM_STAMP); \
	    fi; \
	    npm run --silent build; \
	else \
	    echo "No package.json: skipping the front-end assets."; \
	fi

# A fresh Debian machine has no Chromium: as root, install it the way `.ci/run` does;
# anyone else is told the one command to run.
check-chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	        echo "The browser tests drive $(CHROMIUM), which is missing: installing it with apt."; \
	        DEBIAN_FRONTEND=noninteractive apt-get update -qq \
	            && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
	            || exit 1; \
	    else \
	        echo "The browser tests drive $(CHROMIUM), which is missing. Install it with:" >&2; \
	        echo "    sudo apt-get install -y chromium" >&2; \
	        exit 1; \
	    fi; \
	fi

migrate: install
	$(COMMAND_ENV) $(PY) manage.py migrate

seed: migrate
	$(COMMAND_ENV) $(PY) manage.py seed_demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(COMMAND_ENV) $(BIN)/mypy .
	$(COMMAND_ENV) $(PY) manage.py makemigrations --check --dry-run

types: install
	$(COMMAND_ENV) $(BIN)/mypy .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Every benchmark in bench/ (bench/run.py) and one table of their targets; wrk is the load
# generator of the API benchmark, installed from apt when we may.
bench: install
	@command -v wrk >/dev/null || { \
	    if [ "$$(id -u)" = 0 ]; then apt-get install -y wrk; \
	    else echo "wrk is missing: run 'sudo apt-get install wrk' (bench/api_lists.py needs it)."; exit 1; fi; }
	$(PY) bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) node_modules staticfiles static/build/*.css static/build/*.js \
	    static/build/*.svg .pytest_cache .ruff_cache .mypy_cache .hypothesis test-results
	find . -name __pycache__ -type d -not -path "./.data/*" -prune -exec rm -rf {} +
	@echo "Kept .data/ (the embedded database, broker and secret key): rm -rf .data to reset."
