# Two commands do all the set-up on a fresh machine:
#   make demo   set up, then run the main job on the shipped sample
#   make test   set up, then run the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup demo test lint bench

$(BIN)/dexter-auto: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

setup: $(BIN)/dexter-auto
	$(BIN)/dexter-auto runner install

demo: setup
	$(BIN)/dexter-auto validate 'jobs/*.yaml'
	$(BIN)/dexter-auto render jobs/narrative.yaml -o runs/demo

test: setup
	$(BIN)/python -m pytest -q

lint: $(BIN)/dexter-auto
	$(BIN)/ruff check .

bench: setup
	$(BIN)/python bench/bench_validate.py
