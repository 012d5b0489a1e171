"""The backend seam: the local backend's protocol on real smoke trainings, `cancel`, `status`
and `logs` of runs with a handle, `--backend` and `--detach`, and remote runs (a stand-in
backend whose training outlives submit, tests/detached_backend.py) that are re-attached,
never started twice. A remote run's submit is a real process (it is killed, detached or
interrupted); what follows it (status, logs, cancel, resume) runs in this process
(tests/inprocess.py), the stand-in registered for each call only."""

from __future__ import annotations

import json
import os
import pty
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import DEXTER_AUTO, JOBS, REPO, group_members, run_cli
from detached_jobs import ROOT_ENV, remote_env, starts
from inprocess import run_in_process

from dexter_autotrain.backends import (
    PLUGINS_ENV,
    get_backend,
    register_backend,
    registrations_restored,
)
from dexter_autotrain.backends.local import LocalBackend
from dexter_autotrain.errors import UserError
from dexter_autotrain.runs import Run, find_run
from dexter_autotrain.system.processes import group_alive, is_running

NARRATIVE = JOBS / "narrative.yaml"


def _wait_for(predicate, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def _submit(runs: Path, *args: str, env: dict[str, str] | None = None, **popen) -> subprocess.Popen:
    return subprocess.Popen(
        [str(DEXTER_AUTO), "submit", "--smoke", *args, str(NARRATIVE), "--runs-dir", str(runs)],
        cwd=runs.parent,
        env=os.environ | {"NO_COLOR": "1"} | (env or {}),
        **{"stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE, "text": True} | popen,
    )


def _training(runs: Path) -> Run | None:
    """The run, once its training has a handle and has logged a training step."""
    for state_file in runs.glob("narrative/*/state.json"):
        handle = json.loads(state_file.read_text()).get("training_handle")
        if handle is None:
            continue
        log = state_file.parent / "logs" / "training.log"
        if handle["kind"] == "hf-jobs":  # the stand-in's own log, as a job's log lives remotely
            log = Path(handle["urls"]["job"].removeprefix("file://")) / "job.log"
        if _stepped(read(log)):
            return Run(state_file.parent)
    return None


def _stepped(log: bytes) -> bool:
    return b"it/s]" in log or b"s/it]" in log


def read(path: Path) -> bytes:
    return path.read_bytes() if path.exists() else b""


def _state(run: Path) -> dict:
    return json.loads((run / "state.json").read_text())


@pytest.fixture(scope="module")
def smoke_run(trained, tmp_path_factory) -> Run:
    """A finished local smoke run (a copy of the suite's): prepared data, rendered config, a
    trained model."""
    return Run(trained.copy("narrative", tmp_path_factory.mktemp("smoke")))


def test_get_backend_names_registered_backends_first(monkeypatch, tmp_path):
    """A registered backend comes before a built-in one; inside `registrations_restored` a
    registration, or a plugin named by $DEXTER_BACKEND_PLUGINS, lasts for the block."""
    assert get_backend("local").name == "local"
    with pytest.raises(UserError, match="`elsewhere` is not available in this version yet"):
        get_backend("elsewhere")
    with registrations_restored():
        register_backend("elsewhere", LocalBackend)
        assert isinstance(get_backend("elsewhere"), LocalBackend)
        monkeypatch.setenv(ROOT_ENV, str(tmp_path))
        monkeypatch.setenv(PLUGINS_ENV, "detached_backend")  # a stand-in for hf-jobs
        assert type(get_backend("hf-jobs")).__module__ == "detached_backend"
        monkeypatch.delenv(PLUGINS_ENV)
    with pytest.raises(UserError, match="`elsewhere` is not available"):
        get_backend("elsewhere")
    assert type(get_backend("hf-jobs")).__name__ == "HfJobsBackend"
    assert "detached_backend" not in sys.modules  # named again, it registers again


def test_local_protocol_start_poll_logs_collect_then_cancel(
    smoke_run, standin, trained, monkeypatch
):
    """Start to collect on the stand-in training (the local backend trains every shared run
    for real), then a real training cancelled after its first step."""
    for name, value in (standin | _short(trained, steps=8)).items():
        monkeypatch.setenv(name, value)
    backend = LocalBackend()
    handle = backend.start(smoke_run)
    assert (handle.kind, handle.id) == ("local", handle.id) and handle.details["started"]
    assert backend.poll(handle).phase == "running"
    lines = list(backend.logs(handle, follow=True))  # returns when the training ended
    assert any("Finished training, saving model" in line for line in lines)
    assert backend.poll(handle).phase == "completed"
    backend.collect(handle, smoke_run)
    assert (smoke_run.path / "narrative" / "model.safetensors").is_file()
    assert list(backend.logs(handle, follow=False)) == lines  # the same lines, read again

    monkeypatch.undo()
    backend = LocalBackend()
    handle = backend.start(smoke_run)
    _wait_for(lambda: _stepped(read(smoke_run.log_file)))
    started = time.monotonic()
    backend.cancel(handle)
    assert time.monotonic() - started < 15
    assert backend.poll(handle).phase == "completed"
    assert not group_alive(int(handle.id), handle.details["started"])
    assert not any("Finished training" in line for line in backend.logs(handle, follow=True))


def _short(trained, steps: int = 20) -> dict[str, str]:
    """A stand-in training of `steps` quarter seconds that ends with the suite's narrative model
    (what collect, evaluate and card then read)."""
    model = trained.get("narrative").run / "narrative"
    return {"STANDIN_STEPS": str(steps), "STANDIN_STEP_S": "0.25", "STANDIN_MODEL": str(model)}


def test_cancel_a_running_local_submit_and_its_status(tmp_path, standin):
    runs = tmp_path / "runs"
    process = _submit(runs, env=standin)
    _wait_for(lambda: _training(runs) is not None)
    run = _training(runs)
    assert run is not None
    status = json.loads(run_cli("status", run.path, "--json").stdout)
    assert status["training_job"]["kind"] == "local"
    assert status["training_job"]["phase"] == "running"
    text = run_cli("status", run.path).stdout
    assert f"training: local {status['training_job']['id']}: running" in text

    cancelled = run_cli("cancel", run.path, "--json")
    assert cancelled.code == 0, cancelled.stderr
    record = json.loads(cancelled.stdout)
    assert record["stopped"] == [f"submit (pid {process.pid})"]
    assert (record["state"], record["reason"]) == ("cancelled", "cancelled during train")
    assert process.wait(timeout=30) == 130
    handle = record["training_handle"]
    assert not group_alive(int(handle["id"]), handle["details"]["started"])
    again = run_cli("cancel", run.path)
    assert again.code == 2 and "nothing to cancel: the run is cancelled" in again.stderr


def test_backend_and_detach_are_checked_before_anything_is_written(tmp_path):
    runs = tmp_path / "runs"
    unknown = run_cli("submit", "--smoke", "--backend", "cloud", NARRATIVE, "--runs-dir", runs)
    assert unknown.code == 2 and "'cloud' is not one of 'local', 'hf-jobs'" in unknown.stderr
    local = run_cli("submit", "--smoke", "--detach", NARRATIVE, "--runs-dir", runs)
    assert local.code == 2
    assert local.stderr.startswith("--detach: a local training ends with the submit")
    resumed = run_cli("submit", "--resume", "narrative", "--backend", "local", "--runs-dir", runs)
    assert resumed.code == 2 and "--backend: only for a new run" in resumed.stderr
    assert not runs.exists()


@pytest.mark.training
def test_a_training_over_its_timeout_fails_and_is_stopped(tmp_path):
    (tmp_path / "job.yaml").write_text(
        "task: text-classification\nbase_model: {path: nowhere}\nlanguages: [pcm]\n"
        f"data:\n  sources:\n    - path: {REPO}/data/samples/naijasenti/{{language}}\n"
        "      format: tsv\n  min_examples_per_label: 5\ncompute: {timeout: 2s}\n"
    )
    result = run_cli("submit", "--smoke", "job.yaml", "--runs-dir", "runs", cwd=tmp_path)
    assert result.code == 1
    assert "error: training timed out after 2s (compute.timeout); the local training was " in (
        result.stderr
    )
    state = _state(next((tmp_path / "runs").glob("job/*/state.json")).parent)
    assert state["state"] == "failed" and state["reason"].startswith("train: training timed out")
    handle = state["training_handle"]
    assert not group_alive(int(handle["id"]), handle["details"]["started"])


def test_a_killed_submit_reattaches_to_its_remote_job(tmp_path, standin, trained):
    runs, remote = tmp_path / "runs", tmp_path / "remote"
    env = remote_env(remote) | standin | _short(trained)
    process = _submit(runs, "--backend", "hf-jobs", env=env, start_new_session=True)
    _wait_for(lambda: _training(runs) is not None)
    os.killpg(process.pid, signal.SIGKILL)  # submit dies; the job goes on
    process.wait()
    run = _training(runs)
    assert run is not None
    status = json.loads(run_in_process("status", run.path, "--json", env=env).stdout)
    assert status["detached"] is True and "interrupted" not in status
    assert status["training_job"]["phase"] == "running"
    assert "`dexter-auto submit --resume" in status["explanation"]
    listed = run_in_process("runs", "--runs-dir", runs, env=env).stdout.splitlines()
    assert any(line.split()[-1] == "detached" for line in listed[1:])

    resumed = run_in_process("submit", "--resume", run.path, "--runs-dir", runs, "--json", env=env)
    assert resumed.code == 0, resumed.stderr[-3000:]
    state = json.loads(resumed.stdout)
    assert state["completed"] == ["prepare", "train", "evaluate", "card"]
    assert starts(remote) == [run.run_id]  # re-attached: one start only
    assert "re-attached to hf-jobs job" in resumed.stderr
    assert (
        state["backend"] == "hf-jobs"
        and "hardware: cpu-basic" in read(run.path / "spec.yaml").decode()
    )
    assert "Finished training, saving model" in run.log_file.read_text()  # the mirror
    assert (run.path / "narrative" / "model.safetensors").is_file()


def test_detach_then_status_logs_f_and_resume_collects(tmp_path, standin, trained):
    runs, remote = tmp_path / "runs", tmp_path / "remote"
    env = remote_env(remote) | standin | _short(trained)
    args = ("submit", "--smoke", "--backend", "hf-jobs", "--detach", NARRATIVE)
    detached = run_cli(*args, "--runs-dir", runs, "--json", env=env)
    assert detached.code == 0, detached.stderr[-3000:]
    record = json.loads(detached.stdout)
    run = find_run(record["run"])
    assert record["state"] == "training" and record["training_handle"]["kind"] == "hf-jobs"
    assert f"`dexter-auto submit --resume {run.path}`" in record["message"]

    followed = run_in_process("logs", "-f", run.path, env=env)  # streams until the job ended
    assert followed.code == 0 and "Finished training, saving model" in followed.stdout
    status = json.loads(run_in_process("status", run.path, "--json", env=env).stdout)
    assert status["training_job"]["phase"] == "completed" and status["detached"] is True

    resumed = run_in_process("submit", "--resume", run.path, "--runs-dir", runs, "--json", env=env)
    assert resumed.code == 0, resumed.stderr[-3000:]
    assert json.loads(resumed.stdout)["state"] == "carded"
    assert starts(remote) == [run.run_id]


def test_cancel_a_detached_remote_job(tmp_path, standin):
    runs, remote = tmp_path / "runs", tmp_path / "remote"
    env = remote_env(remote) | standin
    args = ("submit", "--smoke", "--backend", "hf-jobs", "--detach", NARRATIVE)
    record = json.loads(run_cli(*args, "--runs-dir", runs, "--json", env=env).stdout)
    handle = record["training_handle"]
    cancelled = run_in_process("cancel", record["run"], "--json", env=env)
    assert cancelled.code == 0, cancelled.stderr
    state = json.loads(cancelled.stdout)
    assert state["stopped"] == [f"hf-jobs job {handle['id']}"]
    assert (state["state"], state["reason"]) == ("cancelled", "cancelled with `dexter-auto cancel`")
    assert not is_running(handle["details"]["pid"], handle["details"]["started"])
    assert group_members(handle["details"]["pid"]) == []  # its SIGTERM-deaf grandchild too


def test_ctrl_c_without_a_terminal_cancels_the_remote_job(tmp_path, standin):
    runs, remote = tmp_path / "runs", tmp_path / "remote"
    process = _submit(runs, "--backend", "hf-jobs", env=remote_env(remote) | standin)
    _wait_for(lambda: _training(runs) is not None)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    state = _state(next(runs.glob("narrative/*/state.json")).parent)
    assert (state["state"], state["reason"]) == ("cancelled", "cancelled during train")
    assert (remote / state["training_handle"]["id"] / "cancelled").exists()
    assert group_members(state["training_handle"]["details"]["pid"]) == []


class _Terminal:
    """A pseudo-terminal for a child process, drained in a thread."""

    def __init__(self) -> None:
        self.master, self.child = pty.openpty()
        self.output = bytearray()
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        while True:
            ready, _, _ = select.select([self.master], [], [], 0.2)
            try:
                chunk = os.read(self.master, 65536) if ready else b""
            except OSError:
                return
            self.output += chunk

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())


def test_ctrl_c_on_a_terminal_may_leave_the_remote_job_running(tmp_path, standin, trained):
    runs, remote = tmp_path / "runs", tmp_path / "remote"
    env = remote_env(remote) | standin | _short(trained, steps=24)
    terminal = _Terminal()
    process = _submit(
        runs,
        "--backend",
        "hf-jobs",
        env=env,
        stdin=terminal.child,
        stdout=terminal.child,
        stderr=terminal.child,
    )
    _wait_for(lambda: _training(runs) is not None)
    process.send_signal(signal.SIGINT)
    _wait_for(lambda: b"cancel the hf-jobs job" in terminal.output, timeout=30)
    terminal.type("n\n")
    assert process.wait(timeout=30) == 130
    _wait_for(lambda: b"detached" in terminal.output, timeout=5)
    run = next(runs.glob("narrative/*/state.json")).parent
    assert _state(run)["state"] == "training"

    resumed = run_in_process("submit", "--resume", run, "--runs-dir", runs, "--json", env=env)
    assert resumed.code == 0, resumed.stderr[-3000:]
    assert json.loads(resumed.stdout)["state"] == "carded"
    assert starts(remote) == [run.name]


def test_a_local_group_killed_mid_training_resumes_without_retraining_its_first_seed(
    tmp_path, standin, trained
):
    """`--seeds 2` locally trains (and evaluates) one seed after another; a submit killed
    (SIGKILL) while the second trains leaves the first evaluated, and resuming the second
    finishes the job: the first seed is neither trained nor evaluated again, the second is
    trained again, and the winner is chosen and carded."""
    runs = tmp_path / "runs"
    process = _submit(runs, "--seeds", "2", env=standin | _short(trained, steps=40))

    def second_seed_training() -> Path | None:
        for state_file in runs.glob("narrative/*/state.json"):
            state = json.loads(state_file.read_text())
            if state["member"]["seed"] == 43 and state.get("training_handle"):
                return state_file.parent
        return None

    _wait_for(lambda: second_seed_training() is not None)
    second = second_seed_training()
    [first] = [p.parent for p in runs.glob("narrative/*/state.json") if p.parent != second]
    assert _state(first)["completed"] == ["prepare", "train", "evaluate"]
    kept = ("logs/training.log", "predictions.jsonl")
    done = {name: (first / name).stat().st_mtime_ns for name in kept}
    process.kill()
    process.wait(timeout=30)
    handle = _state(second)["training_handle"]  # its watchdog ends the orphaned training
    _wait_for(lambda: not group_alive(int(handle["id"]), handle["details"]["started"]), 30)
    again = standin | _short(trained, steps=4)
    resumed = run_in_process("submit", "--resume", second, "--runs-dir", runs, "--json", env=again)
    assert resumed.code == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    winner = json.loads(resumed.stdout)
    assert winner["completed"] == ["prepare", "train", "evaluate", "card"]
    assert [m["seed"] for m in winner["repeats"]["members"]] == [42, 43]
    assert {name: (first / name).stat().st_mtime_ns for name in done} == done  # not redone
    # (the winner's evaluation.json is written again: its gates judged on the mean)
    assert _state(second)["completed"][:3] == ["prepare", "train", "evaluate"]
    assert winner["repeats"]["winner"] in (first.name, second.name)


def test_seeds_on_a_remote_backend_train_side_by_side_and_a_detached_group_resumes(
    tmp_path, standin, trained
):
    """`--seeds 2` on a remote backend starts both trainings before following either;
    `--detach` leaves them running, and resuming either member's run finishes the job:
    both re-attached (never started twice), evaluated, the winner chosen and carded."""
    runs, remote = tmp_path / "runs", tmp_path / "remote"
    env = remote_env(remote) | standin | _short(trained)
    args = ("submit", "--smoke", "--backend", "hf-jobs", "--seeds", "2", "--detach", NARRATIVE)
    detached = run_cli(*args, "--runs-dir", runs, "--json", env=env)
    assert detached.code == 0, detached.stderr[-3000:]
    members = sorted(runs.glob("narrative/*/state.json"))
    assert len(members) == 2 and sorted(starts(remote)) == sorted(p.parent.name for p in members)
    states = [json.loads(path.read_text()) for path in members]
    assert {state["state"] for state in states} == {"training"}
    assert sorted(state["member"]["seed"] for state in states) == [42, 43]

    latest = members[-1].parent
    resumed = run_in_process("submit", "--resume", latest, "--runs-dir", runs, "--json", env=env)
    assert resumed.code == 0, resumed.stderr[-3000:]
    winner = json.loads(resumed.stdout)
    assert winner["completed"] == ["prepare", "train", "evaluate", "card"]
    assert [m["seed"] for m in winner["repeats"]["members"]] == [42, 43]
    assert len(starts(remote)) == 2  # re-attached, never started again
    assert resumed.stderr.count("re-attached to hf-jobs job") == 2
