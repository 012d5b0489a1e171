"""The Python API: a job run from Python, without the CLI."""

from __future__ import annotations

import json

import pytest
from conftest import JOBS

import dexter_autotrain as dx


class Recorder(dx.QuietReporter):
    def __init__(self) -> None:
        self.stages: list[str] = []

    def stage(self, name: str, detail: str) -> None:
        self.stages.append(name)


@pytest.mark.training
def test_a_smoke_job_through_the_python_api(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("HF_TOKEN", raising=False)
    runs = tmp_path / "runs"
    reporter = Recorder()
    run = dx.submit(
        JOBS / "narrative.yaml", smoke=True, runs_dir=runs, cards_dir=tmp_path / "cards",
        reporter=reporter,
    )  # fmt: skip
    state = run.state()
    assert state.state == "carded" and state.smoke is True
    assert {"prepare", "train", "evaluate", "card", "publish"} <= set(reporter.stages)
    assert dx.find_run("narrative", runs) == run and dx.list_runs(runs) == [run]

    report = dx.evaluate(run, split="validation")
    assert report["split"] == "validation"
    assert report == json.loads(
        (run.path / "evaluations" / "split-validation" / "evaluation.json").read_text()
    )
    written = dx.card(run, tmp_path / "review")
    assert run.path / "README.md" in written
    with pytest.raises(dx.UserError, match="smoke runs are never published"):
        dx.publish(run)
    with pytest.deprecated_call(match=r"use dexter_autotrain\.card\(run, \.\.\.\)"):
        assert run.path / "README.md" in run.card(tmp_path / "old-review")  # still works


def test_api_errors_are_one_family(tmp_path) -> None:
    with pytest.raises(dx.UserError) as missing:
        dx.submit(tmp_path / "nowhere.yaml")
    assert isinstance(missing.value, dx.DexterError) and missing.value.exit_code == 2
    assert issubclass(dx.TrainingCancelled, dx.DexterError)
    assert issubclass(dx.RunnerInstallError, dx.ToolError)
    with pytest.raises(dx.UserError, match="--detach"):
        dx.submit(JOBS / "narrative.yaml", detach=True, backend="local")
