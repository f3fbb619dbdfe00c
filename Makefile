# OneSource — every target runs through uv, so the versions pinned in uv.lock are the ones used.
UV ?= uv
PYTEST_WORKERS ?= 2

.DEFAULT_GOAL := help
.PHONY: help install run test test-fast lint format typecheck contracts contracts-check bench clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  \033[1m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

install: ## create .venv with every service and the dev tools (uv sync --frozen)
	$(UV) sync --frozen

run: install ## start the whole mesh on embedded PostgreSQL and Kafka (Ctrl-C stops everything)
	$(UV) run --frozen onesource up

# The tests that drive a whole running mesh (nine processes) run after the others, not beside them: on a small
# machine they would starve the fault tests' timing.
test: install ## run every test against real PostgreSQL and Kafka (embedded unless env vars name servers)
	$(UV) run --frozen pytest -n $(PYTEST_WORKERS) --dist loadfile -m "not mesh"
	$(UV) run --frozen pytest -m mesh

test-fast: install ## the tests without the slow fault tests and without the mesh
	$(UV) run --frozen pytest -n $(PYTEST_WORKERS) --dist loadfile -m "not slow and not mesh"

lint: install ## ruff (lint + format check), mypy strict, and the contracts drift check
	$(UV) run --frozen ruff check .
	$(UV) run --frozen ruff format --check .
	$(UV) run --frozen mypy
	$(UV) run --frozen onesource contracts --check

format: install ## apply ruff's fixes and formatting
	$(UV) run --frozen ruff check --fix .
	$(UV) run --frozen ruff format .

typecheck: install ## mypy strict only
	$(UV) run --frozen mypy

contracts: install ## regenerate contracts/ (OpenAPI per service, JSON Schema per event type)
	$(UV) run --frozen onesource contracts

contracts-check: install ## fail if contracts/ and the code disagree
	$(UV) run --frozen onesource contracts --check

bench: install ## run the benchmarks and write tests/bench/RESULTS.md
	$(UV) run --frozen python -m tests.bench

clean: ## remove local state (var/) and caches — not the virtualenv
	rm -rf var .pytest_cache .mypy_cache .ruff_cache .hypothesis
