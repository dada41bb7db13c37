# jobwidget: `make demo` runs the live demo, `make test` runs every check. Both set up what they need.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
JS_STAMP := js/node_modules/.installed
BUNDLE := src/jobwidget/static/widget.js
HOST ?= 127.0.0.1
PORT ?= 8765
LAB_PORT ?= 8888
DEMO_RATE ?= 1.0

.PHONY: all demo test lint types js js-test py-test screenshots bench venv-deps system-deps clean

all: test

# Debian packages, only when root and only what is missing. Without root, install them yourself
# (`make test` then fails rather than skipping the browser tests).
APT_INSTALL = apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq
# python3-venv, where the interpreter cannot make a virtual environment.
venv-deps:
	@if [ "$$(id -u)" = "0" ] && ! $(PY) -c 'import ensurepip, venv' 2>/dev/null; then \
		echo "installing Debian packages: python3-venv"; $(APT_INSTALL) python3-venv >/dev/null; \
	fi

# Chromium for the browser tests, at the path they use.
system-deps:
	@if [ "$$(id -u)" = "0" ] && [ ! -x /usr/bin/chromium ]; then \
		echo "installing Debian packages: chromium"; $(APT_INSTALL) chromium >/dev/null; \
	fi

$(STAMP): pyproject.toml | venv-deps
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

$(JS_STAMP): js/package.json js/package-lock.json
	cd js && npm ci --no-audit --no-fund --loglevel=error
	touch $(JS_STAMP)

$(BUNDLE): $(JS_STAMP) $(wildcard js/src/*.js js/src/*.css)
	cd js && npm run --silent build

js: $(BUNDLE)

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

types: $(STAMP) $(JS_STAMP)
	$(BIN)/mypy
	cd js && npm run --silent typecheck

js-test: $(JS_STAMP)
	cd js && npm test --silent

# JOBWIDGET_REQUIRE_ALL turns "bundle or Chromium missing" skips into failures: here nothing skips.
py-test: $(STAMP) $(BUNDLE) system-deps
	JOBWIDGET_REQUIRE_ALL=1 $(BIN)/pytest

# Refresh the README's screenshots (light and dark) from the browser tests.
screenshots: $(STAMP) $(BUNDLE) system-deps
	JOBWIDGET_REQUIRE_ALL=1 JOBWIDGET_SCREENSHOTS=$(CURDIR)/docs $(BIN)/pytest -m browser -k screenshots

test: lint types js-test py-test

bench: $(STAMP) $(BUNDLE)
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

demo: $(STAMP) $(BUNDLE)
	$(BIN)/jobwidget demo --host $(HOST) --port $(PORT) --lab-port $(LAB_PORT) --rate $(DEMO_RATE)

clean:
	rm -rf $(VENV) js/node_modules src/jobwidget/static .mypy_cache .ruff_cache .pytest_cache
