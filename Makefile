# Odoo security suite. Odoo 18.0 itself is a prerequisite found at ODOO_HOME.
ODOO_HOME ?= /opt/odoo
PYTHON3 ?= python3
export ODOO_HOME

.PHONY: run test bench setup stop clean

run:    ## serve the demo database on http://127.0.0.1:8069
	@$(PYTHON3) scripts/dev.py run

test:   ## pytest on tests/ and Odoo's test runner for every addon, on a fresh database
	@$(PYTHON3) scripts/dev.py test

bench:  ## benchmarks, measured side by side in one run
	@$(PYTHON3) scripts/dev.py bench

setup:  ## virtualenv, requirements and the local PostgreSQL only
	@$(PYTHON3) scripts/dev.py setup

stop:   ## stop the local PostgreSQL
	@$(PYTHON3) scripts/dev.py stop

clean: stop  ## remove .venv and .local (databases included)
	rm -rf .venv .local
