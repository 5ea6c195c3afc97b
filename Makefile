# `make run` runs AppManage; `make test` runs every check. Both set up what they need.
VENV ?= .venv
BIN := $(VENV)/bin
export APPMANAGE_DATA_DIR ?= $(CURDIR)/data

.PHONY: run test setup services images assets browser venv lint typecheck unit schema bench clean

run: setup
	$(BIN)/appmanage run

# PostgreSQL variants of the storage tests must run here, not skip (APPMANAGE_TEST_REQUIRE_POSTGRES=0 lets them)
test: setup browser lint typecheck
	APPMANAGE_TEST_REQUIRE_POSTGRES=$${APPMANAGE_TEST_REQUIRE_POSTGRES:-1} $(BIN)/pytest -q -p no:cacheprovider

setup: venv services images assets

venv: $(BIN)/.installed

$(BIN)/.installed: pyproject.toml requirements.lock scripts/setup-venv.sh
	scripts/setup-venv.sh $(VENV)
	touch $@

services:
	scripts/ensure-services.sh

images: services
	images/build.sh

assets:
	scripts/graphiql-assets.sh
	scripts/dashboard-assets.sh

browser:
	scripts/ensure-browser.sh

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: venv
	$(BIN)/mypy

unit: venv
	$(BIN)/pytest -q -p no:cacheprovider -m "not docker"

schema: venv
	$(BIN)/appmanage export-schema --output graphql/schema.graphql

bench: setup
	$(BIN)/python -m bench.apps_query
	$(BIN)/python -m bench.event_latency
	$(BIN)/python -m bench.job_overhead
	$(BIN)/python -m bench.fanout
	$(BIN)/python -m bench.chaos
	$(BIN)/python -m bench.memory
	$(BIN)/python -m bench.hosts
	$(BIN)/python -m bench.stats
	$(BIN)/python -m bench.backup

clean:
	rm -rf build $(VENV) appmanage/graphiql/static appmanage/dashboard/static
