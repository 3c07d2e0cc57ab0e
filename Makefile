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

run: sync ## seed the demo data, run the pipeline locally for START..END with a progress view, print the summary
	$(RUN) baton seed
	@status=0; $(RUN) baton run --start $(START) --end $(END) --concurrency $(CONCURRENCY) || status=$$?; \
	$(RUN) baton summary --start $(START) --end $(END); exit $$status

check: sync ## lint (ruff) and the Dockerfiles (hadolint)
	$(RUN) ruff check .
	$(RUN) hadolint steps/*/Dockerfile

test: check ## lint, then the whole test suite
	$(RUN) pytest

STACK_FILE ?= infra/Pulumi.example.yaml
plan: sync ## print offline what `pulumi up` would create, with the IAM graph (STACK_FILE=...)
	$(RUN) python -m baton_infra.plan $(STACK_FILE)

STEPS := extract transform validate load
TAG ?= dev
images: ## build the four step images (needs a Docker engine): baton-<step>:$(TAG)
	@for step in $(STEPS); do \
	  docker build -f steps/$$step/Dockerfile -t baton-$$step:$(TAG) . || exit $$?; \
	done

bench: sync ## measure the steps against fused-polars and chunked-pandas baselines, and the engine overhead
	$(RUN) python -m bench
	$(RUN) python bench/engine_overhead.py

chaos: sync ## fault injection on both lakes (kill -9, a killed orchestrator, torn files, full disk, flaky GCS): one line of figures per scenario
	$(RUN) python -m chaos

.PHONY: help sync run check test bench plan images chaos
