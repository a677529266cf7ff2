# Two entry points, both from a fresh clone: `make demo` (the main job) and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

$(BIN)/hjepa: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0 -e ".[dev]"
	touch $@

.PHONY: setup demo test lint
setup: $(BIN)/hjepa

demo: setup
	$(BIN)/hjepa info
	$(BIN)/hjepa demo

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

test: lint
	$(BIN)/python -m pytest -q
