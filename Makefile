# Debtor-rights assistant: every command a newcomer needs.
# `make chat` installs, trains and opens a CLI chat; `make test` runs the whole suite.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
RASA := $(BIN)/rasa
PY := $(BIN)/python
# First interpreter that really is Python 3.10 (a pyenv shim may exist but fail).
PYTHON310 := $(shell for p in python3.10 $$HOME/.pyenv/versions/3.10*/bin/python3.10 \
	/usr/local/bin/python3.10 /usr/bin/python3.10; do \
	$$p -c 'import sys; assert sys.version_info[:2] == (3, 10)' >/dev/null 2>&1 && { echo $$p; break; }; done)
export TF_CPP_MIN_LOG_LEVEL := 2
export PYTHONHASHSEED := 0
export SQLALCHEMY_SILENCE_UBER_WARNING := 1

.PHONY: help install install-dev train chat run actions lint test test-unit validate test-nlu test-stories \
	test-integration bench purge clean

help:
	@echo "make chat   - install, train if needed, chat in the terminal (numbered options, type freely)"
	@echo "make run    - all channels (REST, web widget, WeChat) on port 5005"
	@echo "make test   - the whole test suite (what CI runs)"
	@echo "make bench  - accuracy and speed benchmarks -> docs/benchmarks.md"
	@echo "make lint   - ruff check, ruff format --check and mypy (part of make test)"
	@echo "other: install install-dev train actions validate test-unit test-nlu test-stories test-integration purge clean"

$(BIN)/activate:
	@test -n "$(PYTHON310)" || { echo "Python 3.10 is required: see README (Getting Python 3.10)."; exit 1; }
	$(PYTHON310) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip<24.1"

$(VENV)/.installed: $(BIN)/activate requirements.txt constraints.txt
	$(BIN)/pip install --quiet -r requirements.txt -c constraints.txt
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt -c constraints.txt
	@touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

# Rasa retrains only what changed since the last model (fingerprints).
train: install
	$(RASA) train --fixed-model-name debt-rights --out models

actions: install
	$(RASA) run actions --actions actions --port 5055 --cors "*" 2>&1 | grep -v "^$$"

chat: train
	@mkdir -p var
	$(PY) scripts/with_action_server.py --quiet-actions -- \
		$(PY) -m addons.channels.terminal_chat --model models/debt-rights.tar.gz --endpoints endpoints.yml

run: train
	@mkdir -p var
	$(PY) scripts/with_action_server.py -- $(PY) scripts/run_server.py --model models/debt-rights.tar.gz \
		--endpoints endpoints.yml --credentials credentials.yml --cors "*"

validate: install
	$(RASA) data validate --fail-on-warnings

# Settings in pyproject.toml. `$(BIN)/ruff check --fix . && $(BIN)/ruff format .` repairs most findings.
lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test-unit: install-dev
	$(PY) -m pytest -q tests --ignore=tests/integration --ignore=tests/e2e

# Real PostgreSQL, Redis and headless Chromium, installed and started by the tests.
test-integration: install-dev train
	$(PY) -m pytest -q tests/integration tests/e2e

test-nlu: train
	$(RASA) test nlu --nlu tests/test_nlu.yml --model models/debt-rights.tar.gz --out results/nlu
	$(PY) scripts/check_nlu_results.py results/nlu/intent_report.json --min-accuracy 0.92 --min-macro-f1 0.90
	$(PY) -W ignore scripts/check_realistic_nlu.py --model models/debt-rights.tar.gz --out results/realistic \
		--min-accuracy 0.90 --min-emergency-recall 1.0

test-stories: train
	$(PY) -m addons.rasa_cli test core --stories tests/stories --model models/debt-rights.tar.gz \
		--endpoints endpoints.yml --out results/core --fail-on-prediction-errors

test: lint validate test-unit test-nlu test-stories test-integration
	@echo "All test stages passed."

bench: install-dev train
	$(PY) -m bench.run

purge: install
	$(PY) -m addons.stores.retention

clean:
	rm -rf results .pytest_cache
