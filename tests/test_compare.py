"""`runs compare`: two real smoke runs of the narrative job that differ in languages, seed and
weight decay, side by side in a terminal table and as JSON; `runs [JOB]` still lists."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

IN_PROCESS = True  # `dexter-auto` runs in this process (tests/inprocess.py): the tests read exit
# codes, output and files; Hub settings are applied to the imported client for each call.


@pytest.fixture(scope="module")
def two_runs(trained, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(runs folder, run of jobs/narrative.yaml, run of its variant on two languages with
    another seed and weight decay), copies of the suite's shared runs in one runs folder."""
    root = tmp_path_factory.mktemp("compare")
    first, second = (trained.copy(name, root) for name in ("narrative", "narrative-variant"))
    return root / "runs", first, second


def _report(run: Path) -> dict:
    return json.loads((run / "evaluation.json").read_text())


def test_compare_as_json(two_runs, cli):
    runs, first, second = two_runs
    result = cli("runs", "compare", first.name, f"narrative/{second.name}", "--runs-dir", runs,
                 "--json")  # fmt: skip
    assert result.code == 0, result.stderr
    compared = json.loads(result.stdout)
    assert [r["run_id"] for r in compared["runs"]] == [first.name, second.name]
    overall = compared["metrics"]["overall"]
    assert overall["f1_macro"] == [
        _report(run)["overall"]["metrics"]["f1_macro"] for run in (first, second)
    ]
    by_language = compared["metrics"]["by_language"]
    assert by_language["ibo"]["f1_macro"][1] is None  # the variant has no Igbo
    assert by_language["hau"]["f1_macro"] == [
        _report(run)["slices"]["language"]["hau"]["metrics"]["f1_macro"] for run in (first, second)
    ]
    assert compared["gates"]["passed"] == [_report(r)["gates"]["passed"] for r in (first, second)]
    assert "f1_macro overall" in compared["gates"]["rows"]
    params = compared["params"]
    assert {"training.seed", "training.weight_decay", "languages"} <= set(params["differing"])
    assert params["values"]["training.seed"] == ["42", "7"]
    assert params["values"]["backend"] == ["local", "local"]  # a key parameter, same in both
    assert "training.optimizer" not in params["values"]  # the same, and not a key one
    smoke_rate = "0.001 (smoke; the spec asks 2e-05)"  # what trained, and what the spec asks
    assert params["values"]["training.learning_rate"] == [smoke_rate, smoke_rate]
    commit, no_git = params["values"]["commit"]  # the first was submitted from a git clone
    assert len(commit) == 12 and int(commit, 16) >= 0 and no_git is None
    data = compared["data"]
    assert data["same"] is False
    assert any("ibo" in name and values[1] is None for name, values in data["differing"].items())
    assert "prepared train" in data["differing"]


def test_compare_in_a_terminal(two_runs, cli):
    runs, first, second = two_runs
    result = cli("runs", "compare", str(first), str(second), "--runs-dir", runs)
    assert result.code == 0, result.stderr
    text = result.stdout
    for title in ("Metrics", "Gates", "Parameters", "Data fingerprints that differ"):
        assert title in text
    assert f"narrative/{first.name}" in text and f"narrative/{second.name}" in text
    assert "f1_macro [hau]" in text and "f1_macro overall" in text
    weight_decay = next(line for line in text.splitlines() if "training.weight_decay" in line)
    assert "0.0" in weight_decay and "0.01" in weight_decay


def test_runs_still_lists(two_runs, cli):
    runs, first, second = two_runs
    for args in (("runs",), ("runs", "narrative"), ("runs", "list", "narrative")):
        result = cli(*args, "--runs-dir", runs, "--json")
        assert result.code == 0, result.stderr
        assert [Path(r["run"]).name for r in json.loads(result.stdout)] == [second.name, first.name]


def test_compare_needs_two_existing_runs(two_runs, cli):
    runs, first, _ = two_runs
    result = cli("runs", "compare", first.name, "--runs-dir", runs)
    assert result.code == 2 and "at least two runs" in result.stderr
    result = cli("runs", "compare", first.name, "nope-123", "--runs-dir", runs, "--json")
    assert result.code == 2 and "nope-123: no such run" in result.stdout
