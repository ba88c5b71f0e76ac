# Each target sets itself up: creates .venv when missing, installs, then acts.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
REPORT  ?= build/report
PYTEST_WORKERS ?= 2

.PHONY: demo test test-browser lint format bench clean clean-cache

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/mlcanon report --out $(REPORT)

test: $(STAMP)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) -q

# The report in headless Chromium (the system's /usr/bin/chromium; `.ci/run` installs it).
$(VENV)/.installed-browser: $(STAMP)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,browser]'
	touch $@

test-browser: $(VENV)/.installed-browser
	$(BIN)/python -m pytest -m browser -n 0 -q tests/report

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

bench: $(STAMP)
	$(BIN)/mlcanon bench

# numba's on-disk cache (cache=True) is checked against each function's own file only: a kernel
# that calls into a module changed by a branch switch keeps its old machine code until cleared.
clean-cache:
	find src -name '*.nbi' -delete -o -name '*.nbc' -delete

clean: clean-cache
	rm -rf build .pytest_cache $(VENV)
