# Eco² developer entry points. `make up` and `make test` work on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
STAMP := $(VENV)/.installed
PY := $(VENV)/bin/python

.PHONY: up down test check lint types plan venv services bench clean lock image image-test

# The venv installs exactly the lock (every package pinned and hashed), then the project itself, editable.
$(STAMP): pyproject.toml requirements/dev.txt
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m tools.lock --check
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --require-hashes --no-deps -r requirements/dev.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

venv: $(STAMP)

services:
	scripts/ensure-services.sh

up: venv
	scripts/up.sh

down:
	scripts/down.sh

test: venv services
	$(VENV)/bin/pytest

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/hadolint apps/Dockerfile
	$(VENV)/bin/shellcheck scripts/*.sh scripts/image/*.sh .ci/run

types: venv
	$(VENV)/bin/mypy apps infra platform/eco2_platform tools tests bench __main__.py
	$(VENV)/bin/mypy policy

check: lint types test

# The offline stand-in for `pulumi preview` (docs/plan.md): STACK=dev|prod (default: both); PLAN_OUT=folder
# (default .local/plan) receives <stack>/plan.json and <stack>/manifests/.
STACK ?=
plan: venv
	$(PY) -m tools.plan $(STACK)

bench: venv services
	$(PY) -m bench.scan_api
	$(PY) -m bench.end_to_end

# One command refreshes every lock file (requirements/dev.txt, requirements/app.txt, requirements.txt,
# policy/requirements.txt) from pyproject.toml; needs no virtualenv (docs/delivery.md).
lock:
	$(PYTHON) -m tools.lock

# The app image, built offline with podman from the lock (docs/delivery.md).
image: venv
	scripts/image/build.sh

# The dev stack's rendered app workloads run with `podman kube play`; a photo scanned through them; then the
# broken manifests of the self-check must fail. Reads the plan output (PLAN_OUT).
image-test: image services
	scripts/image/test.sh

clean: down
	rm -rf .local .pytest_cache .mypy_cache .ruff_cache
