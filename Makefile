# Linli: `make run` starts everything on SQLite + embedded Redis; `make test` runs the suite on SQLite,
# then on PostgreSQL when it answers. Both install what they need first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY_STAMP := $(VENV)/.installed
VENDOR_STAMP := h5/static/vendor/.installed
PG_URL ?= postgresql://postgres@127.0.0.1:5432/test

.PHONY: install run test test-tools bench lint clean

install: $(PY_STAMP) $(VENDOR_STAMP)

$(PY_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

$(VENDOR_STAMP): package.json package-lock.json scripts/vendor_assets.py
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	$(BIN)/python scripts/vendor_assets.py
	touch $@

run: install
	$(BIN)/linli dev

# Debian's chromium (Playwright drives it; no browser download) and zbar-tools (QR decoding in tests).
test-tools:
	@command -v chromium >/dev/null && command -v zbarimg >/dev/null || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium zbar-tools >/dev/null; }

test: install test-tools
	LINLI_TEST_DATABASE_URL=sqlite $(BIN)/pytest
	@if LINLI_TEST_DATABASE_URL=$(PG_URL) $(BIN)/python scripts/pg_reachable.py; then \
	  echo "== again on PostgreSQL =="; LINLI_TEST_DATABASE_URL=$(PG_URL) $(BIN)/pytest; fi

bench: install
	@command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	@status=0; $(BIN)/python -m bench.run || status=1; $(BIN)/python -m bench.fanout || status=1; \
	  $(BIN)/python -m bench.workorders || status=1; $(BIN)/python -m bench.consultations || status=1; \
	  $(BIN)/python -m bench.fees || status=1; exit $$status

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) node_modules h5/static/vendor instance tests/artifacts
