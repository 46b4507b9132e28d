# godparents: `make run` serves the demo, `make test` runs every test. Both set up first.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app godparents
INSTALLED := $(VENV)/.installed
# uv installs the exact versions in uv.lock (`make lock` updates it); pip only brings uv.
UV_VERSION := $(shell sed -n '/^name = "uv"$$/{n;s/^version = "\(.*\)"$$/\1/p;}' uv.lock)
UV := $(BIN)/uv
export UV_PROJECT_ENVIRONMENT := $(VENV)
CATALOGS := godparents/translations
DEMO_PASSWORD := instance/demo-password
DEMO_TOTP_KEY := instance/demo-totp-key
PORT ?= 5000

.PHONY: run code test test-latest lock lint messages translations screenshots clean

run: $(INSTALLED) translations $(DEMO_PASSWORD) $(DEMO_TOTP_KEY)
	$(FLASK) --debug db upgrade
	GODPARENTS_DEMO_PASSWORD="$$(cat $(DEMO_PASSWORD))" GODPARENTS_DEMO_TOTP_KEY="$$(cat $(DEMO_TOTP_KEY))" \
	    $(FLASK) --debug demo seed
	@echo "Demo password for every login above: $$(cat $(DEMO_PASSWORD))"
	@echo "Coordinators also need a code: add the key $$(cat $(DEMO_TOTP_KEY)) to an authenticator app, or run 'make code'"
	@echo "Serving on http://127.0.0.1:$(PORT) (Ctrl+C to stop)"
	$(FLASK) --debug run --host 127.0.0.1 --port $(PORT) --no-debugger

# Python keeps its compiled modules: the dependencies are compiled when installed
# (--compile-bytecode), the project's and the tests' on first import, even where the shell
# says PYTHONDONTWRITEBYTECODE (this machine does, and CI): else each worker and each
# process a test starts compiles SQLAlchemy, Hypothesis, the app... from source again.
# The suite on both cores (pytest-xdist); tests that race or time things run in one serial
# group (xdist_group). `make test JOBS=0` runs in one process; `PYTEST_ARGS="--lf --lfnf=none"`
# runs again only what failed last time (tests/ is laid out like godparents/, so
# `PYTEST_ARGS=tests/reminders` runs one package's tests).
JOBS ?= 2
test: $(INSTALLED) translations
	@scripts/ensure-chromium
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/bandit --quiet --recursive godparents
	$(BIN)/mypy
	@started=$$(date +%s); \
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/pytest $(if $(filter 0,$(JOBS)),,-n $(JOBS) --dist loadgroup) $(PYTEST_ARGS); status=$$?; \
	echo "pytest took $$(( $$(date +%s) - started )) s"; exit $$status

# The README's screenshots, made by Chromium from the demo data (commit the result).
screenshots: $(INSTALLED) translations
	@scripts/ensure-chromium
	GODPARENTS_SCREENSHOTS=docs/screenshots $(BIN)/pytest -q tests/journeys/test_screenshots.py

# mypy checks godparents/ as configured in pyproject.toml: about 15 s of CPU from a cold
# cache (.mypy_cache), a second or two after that.
lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/bandit --quiet --recursive godparents
	$(BIN)/ruff format --check .
	$(BIN)/mypy

$(INSTALLED): pyproject.toml uv.lock
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	test -x $(UV) || $(BIN)/python -m pip install --quiet --disable-pip-version-check 'uv==$(UV_VERSION)'
	$(UV) sync --frozen --extra dev --compile-bytecode --python $(BIN)/python
	touch $@

# Update uv.lock to the newest releases that pyproject.toml allows (commit the result).
lock: $(INSTALLED)
	$(UV) lock --upgrade

# The suite (no browsers or servers) against the newest releases, in a venv of its own: it
# reports what upstream broke and never fails (CI runs it after the real suites).
test-latest: $(INSTALLED)
	@rm -rf .venv-latest
	$(UV) venv --quiet --python $(BIN)/python .venv-latest
	VIRTUAL_ENV=.venv-latest $(UV) pip install --quiet --upgrade --resolution highest -e '.[dev]'
	@echo "== newest releases: $$(VIRTUAL_ENV=.venv-latest $(UV) pip freeze | grep -ciE '^[a-z]') packages; differences from uv.lock:"
	@diff <($(UV) pip freeze --python $(BIN)/python | grep -v '^-e\|^godparents' | sort) \
	      <(VIRTUAL_ENV=.venv-latest $(UV) pip freeze | grep -v '^-e\|^godparents' | sort) | grep '^>' || echo "   none"
	.venv-latest/bin/pytest -m 'not slow' -q $(PYTEST_ARGS) \
	    && echo "test-latest: the suite passes on the newest releases" \
	    || echo "test-latest: FAILURES on the newest releases (reported, not fatal; see above)"

# Compile the catalogs (the .mo files are built, not committed).
translations: $(INSTALLED)
	$(BIN)/pybabel compile --use-fuzzy -d $(CATALOGS) -D messages --statistics 2>&1 | grep -v '^$$' || true

# After changing user-visible text: extract it and merge it into every catalog.
messages: $(INSTALLED)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
	    --project godparents --ignore-dirs '.venv node_modules .git tests' -o $(CATALOGS)/messages.pot .
	$(BIN)/pybabel update -i $(CATALOGS)/messages.pot -d $(CATALOGS) --no-fuzzy-matching --ignore-obsolete

# The demo coordinators' current two-factor code, for trying the demo without a phone.
code: $(INSTALLED) $(DEMO_TOTP_KEY)
	@$(BIN)/python -c 'import pyotp, sys; print(pyotp.TOTP(sys.argv[1]).now())' "$$(cat $(DEMO_TOTP_KEY))"

$(DEMO_TOTP_KEY): $(INSTALLED)
	@mkdir -p instance
	@umask 077; $(BIN)/python -c 'import pyotp; print(pyotp.random_base32())' > $@

$(DEMO_PASSWORD):
	@mkdir -p instance
	@umask 077; $(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(12))' > $@

clean:
	rm -rf $(VENV) .venv-latest build dist *.egg-info
