"""The run record (`record.RunState`): frozen run folders written by earlier code read as
records and still list and show; every write is checked, so a misspelt key fails where it
is written. The frozen runs (tests/fixtures/frozen-runs) are the state files of real suite runs:
local (published, deployed), HF Jobs, AutoTrain Spaces, failed, cancelled, and a sweep's
promoted and pruned trials with the sweep's own folder; tests/fixtures/cards holds runs
written before `git.spec` was recorded."""

from __future__ import annotations

import ast
import json
import shutil
from pathlib import Path

import pytest
from conftest import REPO

from dexter_autotrain.errors import ToolError
from dexter_autotrain.record import SCHEMA_VERSION, RunState
from dexter_autotrain.report_record import REPORT_FILE, REPORT_VERSION, EvaluationReport
from dexter_autotrain.runs import STATE_FILE, Run, create_run, list_runs

FROZEN = REPO / "tests" / "fixtures" / "frozen-runs"
OLDER = REPO / "tests" / "fixtures" / "cards"
IN_PROCESS = True  # the `cli` fixture runs dexter-auto in this process (conftest.py)


def _frozen_runs() -> list[Path]:
    return sorted(
        path.parent
        for root in (FROZEN, OLDER)
        for path in root.rglob("state.json")
        if path.parent.name != "prepared"
    )


@pytest.mark.parametrize("run", _frozen_runs(), ids=lambda p: str(p.relative_to(REPO / "tests")))
def test_every_frozen_run_reads_as_a_record(run: Path) -> None:
    record, raw = Run(run).state(), json.loads((run / "state.json").read_text())
    assert record.schema_version == SCHEMA_VERSION  # files without one are the first version
    assert (record.job, record.run_id, record.state) == (raw["job"], raw["run_id"], raw["state"])
    assert record.model_dump(exclude_unset=True, mode="json") == raw  # nothing lost or renamed


def test_the_frozen_runs_cover_every_backend_ending_and_sweep() -> None:
    records = [Run(run).state() for run in _frozen_runs() if FROZEN in run.parents]
    assert {r.backend for r in records} == {"local", "hf-jobs", "autotrain-spaces"}
    states = {r.state for r in records}
    assert {"failed", "cancelled", "published", "deployed", "carded"} <= states
    hf_jobs = next(r for r in records if r.backend == "hf-jobs")
    assert hf_jobs.remote_job is not None and hf_jobs.remote_job.cost_usd > 0
    spaces = next(r for r in records if r.backend == "autotrain-spaces")
    assert spaces.autotrain_space is not None and spaces.autotrain_space.model_commit
    deployed = next(r for r in records if r.state == "deployed")
    assert deployed.deployed is not None and deployed.deployed.target == "endpoint"
    assert deployed.deployed.parity is not None and deployed.deployed.parity.share == 1.0
    swept = [r.sweep for r in records if r.sweep is not None]
    assert any(s.trials is not None and s.trials.total == 3 for s in swept)  # the promoted one
    prepared = next(FROZEN.rglob("prepared/state.json")).parent
    assert Run(prepared).state().state == "prepared"


def test_frozen_runs_list_and_show(cli, tmp_path) -> None:
    runs = tmp_path / "runs"
    shutil.copytree(FROZEN, runs)
    listed = json.loads(cli("runs", "--runs-dir", runs, "--json").stdout)
    assert sorted(row["run_id"] for row in listed) == sorted(
        run.name for run in _frozen_runs() if FROZEN in run.parents
    )
    for run in list_runs(runs):
        shown = cli("status", run.path, "--runs-dir", runs)
        assert shown.code == 0, shown.stderr
        assert f"run {run.path}: {run.state().state}" in shown.stdout


def test_an_old_record_takes_a_new_write(tmp_path) -> None:
    run = Run(tmp_path / "20261206-232519-f3dd")
    shutil.copytree(FROZEN / "job" / run.run_id, run.path)
    assert "schema_version" not in json.loads(run.state_file.read_text())
    run.update(reason="retried by hand")
    assert run.state().reason == "retried by hand" and run.state().state == "failed"


def test_a_misspelt_key_or_a_wrong_type_fails_where_it_is_written(tmp_path) -> None:
    run = create_run("job", tmp_path)
    before = run.state_file.read_text()
    with pytest.raises(ToolError, match=r"changing evalutaion\): not a run record: "
                       r"evalutaion: Extra inputs are not permitted"):  # fmt: skip
        run.update(evalutaion={"split": "test"})
    with pytest.raises(ToolError, match=r"state: Input should be 'pending', "):
        run.update(state="trainning")
    with pytest.raises(ToolError, match=r"published\.commit: Field required"):
        run.update(published={"repo_id": "dexter-ng/narrative", "tag": None, "url": "u"})
    assert run.state_file.read_text() == before
    assert RunState.model_validate_json(before).schema_version == SCHEMA_VERSION


def test_only_the_run_store_opens_a_state_file() -> None:
    """Every module reads and writes a run's state through `Run` (typed, checked): no
    other module names the state file to open it itself."""
    package = REPO / "dexter_autotrain"
    openers = [
        f"{path.relative_to(REPO)}:{node.lineno}"
        for path in sorted(package.rglob("*.py"))
        if path != package / "runs.py"
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant) and node.value == STATE_FILE
    ]
    assert openers == []


def test_reading_the_record_as_a_dict_still_works_and_warns(tmp_path) -> None:
    """`run.state()` returned a dict before the record was typed: `state["key"]` and
    `state.get("key")` keep working for one minor version, with a DeprecationWarning."""
    run = Run(tmp_path / "20261206-232337-3833")
    shutil.copytree(FROZEN / "narrative" / run.run_id, run.path)
    state = run.state()
    with pytest.deprecated_call(match=r'\["evaluation"\].*use `\.evaluation`'):
        assert state["evaluation"].gates_passed is state.verdict().gates_passed
    with pytest.deprecated_call(match=r"use `\.deployed`"):
        assert state.get("deployed", "none") == "none"


def _evaluated_runs() -> list[Path]:
    return [run for run in _frozen_runs() if (run / REPORT_FILE).is_file()]


@pytest.mark.parametrize("run", _evaluated_runs(), ids=lambda p: str(p.relative_to(REPO / "tests")))
def test_every_frozen_evaluation_reads_as_a_report(run: Path) -> None:
    """Reports of both versions read as `EvaluationReport`, lose nothing, and agree with
    the verdict the run's state recorded when it was evaluated."""
    report, raw = Run(run).evaluation(), json.loads((run / REPORT_FILE).read_text())
    assert report.version in (1, REPORT_VERSION) and report.version == raw["version"]
    assert report.to_json() == raw  # nothing lost, renamed or added
    recorded = Run(run).state().verdict()
    assert (
        report.primary_value()
        == recorded.value
        == raw["overall"]["metrics"][recorded.primary_metric]
    )
    assert (report.split, report.primary_metric) == (recorded.split, recorded.primary_metric)
    assert (report.baseline.lift if report.baseline else None) == recorded.baseline_lift
    assert [row.name for row in report.gates.rows] == [row["name"] for row in raw["gates"]["rows"]]


def test_the_frozen_reports_hold_their_real_numbers() -> None:
    text = Run(FROZEN / "narrative" / "20261206-232736-8a29").evaluation()
    assert (text.version, text.task, text.primary_metric) == (2, "text-classification", "f1_macro")
    assert text.primary_value() == pytest.approx(1 / 6) and text.examples == 90
    assert sorted(text.slices["language"]) == ["hau", "ibo", "pcm"]
    assert text.slices["language"]["hau"].per_class["neutral"].support == 10
    assert text.fairness is not None and text.fairness.worst_group == "hau"
    assert text.baseline is not None and text.baseline.name == "TF-IDF + logistic regression"
    assert text.precision is not None and text.precision.rescored == 32
    assert text.speed["batch_32"].dtype == "bfloat16" and text.gates.passed is False
    assert text.counterfactual is not None and text.counterfactual.flip_rate == 0.0
    assert text.plots == ["confusion_matrix.png", "per_language.png", "calibration.png"]
    tokens = EvaluationReport.read(OLDER / "token-classification" / REPORT_FILE)  # version 1
    assert (tokens.version, tokens.primary_metric, tokens.primary_value()) == (1, "f1", 0.0)
    assert tokens.precision is None and tokens.speed["batch_1"].dtype is None
    assert tokens.fairness is not None and tokens.fairness.ratio != tokens.fairness.ratio  # NaN
    assert tokens.gates.rows[0].note == "" and "note" not in tokens.to_json()["gates"]["rows"][0]
    images = Run(OLDER / "image-classification").evaluation()
    assert images.calibration is not None and images.calibration.curve[1].count == 6


def test_a_missing_or_corrupt_report_is_one_clear_error(tmp_path) -> None:
    run = Run(tmp_path / "20261206-232736-8a29")
    shutil.copytree(FROZEN / "narrative" / run.run_id, run.path)
    report = run.path / REPORT_FILE
    raw = json.loads(report.read_text())
    report.write_text(json.dumps(raw | {"verison": 3}))
    with pytest.raises(ToolError, match=r"not an evaluation report: verison: Extra inputs"):
        run.evaluation()
    raw["overall"]["metrics"]["f1_macro"] = "high"
    report.write_text(json.dumps(raw))
    with pytest.raises(ToolError, match=r"overall\.metrics\.f1_macro: Input should be a valid"):
        run.evaluation()
    report.write_text("{")
    with pytest.raises(ToolError, match=r"evaluation\.json: unreadable"):
        run.evaluation()
    report.unlink()
    assert run.evaluation_if_any() is None
    with pytest.raises(ToolError, match=r"evaluation\.json: missing: not evaluated yet"):
        run.evaluation()


def test_reading_the_report_as_a_dict_still_works_and_warns() -> None:
    """`evaluate()` returned evaluation.json's dict before the report was typed."""
    report = Run(FROZEN / "narrative" / "20261206-232736-8a29").evaluation()
    with pytest.deprecated_call(match=r"evaluation report as a dict.*use `\.primary_metric`"):
        assert report["primary_metric"] == "f1_macro"
    with pytest.deprecated_call(match=r"use `\.metrics`"):
        assert report.overall.get("metrics")["accuracy"] == pytest.approx(1 / 3)


def test_the_frozen_sweep_reads_as_a_sweep_record(tmp_path) -> None:
    """sweep.json written by the previous version: its trials and best typed; a write that
    breaks the record fails and leaves the file as it was."""
    from dexter_autotrain.sweeps.folder import SweepDir

    [frozen] = (FROZEN / "swept" / "sweeps").iterdir()
    folder = SweepDir(tmp_path / frozen.name)
    shutil.copytree(frozen, folder.path)
    record = folder.record()
    assert (record.state, record.smoke, record.backend, record.n_trials) == (
        "done",
        True,
        "local",
        3,
    )
    assert [row.state for row in record.trials] == ["complete", "complete", "pruned"]
    assert record.trials[0].params == {"learning_rate": 0.001}
    assert record.best is not None and record.best.trials.total == 3
    assert record.best.trial == 0 and record.best.direction == "minimize"
    before = (folder.path / "sweep.json").read_text()
    with pytest.raises(ToolError, match="state"):
        folder.update(state="finished")
    assert (folder.path / "sweep.json").read_text() == before
    assert folder.update(reason="checked").reason == "checked"
