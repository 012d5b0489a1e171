"""Process and file-system faults around `submit`: the token never reaches disk, AutoTrain dies
with submit, PIDs are checked against their start time, corrupt and full runs are explained.

Full disks and read-only folders are real: a tiny tmpfs or a read-only bind mount inside a
user + mount namespace (`unshare -rm`), since chmod does not stop root."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from conftest import DEXTER_AUTO, JOBS, REPO, fake_token, group_members, run_cli
from inprocess import run_in_process
from trained_runs import TOKEN as SHARED_TOKEN

from dexter_autotrain.backends.local import scrub_tokens
from dexter_autotrain.runs import Run, list_runs
from dexter_autotrain.spec import load_spec
from dexter_autotrain.system.processes import group_alive, start_time
from dexter_autotrain.training.runner_env import RunnerEnv, default_runner

FAKE_TOKEN = fake_token("FAKEdexterTOKEN")
TOKEN_ENV = {
    "HF_TOKEN": FAKE_TOKEN,
    "HUGGING_FACE_HUB_TOKEN": FAKE_TOKEN,
    "HF_API_TOKEN": FAKE_TOKEN,
}


def _namespaces_work() -> bool:
    probe = ["unshare", "-rm", "sh", "-c", "mount -t tmpfs tmpfs /mnt"]
    return shutil.which("unshare") is not None and subprocess.run(probe).returncode == 0


needs_namespaces = pytest.mark.skipif(
    not _namespaces_work(), reason="no user + mount namespaces here"
)


def _smoke_submit(runs: Path, *extra: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    command = [str(DEXTER_AUTO), "submit", "--smoke", str(JOBS / "narrative.yaml")]
    return subprocess.Popen(
        [*command, "--runs-dir", str(runs), *extra],
        cwd=runs.parent,
        env=os.environ | (env or {}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def _training_group(runs: Path, timeout: float = 120) -> tuple[Path, int]:
    """The run and AutoTrain's process group, once accelerate's worker has started."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for state_file in runs.glob("narrative/*/state.json"):
            state = json.loads(state_file.read_text())
            log = state_file.parent / "logs" / "training.log"
            if "training_handle" in state and log.exists() and b"step" in log.read_bytes():
                return state_file.parent, int(state["training_handle"]["id"])
        time.sleep(0.2)
    raise AssertionError("training did not start")


def _wait_gone(pgid: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while group_members(pgid):
        assert time.monotonic() < deadline, f"still running: {group_members(pgid)}"
        time.sleep(0.2)


def test_the_runner_environment_carries_no_credentials(tmp_path):
    base = TOKEN_ENV | {
        "GITHUB_TOKEN": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "WANDB_API_KEY": "x",
        "HF_TOKEN_PATH": "/root/.cache/huggingface/token",
        "TOKENIZERS_PARALLELISM": "false",
        "PATH": os.environ["PATH"],
    }
    env = RunnerEnv(tmp_path).environ(base)
    assert not {"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_API_TOKEN", "GITHUB_TOKEN"} & set(env)
    assert not {"AWS_SECRET_ACCESS_KEY", "WANDB_API_KEY"} & set(env)
    assert env["TOKENIZERS_PARALLELISM"] == "false"
    assert not Path(env["HF_TOKEN_PATH"]).exists()
    # huggingface_hub in the runner itself finds no token, not even a login file
    login = tmp_path / "hf-home"
    login.mkdir()
    (login / "token").write_text(FAKE_TOKEN)
    runner = default_runner()
    env = runner.environ(base | {"HF_HOME": str(login)})
    code = "from huggingface_hub import get_token; print(get_token())"
    found = subprocess.run(
        [str(runner.python), "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert found.stdout.strip() == "None"


def test_tokens_in_the_model_folder_are_scrubbed(tmp_path):
    params = {"model": "m", "token": FAKE_TOKEN, "push_to_hub": False}
    (tmp_path / "training_params.json").write_text(json.dumps(params))
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "x.json").write_text(json.dumps({"hub_token": FAKE_TOKEN}))
    tokenizer = json.dumps({"added_tokens": [{"content": "[CLS]"}], "model": {"vocab": {}}})
    (tmp_path / "tokenizer.json").write_text(tokenizer)
    scrub_tokens(tmp_path)
    assert json.loads((tmp_path / "training_params.json").read_text()) == params | {"token": None}
    assert json.loads((tmp_path / "sub" / "x.json").read_text()) == {"hub_token": None}
    assert (tmp_path / "tokenizer.json").read_text() == tokenizer  # untouched


def test_submit_with_a_token_set_writes_it_nowhere(trained):
    """The suite's smoke submit of jobs/narrative.yaml had a token in every variable
    huggingface_hub reads and in its login file (tests/trained_runs.py)."""
    smoke, folder = trained.get("narrative"), trained.folder("narrative")
    login = folder / "hf-home" / "token"
    assert login.read_text() == SHARED_TOKEN
    params = json.loads((smoke.run / "narrative" / "training_params.json").read_text())
    assert params["token"] is None
    leaks = [
        path
        for path in folder.rglob("*")
        if path.is_file() and path != login and SHARED_TOKEN.encode() in path.read_bytes()
    ]
    assert leaks == []
    assert SHARED_TOKEN not in smoke.stdout + smoke.stderr


def test_kill_9_of_submit_leaves_no_training_process(tmp_path, standin):
    runs = tmp_path / "runs"
    process = _smoke_submit(runs, env=standin)
    run, pgid = _training_group(runs)
    assert len(group_members(pgid)) >= 3  # the watchdog, the training and its worker
    os.kill(process.pid, signal.SIGKILL)  # submit alone: nothing of it gets to clean up
    process.communicate()
    _wait_gone(pgid)
    status = json.loads(run_cli("status", run, "--json").stdout)
    assert status["state"] == "training" and status["interrupted"] is True


def test_sighup_cancels_like_sigterm(tmp_path, standin):
    runs = tmp_path / "runs"
    process = _smoke_submit(runs, env=standin)
    run, pgid = _training_group(runs)
    process.send_signal(signal.SIGHUP)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr[-2000:]
    assert "Traceback" not in stderr
    assert not group_members(pgid)
    state = json.loads((run / "state.json").read_text())
    assert (state["state"], state["reason"]) == ("cancelled", "cancelled during train")


def _interrupted_run(runs: Path, **state: object) -> Path:
    """A smoke run of jobs/narrative.yaml that stopped in training after `prepare`."""
    run = runs / "narrative" / "20260101-000000-abcd"
    run.mkdir(parents=True)
    record = {
        "job": "narrative",
        "run_id": run.name,
        "state": "training",
        "completed": ["prepare"],
        "spec_path": str(JOBS / "narrative.yaml"),
        "spec_sha256": load_spec(JOBS / "narrative.yaml").sha256,
        "smoke": True,
        "model_dir": "narrative",
        "pid": os.getpid(),
        "pid_started": start_time(os.getpid()),
    }
    (run / "state.json").write_text(json.dumps(record | state))
    return run


def test_resume_refuses_while_the_old_training_group_lives(tmp_path):
    survivor = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        run = _interrupted_run(
            tmp_path / "runs",
            pid=12345678,
            training_handle={
                "kind": "local",
                "id": str(survivor.pid),
                "details": {"started": start_time(survivor.pid)},
            },
        )
        result = run_cli("submit", "--resume", run, "--runs-dir", tmp_path / "runs")
        assert result.code == 1
        assert result.stderr.strip() == (
            f"error: {run}: AutoTrain from an earlier attempt is still running (process group "
            f"{survivor.pid}); wait a few seconds for it to stop, or end it with "
            f"`kill -- -{survivor.pid}`, then resume again"
        )
        assert json.loads((run / "state.json").read_text())["state"] == "training"
    finally:
        survivor.kill()
        survivor.wait()
    assert not group_alive(survivor.pid, start_time(os.getpid()))


def test_a_recycled_pid_reads_as_interrupted_and_logs_f_returns(tmp_path):
    # pid 1 and this test's pid are alive, but started at another time than recorded
    run = _interrupted_run(tmp_path / "runs", pid=os.getpid(), pid_started=1)
    (run / "logs").mkdir()
    (run / "logs" / "training.log").write_text("step 1\n")
    status = json.loads(run_cli("status", run, "--json").stdout)
    assert status["interrupted"] is True
    followed = run_cli("logs", "-f", run)
    assert (followed.code, followed.stdout) == (0, "step 1\n")
    live = _interrupted_run(tmp_path / "live")  # this very process, with its start time
    assert "interrupted" not in json.loads(run_cli("status", live, "--json").stdout)


def test_runs_lists_corrupt_runs_instead_of_crashing(tmp_path):
    runs = tmp_path / "runs"
    good = _interrupted_run(runs, state="failed", reason="prepare: no data")
    for name, content in (("20260102-000000-aaaa", "{not json"), ("20260103-000000-bbbb", "[1]")):
        (runs / "narrative" / name).mkdir()
        (runs / "narrative" / name / "state.json").write_text(content)
    listed = run_cli("runs", "--runs-dir", runs, "--json")
    assert listed.code == 0, listed.stderr
    states = {Path(r["run"]).name: (r["state"], r["reason"]) for r in json.loads(listed.stdout)}
    assert states == {
        good.name: ("failed", "prepare: no data"),
        "20260102-000000-aaaa": (
            "corrupt",
            "state.json unreadable: Expecting property name enclosed in double quotes: "
            "line 1 column 2 (char 1)",
        ),
        "20260103-000000-bbbb": ("corrupt", "state.json not a run state (no `state` field)"),
    }
    table = run_cli("runs", "--runs-dir", runs)
    assert table.code == 0 and table.stdout.count("corrupt") == 2
    status = run_cli("status", "20260102-000000-aaaa", "--runs-dir", runs)
    assert status.code == 0 and "corrupt" in status.stdout
    found = list_runs(runs)
    shutil.rmtree(good)  # deleted between listing and reading
    assert [Run(r.path).describe().state for r in found] == ["corrupt"] * 3


def _in_namespace(setup: str, *args: str | Path) -> subprocess.CompletedProcess:
    """Run dexter-auto in a user + mount namespace after `setup` (mounts), then `status`."""
    command = " ".join(shlex.quote(str(a)) for a in (DEXTER_AUTO, *args))
    script = f'{setup} && {command}; echo "exit $?" >&2'
    return subprocess.run(
        ["unshare", "-rm", "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=300,
        env=os.environ | {"COLUMNS": "200", "NO_COLOR": "1"},
    )


@needs_namespaces
@pytest.mark.training
def test_a_read_only_runs_folder_is_one_clear_error(tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    ro = f"mount --bind {runs} {runs} && mount -o remount,bind,ro {runs}"
    done = _in_namespace(ro, "submit", "--smoke", JOBS / "narrative.yaml", "--runs-dir", runs)
    assert done.stderr.splitlines() == [
        f"error: cannot write a run under {runs}: Read-only file system: {runs}/narrative",
        "exit 1",
    ]


@needs_namespaces
@pytest.mark.training
def test_a_full_disk_during_training_leaves_the_run_failed(tmp_path):
    runs = tmp_path / "runs"
    runs.mkdir()
    tiny = f"mount -t tmpfs -o size=900k tmpfs {runs}"
    submit = f"{DEXTER_AUTO} submit --smoke {JOBS / 'narrative.yaml'} --runs-dir {runs}"
    done = _in_namespace(f"{tiny} && ({submit}; true)", "status", "narrative", "--runs-dir", runs)
    assert done.stderr.splitlines()[-2:] == ["error: train: No space left on device", "exit 0"]
    assert "Traceback" not in done.stderr
    assert ": failed" in done.stdout and "reason: train: No space left on device" in done.stdout


def test_a_run_directory_deleted_mid_training(tmp_path, standin):
    runs = tmp_path / "runs"
    process = _smoke_submit(runs, env=standin)
    run, pgid = _training_group(runs)
    shutil.rmtree(run)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 1
    assert stderr.splitlines()[-1] == (
        f"error: train: the run directory {run} was deleted while it ran"
    )
    assert not group_members(pgid) and not run.exists()


def test_resume_takes_the_fix_status_asked_for(tmp_path, standin, trained):
    """A missing data folder is refused before a run is made; a data file without the
    text column fails the run's prepare stage; both are fixed through the environment
    variable the spec reads, and resume takes the fix. (The training is the stand-in,
    ending with the suite's narrative model: the labels are the same, and what is tested is
    how resume takes the fix, not the training. The commands run in this process.)"""
    (tmp_path / "job.yaml").write_text(
        "task: text-classification\nbase_model: {path: nowhere}\nlanguages: [pcm]\n"
        "data:\n  sources:\n    - path: ${DEXTER_SAMPLES}/{language}\n      format: tsv\n"
        "  min_examples_per_label: 5\n"
    )
    roots = {"DEXTER_DATA_ROOTS": f"{REPO / 'data'}:{tmp_path}"}
    submit = ("submit", "--smoke", "job.yaml", "--runs-dir", tmp_path / "runs")
    missing = run_in_process(
        *submit, cwd=tmp_path, env=roots | {"DEXTER_SAMPLES": str(tmp_path / "nowhere")}
    )
    assert missing.code == 2 and "not found" in missing.stderr
    assert not (tmp_path / "runs").exists()  # refused before a run was made
    broken = tmp_path / "broken" / "pcm"
    broken.mkdir(parents=True)
    (broken / "train.tsv").write_text("words\tlabel\nNa wa\tneutral\n")
    failed = run_in_process(
        *submit, cwd=tmp_path, env=roots | {"DEXTER_SAMPLES": str(tmp_path / "broken")}
    )
    assert failed.code == 2 and "column `text` not found" in failed.stderr
    status = run_in_process("status", "job", "--runs-dir", tmp_path / "runs", cwd=tmp_path)
    assert "reason: prepare: " in status.stdout and "submit --resume" in status.stdout
    samples = str(REPO / "data" / "samples" / "naijasenti")
    resume = ("submit", "--resume", "job", "--runs-dir", "runs", "--json")
    model = trained.get("narrative").run / "narrative"
    short = {"STANDIN_STEPS": "2", "STANDIN_STEP_S": "0.1", "STANDIN_MODEL": str(model)}
    resumed = run_in_process(
        *resume, cwd=tmp_path, env=roots | standin | short | {"DEXTER_SAMPLES": samples}
    )
    assert resumed.code == 0, resumed.stderr[-2000:]
    state = json.loads(resumed.stdout)
    assert state["state"] == "carded" and state["run"] == str(
        tmp_path / "runs/job" / state["run_id"]
    )
    assert samples in (tmp_path / "runs/job" / state["run_id"] / "spec.yaml").read_text()


def test_resume_refuses_a_changed_spec_once_data_was_prepared(tmp_path):
    run = _interrupted_run(tmp_path / "runs", pid=12345678, spec_sha256="0" * 64)
    result = run_cli("submit", "--resume", run, "--runs-dir", tmp_path / "runs")
    assert result.code == 2
    assert "the spec changed since run 20260101-000000-abcd prepared its data" in result.stderr
