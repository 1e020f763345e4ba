# The two commands of the README: `make demo` and `make test`. Each sets up what it needs.
# Python 3.11 to 3.13; PYTHON=/path/to/python picks one.
PYTHON ?= $(shell command -v python3.11 || command -v python3.12 || command -v python3.13 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Extra arguments, e.g. `make demo DEMO_ARGS="--port 8001"`, `make test PYTEST_ARGS="-k demo"`.
DEMO_ARGS ?=
PYTEST_ARGS ?=

.PHONY: demo test lint format browser-deps saml-deps service-deps cfn-lint bench load clean screenshots

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "make: no python3 found; set PYTHON=/path/to/python3.11"; exit 2; }
	@$(PYTHON) -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] < (3, 14))' \
		|| { echo "make: $(PYTHON) is not Python 3.11-3.13; set PYTHON=/path/to/python3.11"; exit 2; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

# Debian's chromium for the browser tests (Playwright cannot download its own browser here).
# Without it the browser tests skip loudly; under REQUIRE_BROWSER=1 (CI) they fail instead.
browser-deps:
	@if [ -n "$$CHROMIUM" ] || command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "make: installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
			|| echo "make: WARNING: could not install chromium; browser tests will be SKIPPED"; \
	else \
		echo "make: WARNING: no chromium and no way to install it; browser tests will be SKIPPED"; \
	fi

# Debian's xmlsec1, which pysaml2 signs and verifies with (the emulator's SAML identity provider).
saml-deps:
	@if command -v xmlsec1 >/dev/null 2>&1 || [ -x /usr/bin/xmlsec1 ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "make: installing Debian's xmlsec1 for the SAML identity provider"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq xmlsec1 >/dev/null \
			|| echo "make: WARNING: could not install xmlsec1; SAML sign-in will not work"; \
	else \
		echo "make: WARNING: no xmlsec1 and no way to install it (apt-get install xmlsec1)"; \
	fi

# Debian's PostgreSQL and Redis servers: the tests start throwaway ones on free ports to run the
# site's key flows on DATABASE_URL=postgres:// and CACHE_URL=redis:// for real. Without them those
# tests skip loudly; under REQUIRE_SERVICES=1 (CI) they fail instead.
service-deps:
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || missing="postgresql"; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	if [ -z "$$missing" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "make: installing Debian's$$missing for the PostgreSQL and Redis tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null 2>&1 \
			|| echo "make: WARNING: could not install$$missing; the PostgreSQL/Redis tests will be SKIPPED"; \
	else \
		echo "make: WARNING: no$$missing and no way to install it; the PostgreSQL/Redis tests will be SKIPPED"; \
	fi

demo: $(STAMP) saml-deps
	$(BIN)/python manage.py demo $(DEMO_ARGS)

# The import contracts ([tool.importlinter] in pyproject.toml) keep each flow copyable alone.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The CloudFormation template, validated offline against AWS's resource specification.
cfn-lint: $(STAMP)
	$(BIN)/cfn-lint -- deploy/cognito-app.yaml

test: $(STAMP) browser-deps saml-deps service-deps lint cfn-lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP) saml-deps
	$(BIN)/python bench/tokens.py
	$(BIN)/python bench/demo.py
	$(BIN)/python bench/protected.py
	$(BIN)/python bench/api.py

# The site under gunicorn on PostgreSQL and Redis, under load (prints figures; a minute or so).
load: $(STAMP) service-deps
	$(BIN)/python bench/load.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

# PNGs of the main pages at 1280 and 375 px wide into docs/screenshots/ (browser tests that the
# normal run skips: they rewrite the files).
screenshots: $(STAMP) browser-deps saml-deps
	SCREENSHOTS=1 $(BIN)/python -m pytest tests/e2e/test_demo_product.py -k screenshots -p no:cacheprovider $(PYTEST_ARGS)
