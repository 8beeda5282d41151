# The two commands: `make run` serves the API, `make test` runs the whole suite.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3.11 -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# Signed file URLs (UGC uploads on local disk) must name the port the service listens on.
run: export PP_PUBLIC_URL ?= http://127.0.0.1:$(PORT)
run: $(STAMP)
	$(PY) -m player_platform init
	@if [ -n "$$PP_REDIS_URL" ] && [ "$$PP_JOBS_INLINE" != "true" ]; then \
		$(PY) -m workers & trap "kill $$!" EXIT; \
		$(VENV)/bin/granian --interface wsgi --host 127.0.0.1 --port $(PORT) \
			--workers 2 --blocking-threads 4 wsgi:app; \
	else \
		$(VENV)/bin/granian --interface wsgi --host 127.0.0.1 --port $(PORT) \
			--workers 1 --blocking-threads 8 wsgi:app; \
	fi

test: $(STAMP)
	scripts/test-services.sh
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -n $${PYTEST_WORKERS:-4} -p no:cacheprovider

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

bench: $(STAMP)
	$(PY) bench/auth_flow.py

clean:
	rm -rf $(VENV) var .cache
