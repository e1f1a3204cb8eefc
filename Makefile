# Developer commands for the work_order Odoo 18.0 addon.
# Everything heavy (Odoo source, virtualenv, PostgreSQL cluster, databases'
# files) lives in a cache outside the repository; see README.md.
.DEFAULT_GOAL := help
.PHONY: help run test pytest lint benchmark

help: ## List the targets
	@echo "Targets:"
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "} {printf "  make %-10s %s\n", $$1, $$2}'
	@echo "Variables: ODOO_SRC, WORK_ORDER_CACHE, PORT, DB, TEST_TAGS, ARGS, PYTEST_DB, PGHOST, PGPORT, PGUSER"

run: ## Serve the addon with demo data at http://localhost:8069 (PORT=...), admin / admin
	@bash tooling/run.sh

test: lint ## Lint, then install the addon in a fresh database and run its tests
	@bash tooling/test.sh

pytest: ## The tests through pytest-odoo on a kept database (ARGS="-k resume tests/test_lifecycle.py")
	@bash tooling/pytest.sh $(ARGS)

lint: ## ruff, pylint-odoo and the OCA checks
	@bash tooling/lint.sh

benchmark: ## Performance benchmark beside sale.order (ARGS="--scale 0.05")
	@bash tooling/benchmark.sh $(ARGS)
