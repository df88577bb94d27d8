# Linli: `make run` starts everything on SQLite + embedded Redis; `make test` runs the suite on SQLite,
# then on PostgreSQL when it answers. Both install what they need first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY_STAMP := $(VENV)/.installed
VENDOR_STAMP := h5/static/vendor/.installed
PG_URL ?= postgresql://postgres@127.0.0.1:5432/test

.PHONY: install run dev test test-fast test-tools report-font bench soak lint clean

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

run: install report-font
	$(BIN)/linli dev

# As `make run`, with Werkzeug's server restarting on code changes instead of gunicorn.
dev: install report-font
	$(BIN)/linli dev --reload

# Debian's chromium (Playwright drives it; no browser download), zbar-tools (QR decoding in tests),
# poppler-utils (pdftotext reads the reports' PDFs back), nginx (`nginx -t` and a live run of deploy/nginx-site.conf),
# redis-server (deploy/redis.conf through a crash) and postgresql-client (pg_dump, pg_restore: `linli backup`), and
# the reports' CJK font.
TEST_COMMANDS := chromium zbarimg pdftotext redis-server pg_dump pg_restore
test-tools: report-font
	@(for command in $(TEST_COMMANDS); do command -v $$command >/dev/null || exit 1; done) && [ -x /usr/sbin/nginx ] || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium zbar-tools poppler-utils \
	    nginx redis-server postgresql-client >/dev/null; }

# The CJK font the reports' PDFs embed (backend/services/report_files.py looks for it; LINLI_REPORT_FONT overrides).
REPORT_FONTS := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
report-font:
	@[ -n "$$(ls $(REPORT_FONTS) 2>/dev/null)" ] || { \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei >/dev/null; }

# Every test starts on a fixed clock (tests/conftest.py), never the real date: the suite at 2026-11-25 10:00
# Beijing on SQLite, the tests marked `calendar` again (same run) at a short month's end and at a subsidy tier's
# boundary (the tests' policies start 2025-07-01), and the tests that touch the database again on PostgreSQL at
# a Beijing year's end.
YEAR_END := 2026-12-31T23:57:00+08:00
CALENDAR_EDGES := 2027-02-28T23:57:00+08:00 2027-06-30T23:57:00+08:00

# One pytest-xdist worker per core (each with its own Redis and PostgreSQL database, see tests/conftest.py); a
# module whose tests share data built once (`built_once`) goes to one worker, which builds it once.
PYTEST := $(BIN)/pytest -n auto --maxprocesses=4 --dist loadgroup

test: lint test-tools
	LINLI_TEST_DATABASE_URL=sqlite $(PYTEST) $(foreach moment,$(CALENDAR_EDGES),--calendar-at=$(moment))
	@if LINLI_TEST_DATABASE_URL=$(PG_URL) $(BIN)/python scripts/pg_reachable.py; then \
	  echo "== again on PostgreSQL, at $(YEAR_END) =="; LINLI_TEST_DATABASE_URL=$(PG_URL) $(PYTEST) --now=$(YEAR_END); fi

# The inner loop: SQLite at the usual moment, without the browser, fuzz and slow tests (markers: tests/conftest.py).
test-fast: install
	LINLI_TEST_DATABASE_URL=sqlite $(PYTEST) -m "not browser and not fuzz and not slow"

bench: install
	@command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
	@export LINLI_BENCH_SUMMARY=$$(mktemp); status=0; \
	  $(BIN)/python -m bench.run || status=1; $(BIN)/python -m bench.fanout || status=1; \
	  $(BIN)/python -m bench.workorders || status=1; $(BIN)/python -m bench.consultations || status=1; \
	  $(BIN)/python -m bench.fees || status=1; $(BIN)/python -m bench.rating || status=1; \
	  $(BIN)/python -m bench.surveys || status=1; $(BIN)/python -m bench.fast3g || status=1; \
	  $(BIN)/python -m bench.burst || status=1; $(BIN)/python -m bench.dashboard || status=1; \
	  $(BIN)/python -m bench.reports || status=1; $(BIN)/python -m bench.funds || status=1; \
	  $(BIN)/python -m bench.metrics || status=1; $(BIN)/python -m bench.targets || status=1; \
	  rm -f $$LINLI_BENCH_SUMMARY; exit $$status

# The city under mixed traffic with faults, checked by counting (bench/soak.py; LINLI_SOAK_MINUTES shortens it).
soak: install
	$(BIN)/python -m bench.soak

# ruff, then the layering contracts in pyproject.toml (import-linter; docs/architecture.md).
lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache

clean:
	rm -rf $(VENV) node_modules h5/static/vendor instance tests/artifacts
