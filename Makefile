# Resonanz: `make run` starts the service on the embedded default, `make test` runs the suite.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# pytest-xdist processes for `make test` (the suite's tests are independent: own databases, ports, folders).
TEST_WORKERS ?= 2

.PHONY: run test fuzz fuzz-ci multihost install lint demo bench clean messages seed-vectors

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# The reference Bluesky server (PDS, PLC directory, AppView) the social-network tests run against, from npm.
BLUESKY := tests/support/bluesky
$(BLUESKY)/node_modules/.installed: $(BLUESKY)/package-lock.json
	npm ci --prefix $(BLUESKY) --no-audit --no-fund --loglevel=error
	touch $@

install: $(STAMP)

run: $(STAMP)
	$(BIN)/resonanz setup
	$(BIN)/resonanz run $(if $(DEMO),--demo,)

demo: $(STAMP)
	$(BIN)/resonanz setup
	$(BIN)/resonanz demo

test: $(STAMP) $(BLUESKY)/node_modules/.installed
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports
	find src -name '*.js' -print0 | xargs -0 -n1 node --check
	$(BIN)/pytest -m "not fuzz and not multihost" -n $(TEST_WORKERS) $(PYTEST_ARGS)

# Several hosts in network namespaces (root, iproute2, PostgreSQL's server binaries, redis-server); CI runs it once.
multihost: $(STAMP)
	$(BIN)/pytest -m multihost -s $(PYTEST_ARGS)

# schemathesis over the published API schema, 25 examples per operation (about 10 minutes on 2 cores).
fuzz: $(STAMP)
	$(BIN)/pytest -m fuzz $(PYTEST_ARGS)

# The same run bounded for CI (once per run): derandomized, no example database, 5 examples per operation,
# so it sends the same requests every time and fails only when the API or its schema changed.
fuzz-ci: $(STAMP)
	RESONANZ_FUZZ_EXAMPLES=5 $(BIN)/pytest -m fuzz -p no:cacheprovider -q $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports

messages: $(STAMP)
	cd src/resonanz && ../../$(BIN)/resonanz makemessages -l de --ignore=tests

# Re-embed the seed corpus into src/resonanz/analysis/seed/vectors.npz (commit it): after the corpus or encoder changed.
seed-vectors: $(STAMP)
	$(BIN)/resonanz build_seed

bench: $(STAMP)
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) var
