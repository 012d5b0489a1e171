"""`dexter-auto sweep` end to end through the real AutoTrain runner: a smoke sweep whose bad
trial is pruned and whose best trial is promoted (alone scored on the test split), a sweep
killed mid-trial and resumed, and the `sweep:` section's validation."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import DEXTER_AUTO, REPO
from detached_jobs import remote_env
from inprocess import run_in_process

from dexter_autotrain.errors import UserError
from dexter_autotrain.spec import load_spec

SPEC = """\
name: swept
task: text-classification
base_model:
  id: FacebookAI/xlm-roberta-base
  revision: e73636d4f797dec63c3081bb6ed5c7b0bb3f2089
languages: [hau, pcm]
data:
  sources:
    - path: {repo}/data/samples/naijasenti/{{language}}
      format: tsv
  labels: [negative, neutral, positive]
  min_examples_per_label: 5
  max_rows_per_split: 120
sweep:
{sweep}
"""
PRUNING = """\
  n_trials: 3
  metric: loss
  pruner: median
  prune_after_trials: 2
  space:
    learning_rate: {type: log_uniform, low: 1.0e-4, high: 1.0}
  first_trials:
    - {learning_rate: 1.0e-3}
    - {learning_rate: 2.0e-3}
    - {learning_rate: 1.0}
"""
"""Trials 0 and 1 always finish (the median pruner waits for two); trial 2's learning rate
blows the tiny model's loss up, and the pruner stops it at its first evaluation, as the
validation loss streams in."""
UNPRUNED = """\
  n_trials: 3
  metric: loss
  pruner: none
  space:
    learning_rate: {type: log_uniform, low: 1.0e-4, high: 3.0e-3}
"""


def _write(tmp_path: Path, sweep: str) -> Path:
    path = tmp_path / "swept.yaml"
    path.write_text(SPEC.format(repo=REPO, sweep=sweep))
    return path


def _sweep(
    tmp_path: Path, *args: str | Path, env: dict[str, str] | None = None, **popen
) -> subprocess.Popen:
    """`dexter-auto sweep ARGS --json` in a real process; its progress goes to sweep.log."""
    command = [DEXTER_AUTO, "sweep", *args, "--runs-dir", tmp_path / "runs", "--json"]
    command += ["--cards-dir", tmp_path / "cards"]
    with (tmp_path / "sweep.log").open("a") as log:
        return subprocess.Popen(
            list(map(str, command)),
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            env=(env or dict(os.environ)) | {"NO_COLOR": "1"},
            **popen,
        )


def _swept(tmp_path: Path, *args: str | Path, env: dict[str, str] | None = None) -> dict:
    """`dexter-auto sweep ARGS --json` run to its end in this process (tests/inprocess.py)."""
    places = ("--runs-dir", tmp_path / "runs", "--cards-dir", tmp_path / "cards")
    result = run_in_process("sweep", *args, *places, "--json", cwd=tmp_path, env=env)
    assert result.code == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def _finished(process: subprocess.Popen, tmp_path: Path) -> dict:
    stdout, _ = process.communicate(timeout=300)
    assert process.returncode == 0, (tmp_path / "sweep.log").read_text()[-3000:]
    return json.loads(stdout)


@pytest.fixture(scope="module")
def pruned_sweep(tmp_path_factory) -> tuple[Path, dict]:
    tmp_path = tmp_path_factory.mktemp("pruned")
    started = time.monotonic()
    result = _swept(tmp_path, "--smoke", _write(tmp_path, PRUNING))
    print(f"smoke sweep of 3 trials with promotion: {time.monotonic() - started:.0f} s")
    return tmp_path / "runs", result


@pytest.mark.training
def test_a_clearly_bad_trial_is_pruned_from_the_streamed_validation_loss(pruned_sweep):
    _, result = pruned_sweep
    states = {row["number"]: row["state"] for row in result["trials"]}
    assert states == {0: "complete", 1: "complete", 2: "pruned"}
    pruned = result["trials"][2]
    assert pruned["epochs"] == 1 and pruned["params"] == {"learning_rate": 1.0}
    assert result["trials"][0]["epochs"] == 3  # smoke: three epochs, each reported
    run = Path(pruned["run"])
    state = json.loads((run / "state.json").read_text())
    assert state["state"] == "cancelled" and "pruned at epoch 1" in state["reason"]
    assert not (run / "swept").exists()  # the stopped training's output is gone


@pytest.mark.training
def test_the_best_trial_is_promoted_and_alone_touches_the_test_split(pruned_sweep):
    runs, result = pruned_sweep
    complete = [row for row in result["trials"] if row["state"] == "complete"]
    best = min(complete, key=lambda row: row["value"])
    assert result["best"]["trial"] == best["number"] and result["state"] == "done"
    promoted = Path(result["promoted"]["run"])
    assert promoted == Path(best["run"])
    assert result["promoted"]["completed"] == ["prepare", "train", "evaluate", "card"]
    trial_runs = {Path(row["run"]) for row in result["trials"]}
    assert {p.parent for p in runs.glob("swept/*/state.json")} == trial_runs
    for run in trial_runs:
        touched = [(run / name).exists() for name in ("data/test.jsonl", "evaluation.json")]
        assert touched == [run == promoted] * 2, run
        assert ("evaluation" in json.loads((run / "state.json").read_text())) == (run == promoted)
    evaluation = json.loads((promoted / "evaluation.json").read_text())
    assert evaluation["split"] == "test"


@pytest.mark.training
def test_the_promoted_card_says_how_it_was_chosen(pruned_sweep):
    _, result = pruned_sweep
    promoted = Path(result["promoted"]["run"])
    card = (promoted / "README.md").read_text()
    assert "### How these hyperparameters were chosen" in card
    assert "ran 3 trials (2 complete, 1 pruned, 0 failed)" in card
    assert f"This model is trial {result['best']['trial']}" in card
    assert "| learning_rate | log-uniform 0.0001 to 1 |" in card
    assert "![validation score of every trial](plots/sweep-trials.png)" in card
    assert (promoted / "plots/sweep-trials.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert result["promoted"]["sweep"]["space"] == {"learning_rate": "log-uniform 0.0001 to 1"}


def _training_trial(runs: Path, number: int) -> Path | None:
    """The run of trial `number` once its training wrote to its log."""
    for state_file in runs.glob("swept/*/state.json"):
        state = json.loads(state_file.read_text())
        log = state_file.parent / "logs" / "training.log"
        started = state["state"] == "training" and log.is_file() and log.stat().st_size > 0
        if state.get("sweep", {}).get("trial") == number and started:
            return state_file.parent
    return None


def _standin_trials(standin: dict[str, str], trained, steps: int) -> dict[str, str]:
    """Each trial's training is the stand-in, `steps` quarter seconds ending with the suite's
    narrative model (its trainer state holds the validation loss a trial is scored by)."""
    model = trained.get("narrative").run / "narrative"
    settings = {"STANDIN_STEPS": str(steps), "STANDIN_STEP_S": "0.25", "STANDIN_MODEL": str(model)}
    return dict(os.environ) | standin | settings


def test_a_killed_sweep_resumes_without_redoing_finished_trials(tmp_path, standin, trained):
    """Killed mid-trial and resumed: what is tested is the study's bookkeeping, so the trials
    train the stand-in (tests/standin_train.py)."""
    runs = tmp_path / "runs"
    env = _standin_trials(standin, trained, steps=12)
    spec = _write(tmp_path, UNPRUNED)
    process = _sweep(tmp_path, "--smoke", "--no-promote", spec, env=env, start_new_session=True)
    deadline = time.monotonic() + 180
    while _training_trial(runs, 1) is None:
        assert process.poll() is None and time.monotonic() < deadline, (
            tmp_path / "sweep.log"
        ).read_text()
        time.sleep(0.3)
    os.killpg(process.pid, signal.SIGKILL)  # the sweep dies mid-trial, without cleaning up
    process.wait()
    first = next(
        p.parent
        for p in runs.glob("swept/*/state.json")
        if json.loads(p.read_text())["sweep"]["trial"] == 0
    )
    first_log = (first / "logs/training.log").stat().st_mtime_ns
    folder = next(runs.glob("swept/sweeps/*"))

    result = _swept(tmp_path, "--resume", folder.name, "--no-promote", env=env)
    states = [(row["number"], row["state"]) for row in result["trials"]]
    assert states == [(0, "complete"), (1, "interrupted"), (2, "complete"), (3, "complete")]
    assert result["trials"][2]["params"] == result["trials"][1]["params"]  # tried again
    assert (first / "logs/training.log").stat().st_mtime_ns == first_log  # not redone
    interrupted = json.loads((Path(result["trials"][1]["run"]) / "state.json").read_text())
    assert interrupted["state"] == "failed" and "interrupted" in interrupted["reason"]
    assert len(list(runs.glob("swept/*/state.json"))) == 4
    assert result["promoted"] is None and result["state"] == "trained"


@pytest.mark.parametrize(
    ("sweep", "expected"),
    [
        ("  split: test\n", "sweep.split: cannot be `test` (sweeps score trials on the validation"),
        ("  metric: test_f1_macro\n", "sweep.metric: `test_f1_macro` is a test-split metric"),
        ("  metric: bleu\n", "sweep.metric: `bleu` is not a validation metric of text-class"),
        ("  space: {}\n", "sweep.space: is empty"),
        (
            "  space:\n    learning_rate: {type: log_uniform, low: 0, high: 1.0e-3}\n",
            "sweep.space.learning_rate.low: must be above 0 for `log_uniform`",
        ),
        (
            "  space:\n    batch_size: {type: uniform, low: 4, high: 8}\n",
            "sweep.space.batch_size.type: `uniform` does not fit batch_size",
        ),
        (
            "  space:\n    epochs: {type: int, low: 1, high: 500}\n",
            "sweep.space.epochs.high: `500` is not a valid training.epochs",
        ),
        ("  space:\n    dropout: {type: choice, values: [0.1]}\n", "sweep.space.dropout: unknown"),
        (
            "  first_trials: [{epochs: 2}]\n",
            "sweep.first_trials[0].epochs: `epochs` is not in `sweep.space`",
        ),
    ],
)
def test_a_bad_sweep_section_is_one_located_line(tmp_path, sweep, expected):
    base = "  space:\n    learning_rate: {type: log_uniform, low: 1.0e-5, high: 1.0e-3}\n"
    text = sweep if "space" in sweep else sweep + base
    with pytest.raises(UserError) as raised:
        load_spec(_write(tmp_path, text))
    lines = str(raised.value).splitlines()
    assert any(expected in line and line.startswith(f"{tmp_path}/swept.yaml:") for line in lines)


def test_evaluating_the_winner_on_validation_is_refused(tmp_path):
    path = _write(tmp_path, UNPRUNED)
    path.write_text(path.read_text() + "evaluation:\n  split: validation\n")
    with pytest.raises(UserError, match=r"evaluation\.split: is `validation`, which the sweep"):
        load_spec(path)


def test_a_spec_without_a_sweep_section_is_refused(tmp_path, cli):
    path = _write(tmp_path, UNPRUNED)
    path.write_text(path.read_text().split("sweep:")[0])
    result = cli("sweep", "--smoke", path, "--runs-dir", tmp_path / "runs")
    assert result.code == 2 and "the spec has no `sweep:` section" in result.stderr
    assert not (tmp_path / "runs").exists()


def test_a_resumed_sweep_keeps_its_backend(tmp_path, cli):
    result = cli("sweep", "--resume", "any", "--backend", "local", "--runs-dir", tmp_path)
    assert result.code == 2 and "a resumed sweep keeps its backend" in result.stderr


def _training_span(run: Path) -> tuple[float, float]:
    state = json.loads((run / "state.json").read_text())
    assert state["training_handle"]["kind"] == "hf-jobs"
    return state["training_since"], state["training_since"] + state["training"]["seconds"]


@pytest.mark.training
def test_remote_trials_and_seed_repeats_run_in_parallel(tmp_path, standin, trained):
    """On a remote backend (`--backend hf-jobs`, here the stand-in for HF Jobs of
    tests/detached_backend.py), up to `parallel` trials train at once, and so do the best
    settings' repeats over seeds (`repeat_seeds: 3`) before promotion. Each training is the
    stand-in, ending with the suite's narrative model (its trainer state holds the
    validation loss a trial is scored by): what is tested is the scheduling."""
    sweep = "  parallel: 2\n  repeat_seeds: 3\n" + UNPRUNED.replace("n_trials: 3", "n_trials: 2")
    remote = remote_env(tmp_path / "jobs")
    args = ("--smoke", "--backend", "hf-jobs", _write(tmp_path, sweep))  # smoke: else local
    result = _swept(tmp_path, *args, env=_standin_trials(standin, trained, steps=12) | remote)
    assert [row["state"] for row in result["trials"]] == ["complete", "complete"]
    trials = [Path(row["run"]) for row in result["trials"]]
    members = result["promoted"]["repeats"]["members"]
    assert [member["seed"] for member in members] == [42, 43, 44]
    seeds = [tmp_path / "runs/swept" / member["run_id"] for member in members[1:]]
    for pair in (trials, seeds):
        first, second = sorted(_training_span(run) for run in pair)
        assert second[0] < first[1]  # the second started before the first ended
    started = (tmp_path / "jobs" / "starts.log").read_text().split()
    assert sorted(started) == sorted(run.name for run in trials + seeds)


@pytest.mark.training
def test_the_best_settings_are_repeated_over_seeds_before_promotion(tmp_path, standin, trained):
    """`repeat_seeds: 2`: the best trial's settings trained again with the next seed, both
    evaluated on the test split, the better on validation promoted with the spread on its
    card. Every training is the stand-in (the suite's narrative model): what is tested is
    the bookkeeping."""
    sweep = UNPRUNED.replace("n_trials: 3", "n_trials: 2") + "  repeat_seeds: 2\n"
    env = _standin_trials(standin, trained, steps=4)
    result = _swept(tmp_path, "--smoke", _write(tmp_path, sweep), env=env)
    promoted = result["promoted"]
    repeats = promoted["repeats"]
    assert [m["seed"] for m in repeats["members"]] == [42, 43]
    best = result["best"]
    assert repeats["members"][0]["run_id"] == Path(result["trials"][best["trial"]]["run"]).name
    again = json.loads((tmp_path / "runs/swept" / repeats["members"][1]["run_id"] / "state.json")
                       .read_text())  # fmt: skip
    assert again["resolved"]["seed"] == 43 and again["completed"][-1] == "evaluate"
    assert again["resolved"]["learning_rate"] == best["best_params"]["learning_rate"]
    assert promoted["sweep"]["trial"] == best["trial"] and repeats["winner"] == promoted["run_id"]
    card = (Path(promoted["run"]) / "README.md").read_text()
    assert "## Seeds and candidates" in card and "This model is trial" in card
    assert len(list((tmp_path / "runs/swept").glob("*/state.json"))) == 3  # 2 trials + 1 seed
