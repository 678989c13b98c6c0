# The two commands: `make run` (serve the demo) and `make test` (run every check).
# Without DATABASE_URL an embedded PostgreSQL runs under .data/; without REDIS_URL Celery
# uses kombu's filesystem transport under .data/broker.

SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
# Refreshed whenever requirements.txt changes, so pip runs only when there is news.
REQUIREMENTS_STAMP := $(VENV)/.requirements.stamp
NPM_STAMP := node_modules/.npm-ci.stamp
CHROMIUM := /usr/bin/chromium
# Two workers: the machines have two cores. Each worker has its own test database.
PYTEST_ARGS ?= -n 2
# Commands of these targets load the settings, which want a SECRET_KEY when DEBUG is off;
# they sign nothing, so a placeholder serves unless one is set.
COMMAND_ENV := SECRET_KEY="$${SECRET_KEY:-commands-only-not-a-secret}"

.PHONY: run test install assets check-chromium migrate seed lint format bench clean

run: install assets
	@scripts/run.sh

test: install assets check-chromium
	$(COMMAND_ENV) $(PY) manage.py makemigrations --check --dry-run
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/pytest $(PYTEST_ARGS)

$(PY):
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) is needed to create $(VENV)." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(REQUIREMENTS_STAMP): requirements.txt | $(PY)
	$(BIN)/pip install --disable-pip-version-check --quiet -r requirements.txt
	@touch $@

install: $(REQUIREMENTS_STAMP)

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

check-chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
	    echo "The browser tests drive $(CHROMIUM), which is missing." >&2; \
	    echo "Install it with: apt-get install -y chromium" >&2; \
	    exit 1; \
	fi

migrate: install
	$(COMMAND_ENV) $(PY) manage.py migrate

seed: migrate
	$(COMMAND_ENV) $(PY) manage.py seed_demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(COMMAND_ENV) $(PY) manage.py makemigrations --check --dry-run

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install
	@shopt -s nullglob; benches=(bench/*.py); \
	if [ $${#benches[@]} -eq 0 ]; then echo "no benchmarks yet"; exit 0; fi; \
	for bench in "$${benches[@]}"; do \
	    echo "== $$bench"; $(PY) "$$bench" || exit 1; \
	done

clean:
	rm -rf $(VENV) node_modules staticfiles static/build/*.css static/build/*.js \
	    static/build/*.svg .pytest_cache .ruff_cache .mypy_cache .hypothesis test-results
	find . -name __pycache__ -type d -not -path "./.data/*" -prune -exec rm -rf {} +
	@echo "Kept .data/ (the embedded database, broker and secret key): rm -rf .data to reset."
