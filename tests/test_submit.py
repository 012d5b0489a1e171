"""`submit` end to end through the real AutoTrain runner, and the runs it leaves behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import DEXTER_AUTO, JOBS, REPO, SHARED_DATA, group_members, run_cli

from dexter_autotrain.errors import ToolError
from dexter_autotrain.runs import job_lock

IN_PROCESS = True  # the `cli` fixture runs dexter-auto in this process (tests/inprocess.py); the
# tests about signals start the console script themselves, and the twice-trained job runs it too
needs_shared = pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="../shared/data is absent")


def _submit(cli, tmp_path: Path, spec: Path | str, *extra: str, env: dict | None = None):
    runs = tmp_path / "runs"
    return cli("submit", *extra, spec, "--runs-dir", runs, "--json", cwd=tmp_path, env=env)


def _check_trained_run(result, task_metrics: set[str]) -> tuple[Path, dict]:
    assert result.code == 0, result.stderr[-3000:]
    state = json.loads(result.stdout)
    run = Path(state["run"])
    assert (state["state"], state["completed"]) == (
        "carded",
        ["prepare", "train", "evaluate", "card"],
    )
    model = run / state["model_dir"]
    assert (model / "config.json").is_file() and (model / "model.safetensors").is_file()
    assert (model / "trainer_state.json").is_file() and not list(model.glob("checkpoint-*"))
    assert task_metrics <= set(state["training"]["validation"])
    assert state["base_model"] == str(run / "base-model") and state["smoke"] is True
    for name in (
        "spec.yaml",
        "spec.sha256",
        "autotrain.yml",
        "data-report.json",
        "logs/training.log",
        "data/train.jsonl",
        "evaluation.json",
        "evaluation.md",
        "predictions.jsonl",
        "README.md",
    ):
        assert (run / name).is_file(), name
    assert (run / "spec.sha256").read_text().strip() == state["spec_sha256"]
    assert f"base_model: {run}/base-model" in (run / "autotrain.yml").read_text()
    return run, state


@needs_shared
def test_text_classification_on_sentiment_data(trained):
    """The suite's smoke submit on AfriSenti (hau, pcm), as trained once for every test."""
    run, state = _check_trained_run(trained.get("sentiment"), {"accuracy", "f1_macro", "loss"})
    report = json.loads((run / "data-report.json").read_text())
    assert {split: record["rows"] for split, record in report["splits"].items()} == {
        "train": 200,
        "validation": 200,
        "test": 200,
    }
    assert state["training"]["epoch"] == 3.0


@needs_shared
def test_token_classification_on_masakhaner(trained):
    run, _ = _check_trained_run(trained.get("ner"), {"f1", "precision", "recall", "accuracy"})
    config = json.loads((run / "ner" / "config.json").read_text())
    assert sorted(config["label2id"]) == ["B-LOC", "B-ORG", "B-PER", "I-LOC", "I-ORG", "I-PER", "O"]


def test_image_classification_on_the_memes_sample(trained):
    run, _ = _check_trained_run(trained.get("memes"), {"accuracy", "f1_macro"})
    assert (run / "memes" / "preprocessor_config.json").is_file()


@pytest.mark.training
def test_a_crashing_autotrain_run_is_reported_with_its_cause(cli, tmp_path):
    (tmp_path / "broken-model").mkdir()
    (tmp_path / "broken-model" / "config.json").write_text(
        '{"model_type": "bert", "hidden_size": 32, "num_attention_heads": 2}'
    )
    (tmp_path / "job.yaml").write_text(
        "task: text-classification\nbase_model: {path: broken-model}\nlanguages: [pcm]\n"
        f"data:\n  sources:\n    - path: {REPO}/data/samples/naijasenti/{{language}}\n"
        "      format: tsv\n  min_examples_per_label: 5\ntraining: {epochs: 1}\n"
    )
    samples = {"DEXTER_DATA_ROOTS": str(REPO / "data")}
    result = cli("submit", "job.yaml", "--runs-dir", tmp_path / "runs", cwd=tmp_path, env=samples)
    assert result.code == 1
    assert "Traceback" in result.stderr and "OSError: Error no file named" in result.stderr
    first = next(line for line in result.stderr.splitlines() if line.startswith("error"))
    assert first.startswith(
        "error: training failed: OSError: Error no file named pytorch_model.bin"
    )
    assert "judged from the log and the model folder: AutoTrain exits 0 even when" in first
    status = json.loads(cli("status", "job", "--runs-dir", tmp_path / "runs", "--json").stdout)
    assert status["state"] == "failed" and status["completed"] == ["prepare"]
    assert status["reason"].startswith("train: training failed: OSError")


def test_a_hub_model_offline_needs_smoke_or_a_local_path(cli, tmp_path):
    result = cli("submit", JOBS / "narrative.yaml", "--runs-dir", tmp_path / "runs")
    assert result.code == 2
    assert result.stderr.splitlines() == [
        "base_model.id: FacebookAI/xlm-roberta-base@e73636d4f797 is not in the local cache and "
        "the Hub cannot be reached (offline?); try `dexter-auto submit --smoke` for a tiny "
        "offline model, or set base_model.path to a local copy"
    ]
    assert not (tmp_path / "runs").exists()


def test_a_second_submit_of_the_same_job_is_refused(cli, tmp_path):
    with job_lock("narrative", tmp_path / "runs"):
        result = cli("submit", "--smoke", JOBS / "narrative.yaml", "--runs-dir", tmp_path / "runs")
    assert result.code == 1
    assert f"job `narrative` is already being submitted by pid {os.getpid()}" in result.stderr


def _wait_for(predicate, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def _start_smoke_submit(runs: Path, **popen: Any) -> subprocess.Popen:
    command = [
        str(DEXTER_AUTO),
        "submit",
        "--smoke",
        str(JOBS / "narrative.yaml"),
        "--runs-dir",
        str(runs),
    ]
    return subprocess.Popen(command, cwd=runs.parent, stdout=subprocess.DEVNULL, **popen)


def _training_state(runs: Path) -> dict | None:
    """The run's state once AutoTrain has started and written to its log."""
    files = list(runs.glob("narrative/*/state.json"))
    if not files:
        return None
    state = json.loads(files[0].read_text())
    log = files[0].parent / "logs" / "training.log"
    started = "training_handle" in state and log.exists() and log.stat().st_size > 0
    return state if started else None


@pytest.mark.training
def test_kill_then_resume(cli, tmp_path, standin, trained):
    """Both attempts train the stand-in: the first killed at its first line, as a crash
    would; the resumed one ends with the suite's narrative model (what is tested is the
    resume: the shared runs train for real)."""
    runs = tmp_path / "runs"
    process = _start_smoke_submit(
        runs, start_new_session=True, stderr=subprocess.DEVNULL, env=os.environ | standin
    )
    _wait_for(lambda: _training_state(runs) is not None)
    state = _training_state(runs)
    os.killpg(process.pid, signal.SIGKILL)  # the submit process dies without cleaning up...
    training = int(state["training_handle"]["id"])
    os.killpg(training, signal.SIGKILL)  # ...and so does training, as in a crash
    process.wait()
    run = next(runs.glob("narrative/*/state.json")).parent
    report_before = (run / "data-report.json").stat().st_mtime_ns

    status = json.loads(cli("status", run, "--json").stdout)
    assert status["state"] == "training" and status["interrupted"] is True
    assert "continue with `dexter-auto submit --resume" in status["explanation"]

    model = str(trained.get("narrative").run / "narrative")
    short = standin | {"STANDIN_STEPS": "2", "STANDIN_STEP_S": "0.1", "STANDIN_MODEL": model}
    resumed = cli("submit", "--resume", run, "--runs-dir", runs, "--json", env=short)
    assert resumed.code == 0, resumed.stderr[-3000:]
    final = json.loads(resumed.stdout)
    assert (final["state"], final["completed"]) == (
        "carded",
        ["prepare", "train", "evaluate", "card"],
    )
    assert (run / "data-report.json").stat().st_mtime_ns == report_before  # prepare not redone
    assert (run / "narrative" / "model.safetensors").is_file()
    again = cli("submit", "--resume", run, "--runs-dir", runs)
    assert again.code == 2 and "already carded; nothing to resume" in again.stderr


def test_sigterm_cancels_training_and_stops_every_child(tmp_path, standin):
    """On the stand-in training, whose worker ignores SIGTERM as accelerate's may."""
    runs = tmp_path / "runs"
    env = os.environ | standin
    process = _start_smoke_submit(runs, stderr=subprocess.PIPE, text=True, env=env)
    _wait_for(lambda: _training_state(runs) is not None)
    training_pid = int(_training_state(runs)["training_handle"]["id"])
    time.sleep(1)  # let the training start its worker
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert "cancelled" in stderr
    assert group_members(training_pid) == []  # the training and its SIGTERM-deaf worker
    state = json.loads(next(runs.glob("narrative/*/state.json")).read_text())
    assert (state["state"], state["reason"]) == ("cancelled", "cancelled during train")


def test_a_tiny_model_is_built_once_then_copied_from_the_cache(trained, tmp_path, monkeypatch):
    """The second smoke build of the same data is the cached model: it needs no runner at
    all (this runner has no Python), and gives the same files; other data builds anew."""
    from dexter_autotrain.training.base_models import build_tiny_model
    from dexter_autotrain.training.runner_env import MARKER_FILE, RunnerEnv, default_runner

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    run = trained.get("narrative").run
    first = Path(
        build_tiny_model(
            default_runner(), "text-classification", run / "data/train.jsonl", tmp_path / "a"
        )
    )
    pythonless = RunnerEnv(tmp_path / "no-python")
    (pythonless.root).mkdir()
    (pythonless.root / MARKER_FILE).write_bytes(default_runner().marker.read_bytes())
    second = Path(
        build_tiny_model(
            pythonless, "text-classification", run / "data/train.jsonl", tmp_path / "b"
        )
    )
    assert sorted(p.name for p in second.iterdir()) == sorted(p.name for p in first.iterdir())
    for path in first.iterdir():
        assert (second / path.name).read_bytes() == path.read_bytes()
    other = tmp_path / "other.jsonl"
    other.write_text('{"text": "another sample", "label": 0}\n')
    with pytest.raises(ToolError, match="building the tiny smoke-test model failed"):
        build_tiny_model(pythonless, "text-classification", other, tmp_path / "c")


def test_the_seed_is_the_seed(trained):
    """`training.seed` reaches AutoTrain's Trainer (shuffling, dropout) and its data order,
    not only the new head (AutoTrain passes the Trainer no seed: it was 42 whatever the spec
    said): each run's log names the seeds its Trainer held, the suite's narrative run (seed
    42) and its variant (seed 7), and their first epochs differ. The card says what the
    training script does with the seed."""
    first_epochs = []
    for name, seed in (("narrative", 42), ("narrative-variant", 7)):
        shared = trained.get(name)
        log = (shared.run / "logs/training.log").read_text()
        assert f"dexter runner: trainer seed {seed}, data seed {seed}" in log
        card = (shared.run / "README.md").read_text()
        assert (
            "training script: the job's seed sets the data order, the dropout and the new " in card
        )
        state = shared.state
        history = json.loads((shared.run / state["model_dir"] / "trainer_state.json").read_text())
        first_epochs.append(next(row for row in history["log_history"] if "eval_loss" in row))
    assert first_epochs[0]["epoch"] == first_epochs[1]["epoch"] == 1.0
    assert first_epochs[0]["eval_loss"] != first_epochs[1]["eval_loss"]


@pytest.mark.training
def test_the_same_job_trains_the_same_model_twice(tmp_path, trained):
    """Seeded end to end: the smoke model's vocabulary and weights, and the classification
    head AutoTrain adds before its Trainer seeds anything. Trained again here, the tiny
    model built afresh (an empty cache), compared with the suite's shared training of the
    same job (another process, folder and time)."""
    weights = []
    fresh = {"XDG_CACHE_HOME": str(tmp_path / "empty-cache")}
    result = _submit(run_cli, tmp_path, JOBS / "narrative.yaml", "--smoke", env=fresh)
    assert (tmp_path / "empty-cache" / "dexter-autotrain" / "tiny-models").is_dir()
    assert result.code == 0, result.stderr[-3000:]
    for state in (json.loads(result.stdout), trained.get("narrative").state):
        run = Path(state["run"])
        weights.append(
            [
                (run / name).read_bytes()
                for name in (
                    "base-model/tokenizer.json",
                    "base-model/model.safetensors",
                    f"{state['model_dir']}/model.safetensors",
                )
            ]
        )
    assert weights[0] == weights[1]
