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

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

.venv/.synced: $(UV) uv.lock pyproject.toml */pyproject.toml steps/*/pyproject.toml
	$(UV) sync --locked
	@touch $@

sync: .venv/.synced ## install uv and the locked environment

run: sync ## seed the demo data and run the pipeline for START..END (default 2013-01-01..07)
	$(RUN) baton seed
	@for d in $$($(RUN) python -c "import datetime as t; s=t.date.fromisoformat('$(START)'); e=t.date.fromisoformat('$(END)'); print(*[s+t.timedelta(i) for i in range((e-s).days+1)])"); do \
	  for step in extract transform validate load; do \
	    $(RUN) python -m baton_$$step run --date $$d > /dev/null || exit $$?; \
	  done; \
	done
	$(RUN) baton summary --start $(START) --end $(END)

check: sync ## lint (ruff) and the Dockerfiles (hadolint)
	$(RUN) ruff check .
	$(RUN) hadolint steps/*/Dockerfile

test: check ## lint, then the whole test suite
	$(RUN) pytest

bench: sync ## time and measure the steps against a fused polars and a chunked pandas baseline
	$(RUN) python -m bench

.PHONY: help sync run check test bench
