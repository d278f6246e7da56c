# The two commands: `make run` and `make test`. Both do all the set-up they need.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
RASA := $(VENV)/bin/rasa
RUNTIME_STAMP := $(VENV)/.runtime-installed
DEV_STAMP := $(VENV)/.dev-installed

export TF_CPP_MIN_LOG_LEVEL := 2
export SQLALCHEMY_SILENCE_UBER_WARNING := 1
export PYTHONUNBUFFERED := 1
# Rasa sends no usage data from this project.
export RASA_TELEMETRY_ENABLED := false

.PHONY: help setup setup-dev spacy model run test lint validate eval bench audit constraints clean

help:
	@echo "make run    install what is missing, build the spaCy pipeline, train if needed, start everything"
	@echo "make test   the same set-up, then every check (lint, types, data, pytest, stories)"
	@echo "make eval   NLU accuracy on the held-out set and misfires on ../shared/eval-data"
	@echo "make bench  throughput, latency and memory against Rasa's default configuration"
	@echo "make audit  audit the installed packages for known vulnerabilities"

$(RUNTIME_STAMP): requirements.txt constraints.txt scripts/setup-venv
	@scripts/setup-venv runtime
	@touch $@

$(DEV_STAMP): $(RUNTIME_STAMP) requirements-dev.txt
	@scripts/setup-venv dev
	@touch $@

setup: $(RUNTIME_STAMP)
setup-dev: $(DEV_STAMP)

spacy: setup
	@$(PY) -m bot build-spacy

model: spacy
	@$(PY) -m bot train

run: model
	@$(PY) -m bot preflight
	@mkdir -p var
	@$(VENV)/bin/honcho start -f Procfile

validate: setup-dev model
	@$(PY) -m bot validate
	@$(RASA) data validate --fail-on-warnings
	@$(PY) -m bot content check

# Lint, format and types first: they take seconds (configuration in pyproject.toml).
lint: setup-dev
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/mypy

test: lint validate
	@$(PY) -m pytest
	@$(PY) -m bot test-stories

eval: setup-dev model
	@$(PY) -m tools.nlu_eval

bench: setup-dev model
	@$(PY) -m tools.bench $(BENCH_ARGS)

audit: setup
	@scripts/audit

constraints: setup-dev
	@{ echo "# Full lock of the tested venv (pip freeze). Regenerate with: make constraints"; \
	   $(VENV)/bin/pip freeze --exclude-editable; } > constraints.txt

clean:
	rm -rf build models results
