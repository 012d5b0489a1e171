"""The metric table (tasks/metrics.py): each metric's direction, read by gates, lifts,
fairness, checkpoints, sweeps and cards. A lower-is-better primary metric (calibration_error)
end to end on the suite's shared narrative run, evaluated and carded again."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import JOBS, REPO
from inprocess import invoke

from dexter_autotrain.evaluation.gates import _gate
from dexter_autotrain.spec import load_spec
from dexter_autotrain.spec.model import JobSpec, Sweep
from dexter_autotrain.sweeps.study import metric_and_direction
from dexter_autotrain.tasks import TASKS, get_task
from dexter_autotrain.training.render import training_options
from dexter_autotrain.training.runner_env import default_runner

CALIBRATED = {
    "primary_metric": "calibration_error",
    "fairness": {"group_by": "language", "metric": "calibration_error", "min_ratio": 0.0},
    "gates": {
        "overall": {"calibration_error": 0.9},  # a maximum: the smoke model's is far below
        "min_lift_over_baseline": -1.0,
    },
}


def test_every_metric_has_a_direction_and_a_hub_form() -> None:
    for task in TASKS.values():
        assert task.primary_metric in task.metrics and set(task.metrics) <= set(task.metric_table)
        for name in task.metric_table:
            metric = task.metric(name)
            assert metric.name == name and metric.hub.type and metric.hub.name
    error = get_task("text-classification").metric("calibration_error")
    assert (error.direction, error.gate_rule) == ("minimize", "<=")
    assert error.needs_confidence and not error.per_epoch
    assert error.lift(0.04, 0.10) == pytest.approx(0.06) and error.lift(0.1, 0.04) < 0
    assert _gate("e", 0.04, 0.05, error.gate_rule).passed  # the gates' own comparison
    assert not _gate("e", 0.06, 0.05, error.gate_rule).passed
    assert error.worst({"hau": 0.1, "yor": 0.3}) == "yor"
    f1 = get_task("token-classification").metric("f1")
    assert (f1.direction, f1.gate_rule, f1.per_epoch) == ("maximize", ">=", True)
    assert f1.lift(0.6, 0.5) == pytest.approx(0.1) and f1.worst({"hau": 0.1, "yor": 0.3}) == "hau"
    assert get_task("image-classification").metric("loss").direction == "minimize"
    with pytest.raises(KeyError):
        get_task("image-classification").metric("bleu")


def _with_primary(primary: str) -> JobSpec:
    spec = load_spec(JOBS / "narrative.yaml").spec
    evaluation = spec.evaluation.model_copy(update={"primary_metric": primary})
    return spec.model_copy(update={"evaluation": evaluation})


def test_checkpoints_and_sweeps_follow_the_metric_s_direction() -> None:
    options = training_options(_with_primary("calibration_error"))
    assert (options["best_metric"], options["greater_is_better"]) == (None, False)  # the loss
    options = training_options(_with_primary("accuracy"))
    assert (options["best_metric"], options["greater_is_better"]) == ("accuracy", True)

    sweep = Sweep.model_validate({"space": {"epochs": {"type": "int", "low": 1, "high": 2}}})
    task = "text-classification"
    assert metric_and_direction(sweep, task, "calibration_error") == ("loss", "minimize")
    assert metric_and_direction(sweep, task, "f1_macro") == ("f1_macro", "maximize")
    chosen = sweep.model_copy(update={"metric": "accuracy"})
    assert metric_and_direction(chosen, task, "calibration_error") == ("accuracy", "maximize")


def test_the_runner_chooses_checkpoints_the_way_the_options_say(tmp_path) -> None:
    """The runner cannot import the table: the direction travels in its training options, and
    the training script (in the runner, with its transformers) hands it to the Trainer."""
    runner = default_runner()
    if not runner.is_installed():
        pytest.skip("the AutoTrain runner is not installed")
    done = subprocess.run(
        [str(runner.python), str(REPO / "tests/runner_scripts/checkpoint_choice.py"),
         str(REPO / "dexter_autotrain/runner_scripts"), str(tmp_path)],
        capture_output=True, text=True, env=runner.environ(), timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    chosen = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert chosen == [
        {"metric": "f1_macro", "greater": True, "seeds": [7, 7]},
        {"metric": "calibration_error", "greater": False, "seeds": [7, 7]},
        {"metric": "loss", "greater": False, "seeds": [7, 7]},  # transformers' own default
    ]


def test_sweep_rules_refuse_a_direction_against_the_metric(tmp_path) -> None:
    (tmp_path / "_base.yaml").write_text((JOBS / "_base.yaml").read_text())
    text = (JOBS / "narrative.yaml").read_text().replace("../data/samples", f"{REPO}/data/samples")
    sweep = "sweep:\n  space: {epochs: {type: int, low: 1, high: 2}}\n  metric: loss\n"
    (tmp_path / "job.yaml").write_text(text + sweep + "  direction: maximize\n")
    refused = invoke("validate", tmp_path / "job.yaml", cwd=tmp_path)
    assert refused.code == 2 and refused.crash is None
    assert (
        "sweep.direction: maximizes loss, which is better lower" in refused.stdout + refused.stderr
    )
    assert "use `minimize`" in refused.stdout + refused.stderr


@pytest.fixture(scope="module")
def calibrated(trained, tmp_path_factory) -> Path:
    """The shared narrative smoke run, evaluated and carded again with calibration_error as
    its primary metric, its gate, its fairness metric and its lift."""
    folder = tmp_path_factory.mktemp("calibrated")
    evaluation = yaml.safe_load((trained.get("narrative").run / "spec.yaml").read_text())
    run = trained.copy(
        "narrative", folder, spec={"evaluation": evaluation["evaluation"] | CALIBRATED}
    )
    runs = run.parent.parent
    evaluated = invoke("evaluate", run, "--runs-dir", runs, cwd=folder)
    assert evaluated.code == 0 and evaluated.crash is None, evaluated.stdout + evaluated.stderr
    carded = invoke("card", run, "--runs-dir", runs, cwd=folder)
    assert carded.code == 0 and carded.crash is None, carded.stdout + carded.stderr
    return run


@pytest.mark.training
def test_a_lower_is_better_primary_metric_gates_lifts_and_cards(calibrated) -> None:
    report = json.loads((calibrated / "evaluation.json").read_text())
    assert report["primary_metric"] == "calibration_error"
    model = report["overall"]["metrics"]["calibration_error"]
    rows = {row["name"]: row for row in report["gates"]["rows"]}
    gate = rows["calibration_error overall"]
    assert (gate["rule"], gate["threshold"], gate["value"]) == ("<=", 0.9, model)
    assert gate["passed"] and model < 0.9  # a minimum of 0.9 would have failed it

    baseline = report["baseline"]["metrics"]["calibration_error"]  # from its probabilities
    assert report["baseline"]["lift"] == pytest.approx(baseline - model)  # positive: better
    assert rows["calibration_error lift over baseline"]["value"] == report["baseline"]["lift"]

    fairness = report["fairness"]
    assert fairness["metric"] == "calibration_error"
    assert fairness["worst_group"] == max(fairness["by_group"], key=fairness["by_group"].get)
    assert "calibration_error best/worst ratio" in rows

    markdown = (calibrated / "evaluation.md").read_text()
    assert "calibration_error is better lower: the lift is the baseline's minus" in markdown
    card = (calibrated / "README.md").read_text()
    front = yaml.safe_load(card.split("---")[1])
    [results] = front["model-index"][0]["results"]
    types = [metric["type"] for metric in results["metrics"]]
    assert "calibration_error" in types
    assert "Expected calibration error (`calibration_error`, lower is better)" in card
    assert "(lower is better: the baseline's minus the model's)" in card
    assert "**calibration_error**" in card  # the card's primary metric
