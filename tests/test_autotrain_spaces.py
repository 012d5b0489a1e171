"""The autotrain-spaces backend against the Hub test server, whose Spaces run for real:
AutoTrain's own `autotrain --config` (in the runner) pushes the data and creates the Space,
the Space runs `autotrain api` (the runner standing in for the latest AutoTrain), trains,
pushes the model, opens its discussion and pauses itself. Detach/logs -f/resume, kill-and-resume
and Ctrl-C are about the Space, not its training: their Spaces run the stand-in app
(`standin_image`, tests/standin_space.py), which pushes the suite's narrative model as
AutoTrain's app pushes its own; the end-to-end submit, a failing Space, cancel and timeout
train for real. Commands that need no process of their own (the end-to-end submit, publish,
status, logs, resume) run in this process (tests/inprocess.py); a detached or killed submit
is a real one."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from conftest import (
    AUTOTRAIN_SPACE_IMAGE,
    DEXTER_AUTO,
    JOBS,
    HubSetup,
    fake_token,
    run_cli,
    wait_finished,
)
from inprocess import run_in_process

from dexter_autotrain.backends.attach import follow_training
from dexter_autotrain.backends.autotrain_spaces import AutoTrainSpacesBackend
from dexter_autotrain.backends.base import Handle
from dexter_autotrain.errors import ToolError, UserError
from dexter_autotrain.hub.retry import RetryPolicy
from dexter_autotrain.runs import Run
from dexter_autotrain.testing import Accounts, HubServer, TokenGrant
from dexter_autotrain.training.runner_env import default_runner

WRITE_TOKEN = fake_token("SpacesTestWrite")
NS = "dexter-ng"
FAST = RetryPolicy(attempts=3, base_wait=0.1, max_wait=0.2)
pytestmark = [
    pytest.mark.skipif(
        not default_runner().is_installed(), reason="the AutoTrain runner is not installed"
    ),
    pytest.mark.training,  # nearly every test reads the module's Space training
]


@pytest.fixture(scope="module")
def hub_setup() -> HubSetup:
    accounts = Accounts(
        {WRITE_TOKEN: TokenGrant("dexter-test", "write")}, {NS: frozenset({"dexter-test"})}
    )
    return HubSetup(accounts, None, WRITE_TOKEN)


@pytest.fixture(scope="module")
def smoke(hub: HubServer, tmp_path_factory: pytest.TempPathFactory) -> tuple[object, Path]:
    """`submit --smoke --backend autotrain-spaces`, once: the end-to-end run the other tests
    copy their prepared inputs from."""
    root = tmp_path_factory.mktemp("spaces")
    result = run_in_process(
        "submit", "--smoke", JOBS / "narrative.yaml", "--backend", "autotrain-spaces",
        "--runs-dir", root / "runs", "--cards-dir", root / "cards", "--json",
        cwd=root, env=hub.client_env(root / "hf-home", WRITE_TOKEN),
    )  # fmt: skip
    assert result.code == 0, (result.stdout + result.stderr)[-4000:]
    return result, Path(json.loads(result.stdout)["run"])


def grep_tree(root: Path, needle: str) -> list[str]:
    return [str(p) for p in root.rglob("*") if p.is_file() and needle.encode() in p.read_bytes()]


def copy_run(prepared: Path, tmp_path: Path, run_id: str, **compute: str) -> Run:
    """The smoke run's inputs under a new id, its model and handle gone, with `compute`."""
    target = tmp_path / "runs" / "narrative" / run_id
    shutil.copytree(prepared, target, ignore=shutil.ignore_patterns("narrative", "logs"))
    spec = yaml.safe_load((target / "spec.yaml").read_text())
    spec["compute"] |= compute
    (target / "spec.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    run = Run(target.resolve())
    run.update(
        run_id=run_id,
        base_model=str(target / "base-model"),
        training_handle=None,
        autotrain_space=None,
    )
    return run


def test_submit_smoke_on_autotrain_spaces_end_to_end(hub: HubServer, smoke) -> None:
    """Trained in the Space, followed, collected at a pinned commit, evaluated and carded
    here; the Space and the data repo deleted (compute.cleanup's default), the model repo
    kept and named in the run's record, with the AutoTrain that trained."""
    from huggingface_hub import HfApi

    result, run = smoke
    assert "train: started on autotrain-spaces: dexter-ng/autotrain-narrative-" in result.stderr
    assert "epoch" in result.stderr
    assert hub.stats.spaces_started[NS] >= 1
    state = json.loads((run / "state.json").read_text())
    assert state["state"] == "carded"
    record = state["autotrain_space"]
    assert record["space"] == state["training_handle"]["id"]
    assert record["cleanup"] == {"space": "deleted", "data_repo": "deleted"}
    assert "latest autotrain-advanced" in record["autotrain"]
    api = HfApi()
    assert not api.repo_exists(record["space"], repo_type="space")
    assert not api.repo_exists(record["data_repo"], repo_type="dataset")
    assert not api.repo_exists(record["base_model_repo"])  # the smoke run's tiny model
    assert api.model_info(record["model_repo"]).private
    card = (run / "README.md").read_text()
    assert f"It ran in the AutoTrain Space `{record['space']}`" in card
    assert "installs the latest autotrain-advanced, not the runner's 0.8.36" in card
    assert "best validation loss (AutoTrain's own trainer chooses on Spaces)" in card
    assert api.model_info(record["model_repo"]).sha == record["model_commit"]
    assert record["trainer_state"].startswith("checkpoint-")  # what AutoTrain's Space pushes
    model = run / "narrative"
    assert {"config.json", "model.safetensors", "trainer_state.json"} <= {
        p.name for p in model.iterdir()
    }
    log = (run / "logs/training.log").read_text()
    assert "{'loss'" in log or "'eval_loss'" in log
    assert (run / "README.md").is_file() and (run / "evaluation.json").is_file()
    assert WRITE_TOKEN not in result.stdout + result.stderr and grep_tree(run, WRITE_TOKEN) == []


def test_a_failing_space_shows_its_cause_and_keeps_the_token_a_secret(hub, smoke, tmp_path):
    """A base model without weights: the Space's training fails, AutoTrain opens its
    "failed" discussion and pauses; the poll says so with the Space's last log lines. With
    `cleanup: keep` the Space stays, and the token is among its secrets, never a variable."""
    from huggingface_hub import HfApi

    run = copy_run(smoke[1], tmp_path, "20261126-000001-fail", cleanup="keep")
    (run.path / "base-model/model.safetensors").unlink()
    backend = AutoTrainSpacesBackend(policy=FAST)
    handle = backend.start(run)
    assert wait_finished(backend, handle) == "failed"
    message = backend.poll(handle).message
    assert "AutoTrain reported that training failed" in message
    assert "model.safetensors" in message or "pytorch_model.bin" in message
    with pytest.raises(ToolError, match="did not finish successfully"):
        backend.collect(handle, run)
    api = HfApi()
    assert api.get_space_runtime(handle.id).stage == "PAUSED"
    assert "HF_TOKEN" in api.get_space_secrets(handle.id)
    variables = api.get_space_variables(handle.id)
    assert WRITE_TOKEN not in json.dumps({k: v.value for k, v in variables.items()})
    logs = "\n".join(backend.logs(handle, follow=False))
    assert WRITE_TOKEN not in logs + message + json.dumps(handle.to_dict())
    assert grep_tree(run.path, WRITE_TOKEN) == []


def test_cancel_pauses_the_space_and_deletes_its_data(hub, smoke, tmp_path) -> None:
    from huggingface_hub import HfApi

    run = copy_run(smoke[1], tmp_path, "20261126-000002-canc", cleanup="pause")
    backend = AutoTrainSpacesBackend(policy=FAST)
    handle = backend.start(run)
    backend.cancel(handle)
    assert wait_finished(backend, handle, limit=30) == "cancelled"
    api = HfApi()
    assert api.get_space_runtime(handle.id).stage == "PAUSED"
    space = run.state().autotrain_space
    assert space is not None and not api.repo_exists(space.data_repo, repo_type="dataset")
    assert not api.repo_exists(space.model_repo)


def test_hardware_that_is_no_space_hardware_starts_nothing(hub, smoke, tmp_path) -> None:
    run = copy_run(smoke[1], tmp_path, "20261126-000003-hard", hardware="a100x4")
    started = dict(hub.stats.spaces_started)
    with pytest.raises(UserError, match="`a100x4` is not autotrain-spaces hardware"):
        AutoTrainSpacesBackend(policy=FAST).start(run)
    assert hub.stats.spaces_started == started and run.state().autotrain_space is None


def test_detach_then_logs_f_status_and_resume_without_a_second_space(hub, standin_image, tmp_path):
    """`--detach` returns once the Space is started; `logs -f` follows it to its end, `status`
    asks the Space, and `submit --resume` re-attaches and collects: one Space for the run."""
    standin_image(AUTOTRAIN_SPACE_IMAGE)
    env = hub.client_env(tmp_path / "hf-home", WRITE_TOKEN)
    runs = tmp_path / "runs"
    started = hub.stats.spaces_started[NS]
    args = ("submit", "--smoke", "--backend", "autotrain-spaces", "--detach")
    detached = run_cli(*args, JOBS / "narrative.yaml", "--runs-dir", runs, "--json", env=env)
    assert detached.code == 0, (detached.stdout + detached.stderr)[-3000:]
    run = Run(Path(json.loads(detached.stdout)["run"]))
    followed = run_in_process("logs", "-f", run.path, env=env)  # until the Space stops
    assert followed.code == 0 and "Pausing space..." in followed.stdout
    status = json.loads(run_in_process("status", run.path, "--json", env=env).stdout)
    assert status["training_job"]["phase"] == "completed" and status["detached"] is True
    resumed = run_in_process("submit", "--resume", run.path, "--runs-dir", runs, "--json", env=env)
    assert resumed.code == 0, resumed.stderr[-3000:]
    assert "re-attached to autotrain-spaces job" in resumed.stderr
    assert json.loads(resumed.stdout)["state"] == "carded"
    assert hub.stats.spaces_started[NS] == started + 1
    everything = detached.stdout + detached.stderr + followed.stdout + resumed.stderr
    assert WRITE_TOKEN not in everything and grep_tree(run.path, WRITE_TOKEN) == []


def test_the_collected_model_is_published_and_reads_back_the_same(hub, smoke, tmp_path) -> None:
    """The smoke run's collected model, as a reviewed real run (smoke: false, carded again),
    published and downloaded back: the same weights, byte for byte."""
    from huggingface_hub import snapshot_download

    from dexter_autotrain.cards.write import write_card

    run = tmp_path / "runs" / "narrative" / smoke[1].name
    shutil.copytree(smoke[1], run)
    state = json.loads((run / "state.json").read_text()) | {"smoke": False}
    (run / "state.json").write_text(json.dumps(state))
    write_card(run, Run(run).spec(), JOBS, None, False)
    env = hub.client_env(tmp_path / "hf-home", WRITE_TOKEN)
    args = ("publish", run, "--force", "tiny Space-trained test model")
    published = run_in_process(*args, "--runs-dir", tmp_path / "runs", env=env)
    assert published.code == 0, published.stderr[-3000:]
    local = Path(snapshot_download("dexter-ng/narrative-xlmr", local_dir=tmp_path / "back"))
    weights = [folder / "model.safetensors" for folder in (local, run / "narrative")]
    assert sha256(weights[0]) == sha256(weights[1])
    assert sha256(local / "config.json") == sha256(run / "narrative/config.json")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def training_run(runs: Path) -> Run | None:
    """The run once its Space started (its handle recorded)."""
    for state_file in runs.glob("narrative/*/state.json"):
        if json.loads(state_file.read_text()).get("training_handle"):
            return Run(state_file.parent)
    return None


def submit_until_training(hub: HubServer, tmp_path: Path, **popen) -> tuple[subprocess.Popen, Run]:
    """`submit --smoke --backend autotrain-spaces` in a process of its own, once its Space
    started."""
    env = os.environ | hub.client_env(tmp_path / "hf-home", WRITE_TOKEN) | {"NO_COLOR": "1"}
    submit = subprocess.Popen(
        [str(DEXTER_AUTO), "submit", "--smoke", "--backend", "autotrain-spaces",
         str(JOBS / "narrative.yaml"), "--runs-dir", str(tmp_path / "runs")],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL, **popen,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while (run := training_run(tmp_path / "runs")) is None and time.monotonic() < deadline:
        assert submit.poll() is None, "submit ended before its Space started"
        time.sleep(0.2)
    assert run is not None, "no Space started within 120 s"
    return submit, run


def test_ctrl_c_without_a_terminal_cancels_the_space(hub, standin_image, tmp_path) -> None:
    """SIGINT to a `submit` without a terminal (stdin not a tty): nothing to ask, the Space
    is stopped and cleaned up, the run `cancelled`, exit 130."""
    from huggingface_hub import HfApi

    standin_image(AUTOTRAIN_SPACE_IMAGE, steps=600)  # runs until stopped
    submit, run = submit_until_training(hub, tmp_path, stderr=subprocess.PIPE, text=True)
    submit.send_signal(signal.SIGINT)
    _, stderr = submit.communicate(timeout=60)
    assert submit.returncode == 130, stderr[-3000:]
    assert "stopped the autotrain-spaces training" in stderr and WRITE_TOKEN not in stderr
    state = run.state()
    assert (state.state, state.reason) == ("cancelled", "cancelled during train")
    api = HfApi()  # compute.cleanup's default: the Space and the data deleted
    assert state.training_handle is not None and state.autotrain_space is not None
    assert not api.repo_exists(state.training_handle.id, repo_type="space")
    assert not api.repo_exists(state.autotrain_space.data_repo, repo_type="dataset")


def test_a_space_past_compute_timeout_fails_and_is_stopped(hub, smoke, tmp_path) -> None:
    """`compute.timeout` is watched by whoever follows the Space (a Space has no timeout of
    its own): past it the run fails with "timed out" and the Space is paused."""
    from huggingface_hub import HfApi

    run = copy_run(smoke[1], tmp_path, "20261126-000004-time", timeout="3s", cleanup="pause")
    with pytest.raises(ToolError, match=r"training timed out after 3s \(compute.timeout\)"):
        follow_training(AutoTrainSpacesBackend(policy=FAST), run, lambda progress: None)
    recorded = run.state().training_handle
    assert recorded is not None
    handle = Handle.from_record(recorded)
    assert HfApi().get_space_runtime(handle.id).stage == "PAUSED"
    assert AutoTrainSpacesBackend(policy=FAST).poll(handle).phase == "cancelled"


def test_a_killed_submit_is_resumed_without_a_second_space(hub, standin_image, tmp_path) -> None:
    """`submit` killed (-9) once its Space started: `submit --resume` re-attaches to that
    Space, collects, evaluates and cards; one Space for the run."""
    standin_image(AUTOTRAIN_SPACE_IMAGE)
    started = hub.stats.spaces_started[NS]
    submit, run = submit_until_training(
        hub, tmp_path, stderr=subprocess.DEVNULL, start_new_session=True
    )
    os.killpg(submit.pid, signal.SIGKILL)  # the laptop closes; the Space goes on
    submit.wait()
    assert run.describe().detached is True
    env = hub.client_env(tmp_path / "hf-home", WRITE_TOKEN)
    runs = tmp_path / "runs"
    resumed = run_in_process("submit", "--resume", run.path, "--runs-dir", runs, "--json", env=env)
    assert resumed.code == 0, resumed.stderr[-3000:]
    assert "re-attached to autotrain-spaces job" in resumed.stderr
    assert json.loads(resumed.stdout)["state"] == "carded"
    assert hub.stats.spaces_started[NS] == started + 1
    assert (run.path / "narrative/model.safetensors").is_file()
    assert (run.path / "evaluation.json").is_file() and (run.path / "README.md").is_file()
