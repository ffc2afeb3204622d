# Longshu (陇数). Quick start on a fresh machine with Python 3.11 and make:
#   make run    install, initialise ./var, load the Gansu demo, serve http://127.0.0.1:8000
#   make test   the whole suite on SQLite, then on PostgreSQL (services started as needed)

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
PYTEST_ARGS ?= --durations=15
# extras `make test` and `make bench` add (heavy peers stay out of `make run`)
TEST_EXTRAS ?= test,spark
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run serve init demo test test-sqlite test-pg e2e services lint format bench bench-governance clean distclean
# the steps of `run` and `test` depend on their order
.NOTPARALLEL:

run: $(VENV)/.run-installed init demo serve

$(BIN)/python:
	@[ -n "$(PYTHON)" ] && $(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	  || { echo "Longshu needs Python 3.11 or newer: install it, or name it with PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV) \
	  || { rm -rf $(VENV); echo "could not create $(VENV): on Debian, apt-get install python3-venv"; exit 1; }

$(VENV)/.run-installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml $(VENV)/.run-installed
	$(BIN)/pip install -q -e '.[$(TEST_EXTRAS)]'
	touch $@

init: $(VENV)/.run-installed
	$(BIN)/longshu init

demo: init
	LONGSHU_BASE_URL=http://$(HOST):$(PORT) $(BIN)/longshu demo load

serve: $(VENV)/.run-installed
	@echo "陇数 Longshu: http://$(HOST):$(PORT)/  (console: /console, API: /api/docs)"
	$(BIN)/longshu serve --host $(HOST) --port $(PORT)

services:
	@scripts/ensure_services.sh

# both passes always run; the target fails if either did
test: $(VENV)/.test-installed services
	@# the two backends run side by side (each has its own database, Redis queue names,
	@# MQTT topics and ports), then each run's output is printed whole
	@mkdir -p var; \
	for backend in sqlite pg; do \
	  ( start=$$(date +%s); \
	    LONGSHU_TEST_DB=$$backend $(BIN)/pytest $(PYTEST_ARGS) > var/test-$$backend.log 2>&1; \
	    echo "$$? $$(( $$(date +%s) - start ))" > var/test-$$backend.rc ) & \
	done; wait; \
	rc=0; summary=""; \
	for backend in sqlite pg; do \
	  echo "== LONGSHU_TEST_DB=$$backend pytest $(PYTEST_ARGS) =="; cat var/test-$$backend.log; \
	  set -- $$(cat var/test-$$backend.rc); \
	  if [ "$$1" = 0 ]; then result=passed; else result=FAILED; rc=1; fi; \
	  summary="$$summary  $$backend: $$result in $$2 s\n"; \
	done; \
	printf "== make test ==\n$$summary"; exit $$rc

test-sqlite: $(VENV)/.test-installed services
	LONGSHU_TEST_DB=sqlite $(BIN)/pytest $(PYTEST_ARGS)

test-pg: $(VENV)/.test-installed services
	LONGSHU_TEST_DB=pg $(BIN)/pytest $(PYTEST_ARGS)

e2e: $(VENV)/.test-installed services
	$(BIN)/pytest tests/e2e $(PYTEST_ARGS)

lint: $(VENV)/.test-installed
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts

format: $(VENV)/.test-installed
	$(BIN)/ruff check --fix src tests bench scripts
	$(BIN)/ruff format src tests bench scripts

bench: $(VENV)/.test-installed services bench-governance
	@mkdir -p bench/results
	@set -e; for script in bench/*/run.py; do echo "== $$script =="; $(BIN)/python $$script; done

# governance beside its peers (Presidio, Great Expectations, Soda: a bench-only extra)
bench-governance: $(VENV)/.test-installed
	@mkdir -p bench/results
	$(BIN)/pip install -q -e '.[bench-governance]'
	$(BIN)/python bench/governance/detect_accuracy.py
	$(BIN)/python bench/governance/detect_vs_presidio.py
	SODA_CORE_TELEMETRY_ENABLED=false GX_ANALYTICS_ENABLED=false \
	  $(BIN)/python bench/governance/quality_vs_peers.py 10000000

# keeps ./var (database, keys, lake): `make distclean` removes that too
clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build src/*.egg-info
	find src tests bench scripts -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf var
