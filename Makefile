# One entry for every developer task. `make demo` and `make test` work from a fresh clone.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
export CITYDATA_VAR_DIR ?= $(CURDIR)/var

.PHONY: install dev demo serve test test-sqlite test-postgres lint fmt bench openapi messages docs lock clean vendor

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The platform alone, at the pinned versions in constraints.txt.
$(VENV)/.installed: $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/pip install --quiet -c constraints.txt -e .
	touch $@

# The platform with the test and lint tools.
$(VENV)/.dev-installed: $(VENV)/.installed
	$(BIN)/pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

install: $(VENV)/.installed

dev: $(VENV)/.dev-installed

demo: install
	$(BIN)/citydata demo
	PORT=$(PORT) $(BIN)/citydata serve --port $(PORT) --simulate

serve: install
	$(BIN)/citydata serve --port $(PORT)

# Service and query layers are type-checked (mypy with django-stubs); the rest is linted.
TYPED := $(wildcard citydata/*/services.py citydata/*/services/*.py citydata/*/queries.py) citydata/accounts/authz.py \
         citydata/security/audit.py citydata/jobs/schedule.py citydata/paging.py

lint: dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy $(TYPED)

fmt: dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# SQLite always; PostgreSQL too when DATABASE_URL is set (.ci/run sets it). The two suites run side by side: each is
# one process that keeps about one core busy, and together they take little longer than the PostgreSQL one alone.
# Where make can (GNU make 4), each suite's report is printed whole when the suite ends.
OUTPUT_SYNC := $(if $(filter output-sync,$(.FEATURES)),--output-sync=target)
test: lint
	env -u DATABASE_URL $(BIN)/citydata check --fail-level WARNING
	env -u DATABASE_URL $(BIN)/citydata makemigrations --check --dry-run
	@if [ -n "$$DATABASE_URL" ]; then \
	  echo "pytest on SQLite and on PostgreSQL at once; each report follows when its suite ends"; \
	  $(MAKE) --no-print-directory -j2 $(OUTPUT_SYNC) test-sqlite test-postgres; \
	else \
	  $(MAKE) --no-print-directory test-sqlite && echo "DATABASE_URL not set: PostgreSQL run skipped"; \
	fi

# Each suite keeps its local state (the SQLite test database, the generated secret key) in a folder of its own.
test-sqlite: dev
	env -u DATABASE_URL CITYDATA_VAR_DIR="$(CITYDATA_VAR_DIR)/test-sqlite" $(BIN)/pytest $(PYTEST_ARGS)

test-postgres: dev
	CITYDATA_VAR_DIR="$(CITYDATA_VAR_DIR)/test-postgres" $(BIN)/pytest $(PYTEST_ARGS)

bench: dev
	$(BIN)/pip install --quiet -c constraints.txt -e '.[bench]'
	$(BIN)/python benchmarks/bench_ingest.py
	$(BIN)/python benchmarks/bench_layout.py
	$(BIN)/python benchmarks/bench_api.py
	$(BIN)/python benchmarks/bench_privacy.py
	$(BIN)/python benchmarks/bench_quality.py
	$(BIN)/python benchmarks/bench_watermark.py

# Regenerate the committed OpenAPI document after an API change (a test compares the two).
openapi: dev
	$(BIN)/citydata export_openapi_schema --api citydata.api.api --indent 2 --sorted --output docs/openapi.json

# Refresh the vendored front-end files from npm (see citydata/portal/static/vendor/README.md).
ECHARTS_VERSION := 6.1.0
HTMX_VERSION := 2.0.11
vendor:
	rm -rf $(VENV)/vendor && mkdir -p $(VENV)/vendor/echarts $(VENV)/vendor/htmx
	cd $(VENV)/vendor/echarts && npm pack --silent echarts@$(ECHARTS_VERSION) && tar xzf echarts-$(ECHARTS_VERSION).tgz
	cp $(VENV)/vendor/echarts/package/dist/echarts.min.js $(VENV)/vendor/echarts/package/LICENSE \
	   $(VENV)/vendor/echarts/package/NOTICE citydata/portal/static/vendor/echarts/
	cd $(VENV)/vendor/htmx && npm pack --silent htmx.org@$(HTMX_VERSION) && tar xzf htmx.org-$(HTMX_VERSION).tgz
	cp $(VENV)/vendor/htmx/package/dist/htmx.min.js $(VENV)/vendor/htmx/package/LICENSE citydata/portal/static/vendor/htmx/

# Collect new strings into the English catalogue (needs GNU gettext), then compile it.
# Translate the new entries in citydata/locale/en/LC_MESSAGES/django.po and run it again.
messages: dev
	cd citydata && ../$(BIN)/citydata makemessages -l en --no-obsolete
	$(BIN)/python -m citydata.i18n compile

# Regenerate the generated parts of the docs: the settings table and the OpenAPI document.
docs: dev openapi
	$(BIN)/python -m citydata.docs

# Re-pin every dependency (run after changing pyproject.toml, then commit constraints.txt).
lock:
	rm -rf .lockenv && $(PYTHON) -m venv .lockenv && .lockenv/bin/pip install --quiet -e '.[dev]'
	.lockenv/bin/pip freeze --exclude-editable | grep -v '^citydata' > constraints.txt
	rm -rf .lockenv

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
