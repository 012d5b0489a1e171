# Two commands do all the set-up on a fresh machine:
#   make demo   set up, then run the main job (a smoke submit) on the shipped sample
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
	$(BIN)/dexter-auto submit --smoke jobs/narrative.yaml

test: setup
	$(BIN)/python -m pytest -q

lint: $(BIN)/dexter-auto
	$(BIN)/ruff check .

bench: setup
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev,bench]'
	$(BIN)/python bench/bench_validate.py
	$(BIN)/python bench/bench_data.py
	$(BIN)/python bench/bench_train.py
