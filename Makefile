# OneSource — every target runs through uv, so the versions pinned in uv.lock are the ones used.
#
# uv comes from PATH when there is one; otherwise the first target installs a pinned uv into .tools/ with
# `python3 -m pip` (from the package registry), so a machine with only Python >= 3.11 and make needs nothing else.
UV_VERSION := 0.13.9
PYTHON ?= python3
LOCAL_UV := $(CURDIR)/.tools/uv-$(UV_VERSION)/bin/uv
UV ?= $(or $(shell command -v uv 2>/dev/null),$(LOCAL_UV))
PYTEST_WORKERS ?= 2
# uv uses a Python >= 3.11 it finds on the machine; it never downloads one.
export UV_PYTHON_DOWNLOADS ?= never

.DEFAULT_GOAL := help
.PHONY: help uv install install-runtime run test test-fast test-faults lint format typecheck contracts contracts-check bench clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  \033[1m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(LOCAL_UV):
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "make: $(PYTHON) is not on PATH; OneSource needs Python >= 3.11" >&2; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "make: $$($(PYTHON) --version 2>&1) is too old; OneSource needs Python >= 3.11" >&2; exit 1; }
	@echo "uv is not on PATH: installing uv $(UV_VERSION) into .tools/ (python3 -m pip, from the package registry)"
	@$(PYTHON) -m pip --version >/dev/null 2>&1 || { echo "make: pip is missing for $(PYTHON) (Debian: apt install python3-pip), or put uv on PATH" >&2; exit 1; }
	@rm -rf $(dir $(@D))
	@PIP_USER=0 PIP_REQUIRE_VIRTUALENV=0 $(PYTHON) -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
		--root-user-action=ignore --target $(dir $(@D)) uv==$(UV_VERSION)
	@$(UV) --version

uv: $(if $(filter $(LOCAL_UV),$(UV)),$(LOCAL_UV))

install: uv ## create .venv with every service and the dev tools (uv sync --frozen)
	$(UV) sync --frozen

install-runtime: uv ## create .venv with what running the services needs (no dev tools)
	$(UV) sync --frozen --no-dev --inexact

run: install-runtime ## start the whole mesh on embedded PostgreSQL and Kafka (Ctrl-C stops everything; ARGS= for flags)
	$(UV) run --frozen --no-sync onesource up $(ARGS)

# The tests that drive a whole running mesh (nine processes) run after the others, not beside them: on a small
# machine they would starve the fault tests' timing.
test: install ## run every test against real PostgreSQL and Kafka (embedded unless env vars name servers)
	$(UV) run --frozen --no-sync pytest -n $(PYTEST_WORKERS) --dist loadfile -m "not mesh"
	$(UV) run --frozen --no-sync pytest -m mesh

# The full fault suite: 105 faults (15 of each kind) over a mesh of its own, then the checker; `make test` runs a
# short one (21 faults) among the mesh tests. SEED= replays a run.
test-faults: install ## the fault suite (a nemesis, a recorded history, a checker); writes tests/faults/RESULTS.md
	$(UV) run --frozen --no-sync python -m tests.faults --faults 105 $(if $(SEED),--seed $(SEED))

test-fast: install ## the tests without the slow fault tests and without the mesh
	$(UV) run --frozen --no-sync pytest -n $(PYTEST_WORKERS) --dist loadfile -m "not slow and not mesh"

lint: install ## ruff (lint + format check), mypy strict, and the contracts drift check
	$(UV) run --frozen --no-sync ruff check .
	$(UV) run --frozen --no-sync ruff format --check .
	$(UV) run --frozen --no-sync mypy
	$(UV) run --frozen --no-sync onesource contracts --check

format: install ## apply ruff's fixes and formatting
	$(UV) run --frozen --no-sync ruff check --fix .
	$(UV) run --frozen --no-sync ruff format .

typecheck: install ## mypy strict only
	$(UV) run --frozen --no-sync mypy

contracts: install ## regenerate contracts/ (OpenAPI per service, JSON Schema per event type)
	$(UV) run --frozen --no-sync onesource contracts

contracts-check: install ## fail if contracts/ and the code disagree
	$(UV) run --frozen --no-sync onesource contracts --check

bench: install ## run the benchmarks and write tests/bench/RESULTS.md
	$(UV) run --frozen --no-sync python -m tests.bench

clean: ## stop a mesh left running, remove local state (var/) and caches — not the virtualenv or .tools/
	@if [ -f var/mesh.pids ] && [ -x .venv/bin/onesource ]; then .venv/bin/onesource down --var var; fi
	rm -rf var .pytest_cache .mypy_cache .ruff_cache .hypothesis
