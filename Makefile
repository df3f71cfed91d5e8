# One-command workflows. Everything installs into .venv from the two pyproject.toml files (the provider and
# twads-emulator/); nothing else is assumed. uv installs in seconds on a warm cache; where uv cannot be had,
# pip does the same job, slower.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
EMULATOR := twads-emulator
# `uv` from PATH, else the one bootstrapped into .venv-tools, else pip.
UV     := $(shell command -v uv 2>/dev/null)
TOOLS  := .venv-tools
UV_RUN := $(or $(UV),$(TOOLS)/bin/uv)
# Which Airflow versions `make test-matrix` runs, and how deep: see scripts/test_matrix.py --help.
MATRIX_ARGS ?=

.PHONY: demo test test-matrix lint bench soak emulator clean e2e race bench-budget bench-triggers e2e-workers

# uv from PyPI into .venv-tools when it is not on PATH; if even that fails, pip does the work (slower).
$(TOOLS)/bin/uv:
	@$(PYTHON) -m venv $(TOOLS) && $(TOOLS)/bin/python -m pip install --quiet uv \
	  || { rm -rf $(TOOLS); echo 'uv could not be installed: pip does the work instead (slower)'; }

$(BIN)/python: | $(if $(UV),,$(TOOLS)/bin/uv)
	@if [ -x $(UV_RUN) ]; then $(UV_RUN) venv --quiet --python $(PYTHON) $(VENV); \
	else $(PYTHON) -m venv $(VENV) && $(BIN)/python -m pip install --quiet --upgrade pip; fi

# install(<requirements>): uv if the venv was made by uv (no pip inside), pip otherwise. $(call) splits its
# arguments at commas, so requirements with extras come through variables.
WITH_BENCH := '.[dev,bench]'
WITH_E2E   := '.[dev,e2e]'
define install
	@if [ -x $(BIN)/pip ]; then $(BIN)/python -m pip install --quiet $(1); \
	else $(UV_RUN) pip install --quiet --python $(BIN)/python $(1); fi
endef

# Reinstall whenever a pyproject.toml changes (new dependency, new extra).
$(STAMP): pyproject.toml $(EMULATOR)/pyproject.toml | $(BIN)/python
	$(call install,-e '.[dev]' -e ./$(EMULATOR))
	touch $(STAMP)

$(VENV)/.installed-bench: $(STAMP)
	$(call install,-e $(WITH_BENCH) -e ./$(EMULATOR))
	touch $@

test: $(STAMP)
	$(BIN)/python -m pytest -q

# Each supported Airflow minor in its own venv under .venv-matrix (same installer choice as above).
test-matrix: | $(if $(UV),,$(TOOLS)/bin/uv)
	UV=$(UV_RUN) $(PYTHON) scripts/test_matrix.py $(MATRIX_ARGS)

demo: $(STAMP)
	$(BIN)/python scripts/demo.py

lint: $(STAMP)
	$(BIN)/ruff check airflow_provider_twads $(EMULATOR) tests dags_examples benchmarks scripts
	$(BIN)/ruff format --check airflow_provider_twads $(EMULATOR) tests dags_examples benchmarks scripts
	$(BIN)/mypy

bench: $(VENV)/.installed-bench
	$(BIN)/python benchmarks/run_all.py

soak: $(STAMP)
	$(BIN)/python benchmarks/soak.py

emulator: $(STAMP)
	$(BIN)/twads-emulator --host 127.0.0.1 --port 8765

# A real Airflow deployment (PostgreSQL, 4 components, LocalExecutor) and headless Chromium; installs the
# Debian packages postgresql and chromium when missing. Results and screenshots: e2e-results/.
$(VENV)/.installed-e2e: $(STAMP) pyproject.toml
	$(call install,-e $(WITH_E2E) -e ./$(EMULATOR))
	touch $@

e2e: $(VENV)/.installed-e2e
	$(BIN)/python -m scripts.e2e

clean:
	rm -rf $(VENV) $(TOOLS) .venv-matrix .airflow

# K writers in separate processes on colliding keys (issue 11): duplicates, divergent IDs, failed tasks.
race: $(STAMP)
	$(BIN)/python benchmarks/race.py --writers 4 --trials 3

# Issue 11: 4 and 8 worker processes sharing one write budget (2 per 3 s); see benchmarks/README.md.
bench-budget: $(STAMP)
	$(BIN)/python benchmarks/bench_shared_budget.py --workers 4 8

# Deferrable waits at scale (issue 16): N = 10, 100, 500, 1,000 cursor triggers in one loop (~3 minutes).
bench-triggers: $(STAMP)
	$(BIN)/python benchmarks/bench_triggers.py --n 10 100 500 1000

# Analytics report of 1,002,240 rows through AnalyticsReportOperator vs a plain loop (issue 15; ~1 minute).
.PHONY: bench-report
bench-report: $(STAMP)
	$(BIN)/python benchmarks/bench_report.py

# Issue 11: overlapping launches on a real multi-worker Airflow (CeleryExecutor, 2 workers, Redis from the
# Debian package redis-server; LocalExecutor if Celery cannot run); ~6 minutes. Logs: e2e-results/workers/.
# The e2e extra carries the Celery provider (and celery<5.7: 5.7 removed a name the provider imports).
e2e-workers: $(VENV)/.installed-e2e
	$(BIN)/python -m scripts.e2e.workers
