"""The hf-jobs backend through the real huggingface_hub client over real HTTP to the Hub test
server, whose jobs really run: the job's command runs locally with AutoTrain's runner
standing in for the image, downloads its staged inputs, trains and uploads its model. The
submit end to end, the backend's own start-to-collect and a failing job train for real;
cancel, timeout, detaching, re-attaching and Ctrl-C are about the job, not its training, and
train the stand-in (`standin_jobs`). Commands that need no process of their own (the
end-to-end submit, publish, status, logs, resume) run in this process (tests/inprocess.py);
a detached or killed submit is a real one, whose process ends."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from conftest import DEXTER_AUTO, JOBS, HubSetup, fake_token, run_cli, wait_finished
from inprocess import run_in_process

from dexter_autotrain.backends.hf_jobs import HfJobsBackend, job_manifest
from dexter_autotrain.backends.job_cost import Flavor
from dexter_autotrain.backends.staging import stage, staged_files
from dexter_autotrain.errors import HubAccessError, ToolError, UserError
from dexter_autotrain.hub.retry import RetryPolicy
from dexter_autotrain.runs import Run
from dexter_autotrain.testing import Accounts, Fault, HubServer, TokenGrant, patched_client
from dexter_autotrain.testing.hub_control import Stats

WRITE_TOKEN = fake_token("JobsTestWrite")
STAGING = "dexter-test/dexter-runs"
FAST = RetryPolicy(attempts=3, base_wait=0.1, max_wait=0.2)


@pytest.fixture(scope="module")
def hub_setup() -> HubSetup:
    accounts = Accounts(
        {WRITE_TOKEN: TokenGrant("dexter-test", "write")},
        {"dexter-ng": frozenset({"dexter-test"})},
    )
    return HubSetup(accounts, None, WRITE_TOKEN)


@pytest.fixture
def calls(hub: HubServer) -> Stats:
    """The server's counters, from zero."""
    hub.stats.reset()
    return hub.stats


@pytest.fixture(scope="module")
def prepared_run(trained) -> Path:
    """The suite's local smoke run of jobs/narrative.yaml (shared: only copied from): its
    prepared data, rendered config and tiny base model are what the remote runs below stage
    (each copy under a run id of its own)."""
    return trained.get("narrative").run


def copy_run(prepared: Path, tmp_path: Path, run_id: str, **compute: str) -> Run:
    """The prepared run under a new id, its model folder gone, with `compute` settings."""
    target = tmp_path / "runs" / "narrative" / run_id
    shutil.copytree(prepared, target, ignore=shutil.ignore_patterns("narrative"))
    spec = yaml.safe_load((target / "spec.yaml").read_text())
    spec["compute"] |= {"backend": "hf-jobs", **compute}
    (target / "spec.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    run = Run(target.resolve())
    run.update(run_id=run_id)
    return run


def grep_tree(root: Path, needle: str) -> list[str]:
    return [str(p) for p in root.rglob("*") if p.is_file() and needle.encode() in p.read_bytes()]


# -- staging -------------------------------------------------------------------------------


def test_inputs_are_staged_in_one_commit_at_the_runs_path(
    hub, calls, prepared_run, tmp_path
) -> None:
    from huggingface_hub import HfApi, hf_hub_download

    run = copy_run(prepared_run, tmp_path, "20261126-000001-stag")
    manifest = job_manifest(run, Flavor("cpu-basic", "CPU Basic", 0, 0.0))
    files = staged_files(run, manifest)
    api = HfApi()
    staging = stage(api, STAGING, run, files, print, FAST)
    assert calls.calls["commit"] == 1
    prefix = "narrative/20261126-000001-stag"
    assert staging.prefix == prefix and staging.results_path == f"{prefix}/model"
    tree = api.list_repo_tree(
        STAGING, path_in_repo=prefix, recursive=True, revision=staging.commit, repo_type="dataset"
    )
    paths = {entry.path.removeprefix(prefix + "/") for entry in tree if hasattr(entry, "size")}
    assert paths == set(files)
    assert {"autotrain.yml", "training-options.json", "job.json", "data/train.jsonl"} <= paths
    assert {"data/validation.jsonl", "scripts/hf_job.py", "scripts/train.py"} <= paths
    assert "data/test.jsonl" not in paths  # evaluation stays local
    assert any(path.startswith("base-model/") for path in paths)  # the smoke run's tiny model
    config = yaml.safe_load(
        Path(
            hf_hub_download(
                STAGING, f"{prefix}/autotrain.yml", repo_type="dataset", revision=staging.commit
            )
        ).read_text()
    )
    assert config["base_model"] == "base-model" and config["hub"]["push_to_hub"] is False
    assert api.repo_info(STAGING, repo_type="dataset").private is True
    again = stage(api, STAGING, copy_run(prepared_run, tmp_path, "20261126-000002-stag"), files,
                  print, FAST)  # fmt: skip
    assert again.commit != staging.commit  # a later run's inputs: a commit of their own


# -- cost and flavors ----------------------------------------------------------------------


def test_cost_ceiling_is_the_flavor_price_times_the_timeout(hub, prepared_run, tmp_path) -> None:
    run = copy_run(prepared_run, tmp_path, "20261126-000003-cost", hardware="t4-small")
    ceiling = HfJobsBackend().cost_ceiling(run)
    assert ceiling.flavor.gpus == 1 and ceiling.timeout == "2h"
    assert ceiling.max_usd == pytest.approx(0.80, abs=0.01)
    assert ceiling.line() == "at most $0.80: t4-small at $0.40/h for compute.timeout 2h"


def test_an_unknown_flavor_names_the_field_and_the_closest_ones(calls, prepared_run, tmp_path):
    run = copy_run(prepared_run, tmp_path, "20261126-000004-flav", hardware="a100x5")
    with pytest.raises(UserError) as raised:
        HfJobsBackend().cost_ceiling(run)
    message = str(raised.value)
    assert message.startswith("compute.hardware: `a100x5` is not an HF Jobs flavor")
    assert "did you mean `a100x8` or `a100x4`" in message and calls.calls["job_run"] == 0


def test_without_a_token_nothing_is_staged_or_started(calls, prepared_run, tmp_path) -> None:
    run = copy_run(prepared_run, tmp_path, "20261126-000005-tokn")
    no_token = {"HF_TOKEN": "", "HF_TOKEN_PATH": str(tmp_path / "none")}
    with patched_client(no_token), pytest.raises(HubAccessError, match="no Hugging Face token"):
        HfJobsBackend().start(run)
    assert calls.calls["commit"] == 0 and calls.calls["job_run"] == 0


def test_several_gpus_render_autotrains_launch(prepared_run, tmp_path) -> None:
    """The x4 flavor's launch is AutoTrain 0.8.36's own for 4 GPUs (its commands.py, asked in
    the runner), and the job checks that the container has them all."""
    from dexter_autotrain.training.runner_env import default_runner

    run = copy_run(prepared_run, tmp_path, "20261126-000006-gpus", hardware="a100x4")
    manifest = job_manifest(run, Flavor("a100x4", "4x Nvidia A100", 4, 10 / 3600))
    assert manifest["gpus"] == 4
    autotrain = subprocess.run(
        [str(default_runner().python), "-c",
         "from autotrain.commands import get_accelerate_command as g; "
         "print(' '.join(g(4, 1, 'ddp')))"],
        capture_output=True, text=True, check=True,
    ).stdout.strip().splitlines()[-1]  # fmt: skip
    assert manifest["launch"].startswith(autotrain + " scripts/train.py")
    single = job_manifest(run, Flavor("t4-small", "T4", 1, 0.0))
    assert single["gpus"] == 1 and single["launch"].startswith("python scripts/train.py")


def test_a_gpu_flavor_without_its_gpus_fails_with_the_cause(hub, prepared_run, tmp_path) -> None:
    run = copy_run(prepared_run, tmp_path, "20261126-000007-nogp", hardware="a100x4")
    backend = HfJobsBackend(policy=FAST)
    handle = backend.start(run)
    assert wait_finished(backend, handle) == "failed"
    with pytest.raises(ToolError) as raised:
        backend.collect(handle, run)
    assert "a100x4 has 4 GPUs but this container sees 0" in str(raised.value)
    assert "ended ERROR (Job failed with exit code: 1)" in str(raised.value)


def test_lost_replies_and_429s_are_retried_without_a_second_job(hub, calls, prepared_run, tmp_path):
    lines: list[str] = []
    run = copy_run(prepared_run, tmp_path, "20261126-000012-retr")
    hub.faults.add(Fault("job_run", kind="drop"))  # the job starts, its reply is lost
    hub.faults.add(Fault("job_info", status=429, retry_after=0))
    backend = HfJobsBackend(report=lines.append, policy=FAST)
    handle = backend.start(run)
    assert calls.jobs_started == {"dexter-ng": 1} and calls.calls["job_run"] == 1
    assert any(line.startswith("retry 1/2 of start the HF Job") for line in lines), lines
    backend.cancel(handle)  # polls first: the 429 is retried
    assert any("HTTP 429" in line for line in lines) and backend.poll(handle).finished


# -- remote runs ---------------------------------------------------------------------------


def test_a_remote_run_trains_uploads_and_is_collected(hub, prepared_run, tmp_path) -> None:
    from huggingface_hub import HfApi

    lines: list[str] = []
    run = copy_run(prepared_run, tmp_path, "20261126-000008-e2e")
    backend = HfJobsBackend(report=lines.append, policy=FAST)
    handle = backend.start(run)
    assert lines[-1].startswith("at most $0.02: cpu-basic at $0.01/h for compute.timeout 2h")
    # the spec publishes to dexter-ng/...: the organisation's runs stage and run under it
    assert handle.kind == "hf-jobs" and handle.details["staging_repo"] == "dexter-ng/dexter-runs"
    assert handle.details["namespace"] == "dexter-ng"
    assert wait_finished(backend, handle) == "completed"
    log = list(backend.logs(handle, follow=False))
    assert any("dexter runner:" in line for line in log)  # the same training script as local
    assert any(line.startswith("dexter job: results commit ") for line in log)
    backend.collect(handle, run)
    model = run.path / "narrative"
    assert {"config.json", "model.safetensors", "trainer_state.json"} <= {
        p.name for p in model.iterdir()
    }
    assert not (model / "training_params.json").exists()
    remote = run.state().remote_job
    assert remote is not None and remote.job_id == handle.id and remote.flavor == "cpu-basic"
    assert remote.seconds > 0 and remote.cost_usd == pytest.approx(
        remote.seconds * 0.01 / 3600, abs=1e-4
    )
    job = HfApi().inspect_job(job_id=handle.id, namespace="dexter-ng")
    name = f"dexter-narrative-{run.run_id}"
    assert job.labels == {"dexter-job": "narrative", "dexter-run": run.run_id, "name": name}
    assert job.secrets == {"HF_TOKEN": "<encrypted>"} and WRITE_TOKEN not in json.dumps(
        job.environment
    )
    assert WRITE_TOKEN not in json.dumps(handle.to_dict()) + "\n".join(log) + "\n".join(lines)
    assert grep_tree(run.path, WRITE_TOKEN) == []


def test_a_failing_job_shows_its_cause(hub, prepared_run, tmp_path) -> None:
    run = copy_run(prepared_run, tmp_path, "20261126-000009-fail")
    rows = (run.path / "data/train.jsonl").read_text().splitlines()
    broken = [json.dumps({"text": json.loads(row)["text"]}) for row in rows]  # no label column
    (run.path / "data/train.jsonl").write_text("\n".join(broken) + "\n")
    backend = HfJobsBackend(policy=FAST)
    handle = backend.start(run)
    assert wait_finished(backend, handle) == "failed"
    with pytest.raises(ToolError) as raised:
        backend.collect(handle, run)
    message = str(raised.value)
    assert "ended ERROR (Job failed with exit code: 1)" in message
    assert "training wrote no model" in message and "label" in message
    assert not (run.path / "narrative").exists()


def test_cancel_stops_the_job(calls, standin_jobs, prepared_run, tmp_path) -> None:
    run = copy_run(prepared_run, tmp_path, "20261126-000010-canc")
    backend = HfJobsBackend(policy=FAST)
    handle = backend.start(run)
    backend.cancel(handle)
    assert wait_finished(backend, handle, limit=30) == "cancelled"
    assert backend.poll(handle).message == "CANCELED"
    backend.cancel(handle)  # already over: nothing to do
    assert calls.calls["job_cancel"] == 1
    with pytest.raises(ToolError, match="ended CANCELED"):
        backend.collect(handle, run)


def test_a_job_past_its_timeout_fails(hub, standin_jobs, prepared_run, tmp_path) -> None:
    run = copy_run(prepared_run, tmp_path, "20261126-000011-time", timeout="3s")
    backend = HfJobsBackend(policy=FAST)
    handle = backend.start(run)
    assert handle.details["max_cost_usd"] == pytest.approx(0.01 * 3 / 3600, abs=1e-4)
    assert wait_finished(backend, handle, limit=60) == "failed"
    assert "timed out after 3 seconds" in backend.poll(handle).message
    with pytest.raises(ToolError, match="timed out after 3 seconds"):
        backend.collect(handle, run)


@pytest.mark.training
def test_submit_smoke_on_hf_jobs_end_to_end(hub, calls, tmp_path) -> None:
    """`submit --smoke --backend hf-jobs`: staged, trained in the job, followed, collected,
    evaluated and carded here; then published (as a reviewed real run) from the collected
    model. One job, and the token nowhere but in the job's secrets."""
    from huggingface_hub import HfApi

    from dexter_autotrain.cards.write import write_card

    env = hub.client_env(tmp_path / "hf-home", WRITE_TOKEN)
    result = run_in_process(
        "submit", "--smoke", JOBS / "narrative.yaml", "--backend", "hf-jobs", "--runs-dir",
        tmp_path / "runs", "--cards-dir", tmp_path / "cards", "--json", cwd=tmp_path, env=env,
    )  # fmt: skip
    assert result.code == 0, (result.stdout + result.stderr)[-3000:]
    assert "hf-jobs: at most $0.02: cpu-basic at $0.01/h for compute.timeout 2h" in result.stderr
    assert "train: started on hf-jobs: " in result.stderr and "epoch 3.00" in result.stderr
    assert calls.jobs_started == {"dexter-ng": 1}
    run = Path(json.loads(result.stdout)["run"])
    state = json.loads((run / "state.json").read_text())
    assert state["state"] == "carded" and state["remote_job"]["flavor"] == "cpu-basic"
    card = (run / "README.md").read_text()
    assert f"It ran as the HF Job `{state['remote_job']['job_id']}` on `cpu-basic`" in card
    assert "dexter job: results commit" in (run / "logs/training.log").read_text()
    assert WRITE_TOKEN not in result.stdout + result.stderr and grep_tree(run, WRITE_TOKEN) == []
    state |= {"smoke": False}
    (run / "state.json").write_text(json.dumps(state))
    write_card(run, Run(run).spec(), JOBS, None, False)
    published = run_in_process(
        "publish", run, "--force", "tiny remote test model", "--runs-dir", tmp_path / "runs",
        env=env,
    )  # fmt: skip
    assert published.code == 0, published.stderr
    weights = HfApi().hf_hub_download("dexter-ng/narrative-xlmr", "model.safetensors")
    assert Path(weights).read_bytes() == (run / "narrative/model.safetensors").read_bytes()


def training_run(runs: Path) -> Run | None:
    """The run once its job started (its handle recorded)."""
    for state_file in runs.glob("narrative/*/state.json"):
        if json.loads(state_file.read_text()).get("training_handle"):
            return Run(state_file.parent)
    return None


def test_detach_then_status_logs_f_and_resume_collect(hub, calls, standin_jobs, tmp_path) -> None:
    env = hub.client_env(tmp_path / "hf-home", WRITE_TOKEN)
    runs = tmp_path / "runs"
    args = ("submit", "--smoke", "--backend", "hf-jobs", "--detach", JOBS / "narrative.yaml")
    detached = run_cli(*args, "--runs-dir", runs, "--json", cwd=tmp_path, env=env)
    assert detached.code == 0, (detached.stdout + detached.stderr)[-3000:]
    run = Run(Path(json.loads(detached.stdout)["run"]))
    followed = run_in_process("logs", "-f", run.path, cwd=tmp_path, env=env)  # until it ends
    assert followed.code == 0 and "dexter job: results commit" in followed.stdout
    status = json.loads(run_in_process("status", run.path, "--json", cwd=tmp_path, env=env).stdout)
    assert status["training_job"]["phase"] == "completed" and status["detached"] is True
    resumed = run_in_process("submit", "--resume", run.path, "--runs-dir", runs, "--json", env=env)
    assert resumed.code == 0, resumed.stderr[-3000:]
    assert json.loads(resumed.stdout)["state"] == "carded" and calls.jobs_started["dexter-ng"] == 1
    everything = detached.stdout + detached.stderr + followed.stdout + resumed.stderr
    assert WRITE_TOKEN not in everything and grep_tree(run.path, WRITE_TOKEN) == []


def test_a_killed_submit_is_resumed_without_a_second_job(
    hub, calls, standin_jobs, tmp_path
) -> None:
    env = hub.client_env(tmp_path / "hf-home", WRITE_TOKEN)
    runs = tmp_path / "runs"
    submit = subprocess.Popen(
        [str(DEXTER_AUTO), "submit", "--smoke", "--backend", "hf-jobs",
         str(JOBS / "narrative.yaml"), "--runs-dir", str(runs)],
        cwd=tmp_path, env=os.environ | env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while (run := training_run(runs)) is None and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(submit.pid, signal.SIGKILL)  # the laptop closes; the job goes on
    submit.wait()
    assert run is not None and run.describe().detached is True
    resumed = run_in_process("submit", "--resume", run.path, "--runs-dir", runs, "--json", env=env)
    assert resumed.code == 0, resumed.stderr[-3000:]
    assert "re-attached to hf-jobs job" in resumed.stderr
    assert json.loads(resumed.stdout)["state"] == "carded" and calls.jobs_started["dexter-ng"] == 1
    assert (run.path / "narrative/model.safetensors").is_file()


def test_ctrl_c_without_a_terminal_cancels_the_job(hub, standin_jobs, tmp_path) -> None:
    from huggingface_hub import HfApi

    env = hub.client_env(tmp_path / "hf-home", WRITE_TOKEN)
    runs = tmp_path / "runs"
    submit = subprocess.Popen(
        [str(DEXTER_AUTO), "submit", "--smoke", "--backend", "hf-jobs",
         str(JOBS / "narrative.yaml"), "--runs-dir", str(runs)],
        cwd=tmp_path, env=os.environ | env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while (run := training_run(runs)) is None and time.monotonic() < deadline:
        time.sleep(0.2)
    submit.send_signal(signal.SIGINT)
    _, stderr = submit.communicate(timeout=60)
    assert run is not None and submit.returncode == 130, stderr
    handle = run.state().training_handle
    job_id = handle.id if handle else None
    assert HfApi().inspect_job(job_id=job_id, namespace="dexter-ng").status.stage == "CANCELED"
    assert run.state().state == "cancelled" and WRITE_TOKEN not in stderr


def test_an_image_the_operator_did_not_allow_gets_no_token(calls, prepared_run, tmp_path):
    """A run's spec.yaml naming another image (written before the rule, or built in Python:
    no `validate` on the way) is refused where the token would be handed to the job."""
    run = copy_run(prepared_run, tmp_path, "20261126-000012-imag", image="attacker/img:1")
    with pytest.raises(UserError, match=r"compute\.image: attacker/img:1 is not an image the"):
        HfJobsBackend(policy=FAST).start(run)
    assert calls.calls["whoami"] == calls.calls["commit"] == 0 and not calls.jobs_started


def test_a_run_over_the_operator_s_cost_cap_starts_no_job(
    calls, prepared_run, tmp_path, monkeypatch
):
    """Priced with the Hub's live hardware list where the job would start: over the cap, no
    whoami, no commit, no job (a spec built or stored before the cap never saw `validate`)."""
    run = copy_run(prepared_run, tmp_path, "20261126-000014-caps", hardware="h100x8")
    monkeypatch.setenv("DEXTER_MAX_RUN_USD", "10")
    with pytest.raises(UserError, match=r"compute\.timeout: at most \$\d+\.\d\d a run \(h100x8"):
        HfJobsBackend(policy=FAST).start(run)
    assert calls.calls["whoami"] == calls.calls["commit"] == 0 and not calls.jobs_started


def test_a_public_staging_repo_is_refused_before_anything_is_committed(
    calls, prepared_run, tmp_path
):
    from huggingface_hub import HfApi

    HfApi().create_repo("dexter-ng/public-runs", repo_type="dataset", private=False)
    run = copy_run(
        prepared_run, tmp_path, "20261126-000013-publ", staging_repo="dexter-ng/public-runs"
    )
    with pytest.raises(UserError, match=r"compute\.staging_repo: dexter-ng/public-runs is public"):
        HfJobsBackend(policy=FAST).start(run)
    assert calls.calls["commit"] == 0 and not calls.jobs_started
