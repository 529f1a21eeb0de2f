# Contact Hub — `make run` serves the hub on the embedded store; `make test` runs the suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Contact Hub needs Python 3.11+")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { echo "python3 -m venv failed: on Debian run 'apt-get install python3-venv'"; exit 1; }
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/hub demo --if-empty
	$(BIN)/hub serve

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(STAMP)
	@for b in bench/ingest.py bench/read_latency.py bench/mongo.py bench/webchat.py; do \
		echo "== $$b"; $(BIN)/python $$b $(BENCH_ARGS) || exit $$?; done

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
