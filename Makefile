# baton: a thin, self-documenting front. `make help` lists the targets.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
TOOLS := .tools
UV_VERSION := 0.13.9
UV := $(TOOLS)/bin/uv
RUN := $(UV) run --locked

START ?= 2013-01-01
END ?= 2013-01-07
CONCURRENCY ?= 4

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

.venv/.synced: $(UV) uv.lock pyproject.toml */pyproject.toml steps/*/pyproject.toml workflows/*/pyproject.toml
	$(UV) sync --locked
	@touch $@

sync: .venv/.synced ## install uv and the locked environment

run: sync ## seed the demo data, run the pipeline locally for START..END with a progress view, print the summary and the run report's path
	$(RUN) baton seed
	@status=0; $(RUN) baton run --start $(START) --end $(END) --concurrency $(CONCURRENCY) --no-report || status=$$?; \
	$(RUN) baton summary --start $(START) --end $(END); \
	$(RUN) baton report; exit $$status

check: sync ## lint (ruff) and the Dockerfiles (hadolint)
	$(RUN) ruff check .
	$(RUN) hadolint steps/*/Dockerfile

test: check browser ## lint, then the whole test suite on two workers (pytest-xdist; browser tests included)
	$(RUN) pytest -n 2 --dist loadfile

CHROMIUM := /usr/bin/chromium
browser: ## install Debian's chromium (apt) for the browser tests, unless it is there
	@if [ ! -x $(CHROMIUM) ]; then \
	  sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
	  $$sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq chromium; \
	fi

screenshots: sync browser ## regenerate docs/img/report.png and docs/img/console.png from real runs
	mkdir -p docs/img
	BATON_SCREENSHOTS=$(CURDIR)/docs/img $(RUN) pytest -q -k no_console_error \
	  tests/cli/test_report_browser.py tests/twin/test_console.py

STACK_FILE ?= infra/Pulumi.example.yaml
plan: sync ## print offline what `pulumi up` would create, with the IAM graph (STACK_FILE=...)
	$(RUN) python -m baton_infra.plan $(STACK_FILE)

POLICY ?= .baton/policy.json
policy: sync ## export the IAM policy the stack grants to POLICY, for `baton run --iam enforce` (STACK_FILE=...)
	@mkdir -p $(dir $(POLICY))
	$(RUN) python -m baton_infra.policy $(STACK_FILE) --out $(POLICY)

STEPS := extract transform validate load
TAG ?= dev
images: ## build the four step images (needs a Docker engine): baton-<step>:$(TAG)
	@for step in $(STEPS); do \
	  docker build -f steps/$$step/Dockerfile -t baton-$$step:$(TAG) . || exit $$?; \
	done

bench: sync ## measure the steps against fused-polars and chunked-pandas baselines, start-up, a year's backfill, the engine overhead, extract per source beside its floor
	$(RUN) python -m bench
	$(RUN) python bench/startup.py
	$(RUN) python -m bench.year
	$(RUN) python bench/engine_overhead.py
	$(RUN) python -m bench.sources

SOURCES_START ?= 2013-01-01
SOURCES_END ?= 2013-01-03
demo-sources: sync ## run flights_api and flights_db through the workflow against the demo API and PostgreSQL (started and stopped here), then rows from source, loaded, quarantined per date
	$(RUN) baton demo sources --start $(SOURCES_START) --end $(SOURCES_END)

chaos: sync ## fault injection on both lakes (kill -9, a killed orchestrator, torn files, full disk, flaky GCS): one line of figures per scenario
	$(RUN) python -m chaos

.PHONY: help sync run check test browser screenshots bench plan images chaos demo-sources
