# Two commands do all the set-up on a fresh machine with Python 3.11+:
#   make run   - create .venv, install pinned dependencies, start the bot
#   make test  - the same, then ruff, mypy and the whole test suite
#   make bench - how fast answers are taken and reports exported (not a test)
#   make soak  - updates lost while the bot is killed with kill -9 again and again (must be 0)
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PACKAGES := bot domain presentation handlers storage bench botapi_sim

.PHONY: run test bench soak format clean

$(VENV)/.runtime: requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed; set PYTHON=/path/to/python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

run: $(VENV)/.runtime
	$(PY) bot.py

test: $(VENV)/.dev
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy $(PACKAGES) tests
	$(PY) -m pytest

bench: $(VENV)/.dev
	$(PY) -m bench.bench_flow

soak: $(VENV)/.dev
	$(PY) -m bench.kill_soak

format: $(VENV)/.dev
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
