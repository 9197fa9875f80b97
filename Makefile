# salesops-pipelines — the two commands on the README's first screen are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
ROOT := $(CURDIR)

# Project-local Airflow: SQLite metadata under .airflow/, our dags/ and plugins/, no examples.
export AIRFLOW_HOME := $(ROOT)/.airflow
export AIRFLOW__CORE__DAGS_FOLDER := $(ROOT)/dags
export AIRFLOW__CORE__PLUGINS_FOLDER := $(ROOT)/plugins
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__DATABASE__LOAD_DEFAULT_CONNECTIONS := False
export AIRFLOW__CORE__EXECUTOR := LocalExecutor
export PYTHONPATH := $(ROOT)/plugins:$(ROOT)
export PATH := $(ROOT)/$(VENV)/bin:$(PATH)

DEMO_SIZE ?= small
DEMO_SEED ?= 42

.PHONY: help venv demo test test-fast lint check format airflow-ui bench bench-demo-large profile-api profile run clean

help:
	@echo "make demo   - install, seed the demo CRM and run the pipelines end to end (no credentials)"
	@echo "make test   - run the whole test suite (unit, DAG integrity, end-to-end)"
	@echo "make check  - static checks: ruff (lint + format), mypy, sqlfluff (run by CI before the tests)"
	@echo "make lint   - ruff only (lint + format check); make format applies ruff's fixes"
	@echo "make airflow-ui - the same DAGs in the Airflow UI (airflow standalone on this project)"
	@echo "make bench  - scale benchmark: demo org at 10k/100k/1M through the chain -> bench/REPORT.md"
	@echo "make bench-demo-large - time make demo DEMO_SIZE=large (issue 17) -> bench/demo_large.results.json"
	@echo "make profile-api [CONN=id] - Salesforce dry run: API calls a first sync would take"
	@echo "make profile SOURCE=csv CSV_FOLDER=dir - what is in your export + a starter overlay and column map"
	@echo "make run SOURCE=csv CSV_FOLDER=dir CONFIG_DIR=dir [PACKS=a,b] - the whole chain on your data (prints its exit status: 0 published, 1 gate held, 2 bad config, 3 pack held, 4 task error)"

# --compile-bytecode: uv writes no .pyc by default, and with PYTHONDONTWRITEBYTECODE set (as on the
# CI machines) Python never writes them either, so every process (each DAG run, test worker, bench
# stage) compiled Airflow, pandas and GX from source: importing them cost 10.5 CPU-s, 4.5 with .pyc.
$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check uv==0.13.8 || true
	if [ -x $(VENV)/bin/uv ]; then \
	  $(VENV)/bin/uv pip install --python $(PY) --quiet --compile-bytecode -r requirements.txt -r requirements-dev.txt; \
	else \
	  $(PY) -m pip install --quiet -r requirements.txt -r requirements-dev.txt; \
	fi
	touch $@

venv: $(VENV)/.installed

$(AIRFLOW_HOME)/.migrated: $(VENV)/.installed
	mkdir -p $(AIRFLOW_HOME)
	$(VENV)/bin/airflow db migrate > $(AIRFLOW_HOME)/db-migrate.log 2>&1 || (tail -40 $(AIRFLOW_HOME)/db-migrate.log; exit 1)
	touch $@

# Task output is kept to warnings on the console (DEMO_LOG_LEVEL=INFO shows every task's log);
# timeout -s KILL because a dag.test() process ignores SIGTERM after its first task.
DEMO_LOG_LEVEL ?= WARNING
# DEMO_ARGS: more scripts/demo.py options, e.g. the monitoring incidents (README "Monitoring").
# Multi-currency demo (issue 13): DEMO_ARGS="--currencies EUR,GBP" (README "The demo CRM").
DEMO_ARGS ?=
demo: $(AIRFLOW_HOME)/.migrated
	AIRFLOW__LOGGING__LOGGING_LEVEL=$(DEMO_LOG_LEVEL) timeout -s KILL 1800 $(PY) -m scripts.demo --size $(DEMO_SIZE) --seed $(DEMO_SEED) $(DEMO_ARGS)

# The whole suite on every core (pytest-xdist): a test module runs whole on one worker, the stack and
# browser tests together on one (tests/conftest.py). TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= auto
test: $(VENV)/.installed
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadscope

test-fast: $(VENV)/.installed
	$(PY) -m pytest -m "not e2e"

# Static checks (what `.ci/run` runs before the tests, and what .pre-commit-config.yaml runs):
# ruff lint (incl. Airflow AIR rules, complexity, import rules) + ruff format --check + mypy on
# plugins/ (config in pyproject.toml) + sqlfluff on include/sql (config in .sqlfluff).
PY_SOURCES := plugins dags tests bench scripts
lint: $(VENV)/.installed
	$(VENV)/bin/ruff check $(PY_SOURCES)
	$(VENV)/bin/ruff format --check $(PY_SOURCES)

check: lint
	$(VENV)/bin/mypy
	$(VENV)/bin/sqlfluff lint include/sql --processes 0

# Apply ruff's formatter and safe fixes (then re-run `make check`).
format: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix $(PY_SOURCES)
	$(VENV)/bin/ruff format $(PY_SOURCES)

airflow-ui: $(AIRFLOW_HOME)/.migrated
	@echo "Starting airflow standalone on http://127.0.0.1:8080 (admin password: $(AIRFLOW_HOME)/simple_auth_manager_passwords.json.generated)"
	$(VENV)/bin/airflow standalone

# Scale benchmark (issue 17): the demo org at BENCH_SIZES opportunities through the whole chain;
# writes bench/REPORT.md + bench/scale.png and the README's benchmark block. BENCH_ARGS: more
# bench/scale.py options, e.g. --reuse-seed (keep orgs seeded by an earlier run).
BENCH_SIZES ?= 10000,100000,1000000
BENCH_ARGS ?=
bench: $(AIRFLOW_HOME)/.migrated
	timeout -s KILL 3600 $(PY) bench/scale.py --sizes $(BENCH_SIZES) $(BENCH_ARGS)

# Issue 17's last target, timed: `make demo DEMO_SIZE=large` (completes, <= 10 min, <= 4 GiB) with its
# data under bench/results/demo_large/ -> bench/demo_large.results.json (bench/REPORT.md shows it).
bench-demo-large: $(AIRFLOW_HOME)/.migrated
	$(PY) bench/demo_large.py

# Dry run against a Salesforce org: API calls a first sync would take (one describe + one COUNT()
# per manifest object; no extract). CONN = an Airflow connection id (AIRFLOW_CONN_* works).
CONN ?= salesforce_default
profile-api: $(VENV)/.installed
	$(PY) -m salesops.sources.salesforce_profile --conn-id $(CONN)

# Bring your own CRM (README "Bring your own CRM"). CONFIG_DIR = your policy overlay folder
# (SALESOPS_CONFIG_DIR); DATA_DIR / OUTPUT_DIR = where the warehouse and packs go (never the demo's).
SOURCE ?= csv
CSV_FOLDER ?=
COLUMN_MAP ?=
SOURCE_CONN ?=
PACKS ?=
CONFIG_DIR ?=
DATA_DIR ?= $(ROOT)/runs/data
OUTPUT_DIR ?= $(ROOT)/runs/out
BYO_ENV = SALESOPS_DATA_DIR=$(DATA_DIR) SALESOPS_OUTPUT_DIR=$(OUTPUT_DIR) $(if $(CONFIG_DIR),SALESOPS_CONFIG_DIR=$(abspath $(CONFIG_DIR)))
profile: $(VENV)/.installed
	$(BYO_ENV) $(PY) -m salesops profile --source $(SOURCE) $(if $(CSV_FOLDER),--csv-folder $(CSV_FOLDER)) $(if $(COLUMN_MAP),--column-map $(COLUMN_MAP)) $(if $(SOURCE_CONN),--conn-id $(SOURCE_CONN))

run: $(AIRFLOW_HOME)/.migrated
	$(BYO_ENV) AIRFLOW__LOGGING__LOGGING_LEVEL=$(DEMO_LOG_LEVEL) timeout -s KILL 3600 $(PY) -m scripts.run --source $(SOURCE) $(if $(CSV_FOLDER),--csv-folder $(abspath $(CSV_FOLDER))) $(if $(COLUMN_MAP),--column-map $(abspath $(COLUMN_MAP))) $(if $(SOURCE_CONN),--conn-id $(SOURCE_CONN)) $(if $(PACKS),--packs $(PACKS))

clean:
	rm -rf data out .airflow runs
