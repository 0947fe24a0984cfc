# Strongroom: the two commands that do everything on a fresh machine.
#   make serve   create .venv, install the locked versions, start a dev server on SQLite (port 8400)
#   make test    create .venv, install the locked versions, lint + types + the whole suite
# Any Python from 3.11 up: the newest python3.1x on the PATH that runs (a shim that names a
# version it cannot start is passed over), else python3 if it is 3.11+, or PYTHON=/path/to/python.
# The versions installed are the ones in requirements/*.txt (exported from uv.lock), hash-checked.
ifeq ($(origin PYTHON),undefined)
PYTHON := $(shell for p in python3.15 python3.14 python3.13 python3.12 python3.11 python3; do \
	  $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 \
	  && { echo $$p; break; }; done)
endif
PYVER  := $(shell $(PYTHON) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(PYVER)
PORT   ?= 8400
# The JavaScript clients' tests (tests/clients/js, driven by tests/integration/test_js_clients.py):
# `npm ci` installs exactly what package-lock.json pins, again whenever it changes. Without node
# and npm on the PATH nothing is installed and the driver skips those tests, saying why.
JS_DIR    := tests/clients/js
JS_STAMP  := $(JS_DIR)/node_modules/.installed
HAVE_NODE := $(shell command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 && echo yes)
# The lock's exports: what make serve and make test install (dev), a server alone (server),
# and the load generator's peers (bench). Each is one `uv export` of uv.lock.
EXPORT := $(BIN)/uv export --frozen --no-emit-project --format requirements-txt --quiet

.PHONY: install serve test lint types unit integration js bench lock exports upgrade clean

install: $(STAMP)

# A fresh venv whenever the lock or the Python changes, so it holds exactly what the lock says.
$(STAMP): requirements/dev.txt pyproject.toml
	@test -n "$(PYVER)" || { echo "need Python 3.11 or newer: python3.11, python3.12, python3.13 ..." \
	  "on the PATH, or PYTHON=/path/to/python3.x (got '$(PYTHON)')"; exit 1; }
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "$(PYTHON) is Python $(PYVER); Strongroom needs 3.11 or newer"; exit 1; }
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements/dev.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	touch $(STAMP)

serve: $(STAMP)
	$(BIN)/strongroom serve --dev --data-dir .strongroom-dev --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks tools
	$(BIN)/ruff format --check src tests benchmarks tools
	$(BIN)/lint-imports --no-cache

types: $(STAMP)
	$(BIN)/mypy

test: lint types js
	$(BIN)/pytest -q

unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

integration: $(STAMP) js
	$(BIN)/pytest -q tests/integration

ifeq ($(HAVE_NODE),yes)
js: $(JS_STAMP)
else
js:
	@echo "node and npm are not on the PATH: the JavaScript client tests will be skipped"
endif

$(JS_STAMP): $(JS_DIR)/package.json $(JS_DIR)/package-lock.json
	cd $(JS_DIR) && npm ci --ignore-scripts --no-audit --no-fund
	touch $@

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements/bench.txt
	$(BIN)/python -m benchmarks.loadgen --help

# After editing the dependencies in pyproject.toml: resolve what changed, keep the rest, export.
lock: $(STAMP)
	$(BIN)/uv lock
	$(MAKE) --no-print-directory exports

exports: $(STAMP)
	$(EXPORT) --extra postgres --group build -o requirements/server.txt
	$(EXPORT) --extra dev --extra postgres --group build -o requirements/dev.txt
	$(EXPORT) --extra dev --extra postgres --extra bench --group build -o requirements/bench.txt

# On purpose: the newest versions that pyproject.toml allows, installed, shown, then tested.
# The service-model record (tests/botocore-models.json) is rewritten, so a change in AWS's schema
# is a diff to review like any other.
upgrade: $(STAMP)
	mkdir -p build/before-upgrade
	cp requirements/dev.txt tests/botocore-models.json build/before-upgrade/
	$(BIN)/uv lock --upgrade
	$(MAKE) --no-print-directory exports
	$(MAKE) --no-print-directory install
	$(BIN)/python -m tools.lockfile diff build/before-upgrade/dev.txt requirements/dev.txt
	$(BIN)/python -m tools.lockfile models --write tests/botocore-models.json \
	  --before build/before-upgrade/botocore-models.json
	$(MAKE) --no-print-directory test

clean:
	rm -rf $(VENV) .strongroom-dev .mypy_cache .ruff_cache .pytest_cache $(JS_DIR)/node_modules
