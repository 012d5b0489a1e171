"""Experiment tracking: a real smoke submit logged to MLflow's SQLite store beside the runs,
read back through MLflow's own client."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import JOBS, run_cli
from trained_runs import TOKEN

from dexter_autotrain.experiments.tracking import log_run
from dexter_autotrain.runs import Run
from dexter_autotrain.spec.model import JobSpec


@pytest.fixture(scope="module")
def tracked(trained) -> tuple[Path, dict, str]:
    """The suite's smoke submit of jobs/narrative.yaml (a token in its environment, which must
    never be logged), read in place: (run directory, final state, stderr)."""
    smoke = trained.get("narrative")
    return smoke.run, smoke.state, smoke.stderr


def _client(runs: Path):
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=f"sqlite:///{runs / 'mlflow.db'}")


def test_a_submit_logs_params_metrics_tags_and_artifacts(tracked):
    run, state, stderr = tracked
    runs = run.parent.parent
    assert f"track: logged to MLflow run {state['tracking']['run_id']}" in stderr
    client = _client(runs)
    experiment = client.get_experiment_by_name("narrative")
    [logged] = client.search_runs([experiment.experiment_id])
    assert logged.info.run_id == state["tracking"]["run_id"]
    assert logged.info.status == "FINISHED"
    shown = run_cli("status", run, "--runs-dir", runs)
    assert f"tracked: MLflow run {state['tracking']['run_id']} (sqlite:///" in shown.stdout
    params, metrics, tags = logged.data.params, logged.data.metrics, logged.data.tags

    assert params["training.learning_rate"] == "0.001" and params["training.epochs"] == "3"
    assert params["backend"] == "local" and params["smoke"] == "True"
    assert params["training.max_seq_length"] == str(state["resolved"]["max_seq_length"])
    outputs = {Path(o["path"]).stem: o["sha256"] for o in state["data_outputs"]}
    assert params["data.train.sha256"] == outputs["train"]
    assert params["data.test.sha256"] == outputs["test"]

    report = json.loads((run / "evaluation.json").read_text())
    assert metrics["test/f1_macro"] == pytest.approx(report["overall"]["metrics"]["f1_macro"])
    for language, scored in report["slices"]["language"].items():
        assert metrics[f"test/f1_macro/language.{language}"] == pytest.approx(
            scored["metrics"]["f1_macro"]
        )
    assert metrics["gates/passed"] == float(report["gates"]["passed"])
    assert tags["dexter.gates"] == ("passed" if report["gates"]["passed"] else "failed")
    assert any(key.startswith("gate.f1_macro overall") for key in tags)
    assert tags["dexter.spec_sha256"] == state["spec_sha256"]
    assert tags["mlflow.source.git.commit"] == state["git"]["commit"]

    epochs = client.get_metric_history(logged.info.run_id, "val/f1_macro")
    assert len(epochs) == 3 and sorted(m.step for m in epochs) == [m.step for m in epochs]
    assert client.get_metric_history(logged.info.run_id, "train/loss")

    artifacts = {a.path for folder in ("card", "evaluation", "evaluation/plots", "data")
                 for a in client.list_artifacts(logged.info.run_id, folder)}  # fmt: skip
    assert {"card/README.md", "evaluation/evaluation.json", "data/data-report.json"} <= artifacts
    assert "evaluation/plots/per_language.png" in artifacts
    assert (runs / "mlartifacts" / "narrative").is_dir()


def test_neither_the_token_nor_the_environment_is_logged(tracked):
    run, _, _ = tracked
    runs = run.parent.parent
    stored = [runs / "mlflow.db", *(p for p in (runs / "mlartifacts").rglob("*") if p.is_file())]
    for path in stored:
        content = path.read_bytes()
        assert TOKEN.encode() not in content, path
        assert os.environ["PATH"].encode() not in content, path  # no environment dump


def test_logging_again_updates_the_same_run_with_the_published_commit(tracked, tmp_path):
    run, state, _ = tracked
    copy = tmp_path / "runs" / "narrative" / run.name
    shutil.copytree(run, copy)
    first = log_run(Run(copy), Run(copy).spec())  # another runs folder: a new store and run
    tracking = Run(copy).state().tracking
    run_id = tracking.run_id if tracking else None
    assert run_id != state["tracking"]["run_id"] and run_id in first
    published = {"repo_id": "dexter-ng/narrative", "commit": "c" * 40, "url": "u", "tag": "t"}
    Run(copy).update(published=published)
    assert run_id in log_run(Run(copy), Run(copy).spec())
    client = _client(tmp_path / "runs")
    [logged] = client.search_runs([client.get_experiment_by_name("narrative").experiment_id])
    assert logged.data.tags["dexter.published.commit"] == "c" * 40
    assert len(client.get_metric_history(run_id, "val/f1_macro")) == 3  # not logged twice


def _with_tracking(run: Path, tracking: object) -> JobSpec:
    return JobSpec.model_validate(
        Run(run).spec().model_dump(mode="json", exclude={"tracking"}) | {"tracking": tracking}
    )


def test_tracking_false_logs_nothing(tracked, tmp_path):
    run, _, _ = tracked
    copy = tmp_path / "runs" / "narrative" / run.name
    shutil.copytree(run, copy)
    assert log_run(Run(copy), _with_tracking(copy, False)) == "tracking is off (tracking: false)"
    assert not (tmp_path / "runs" / "mlflow.db").exists()
    assert not (tmp_path / "runs" / "mlartifacts").exists()


def test_a_tracking_server_that_is_down_is_one_line_not_a_failure(tracked, monkeypatch, tmp_path):
    """A real run (a smoke run logs only to the local store) and a server the operator lists."""
    run = tmp_path / "runs" / "narrative" / tracked[0].name
    shutil.copytree(tracked[0], run)
    Run(run).update(smoke=False)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("DEXTER_TRACKING_SERVERS", "http://127.0.0.1:9")
    line = log_run(Run(run), _with_tracking(run, {"uri": "http://127.0.0.1:9"}))
    assert line.startswith("not logged to MLflow (http://127.0.0.1:9): ") and "\n" not in line


def test_a_tracking_uri_must_be_a_server(cli, tmp_path):
    shutil.copy(JOBS / "_base.yaml", tmp_path)
    spec = (JOBS / "narrative.yaml").read_text() + "\ntracking:\n  uri: sqlite:////etc/x.db\n"
    (tmp_path / "narrative.yaml").write_text(spec)
    result = cli("validate", tmp_path / "narrative.yaml")
    assert result.code == 2 and "tracking.uri" in result.stdout + result.stderr
