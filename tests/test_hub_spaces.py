"""The Hub test server's Spaces API: the calls AutoTrain 0.8.36 makes with the runner's
huggingface_hub 0.27 (in a subprocess) and the ones the toolkit makes with huggingface_hub 2.4.

Spaces run for real: a commit with a Dockerfile starts its CMD as a local process.
"""

from __future__ import annotations

import csv
import fcntl
import json
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from conftest import AUTOTRAIN_SPACE_IMAGE, SHARED_DATA, HubSetup

from dexter_autotrain.testing import HubConfig, HubServer
from dexter_autotrain.training.base_models import build_tiny_model
from dexter_autotrain.training.runner_env import default_runner

NS = "dexter-test"
DATA = SHARED_DATA / "sentiment" / "hau"
RUNNER = default_runner()
needs_runner = pytest.mark.skipif(not RUNNER.is_installed(), reason="AutoTrain runner missing")

# A Space app that does what AutoTrain's Space does when training ends: open a discussion,
# then pause itself through the API.
APP = """
import os, sys
from huggingface_hub import HfApi
print("space", os.environ["SPACE_ID"], "port", sys.argv[1], "greeting", os.environ["GREETING"])
print("secret set:", bool(os.environ.get("MY_SECRET")))
if os.environ.get("FAIL"):
    sys.exit("app crashed")
api = HfApi(token=os.environ["HF_TOKEN"])
api.create_discussion(repo_id=os.environ["SPACE_ID"], repo_type="space",
                      title="Your training has finished successfully ✅", description="done")
print("pausing", flush=True)
api.pause_space(repo_id=os.environ["SPACE_ID"])
import time; time.sleep(60)
"""
DOCKERFILE = """FROM dexter/space-app:1
ENV GREETING=hello
CMD pip install -U some-package && python app.py 7860
"""


@pytest.fixture
def api(hub: HubServer):
    from huggingface_hub import HfApi

    return HfApi()


@pytest.fixture(scope="module")
def hub_setup() -> HubSetup:
    """The runner's bin/ stands in for the app image (its huggingface_hub is 0.27, as in
    AutoTrain's own Space); other images get this interpreter's."""
    config = HubConfig(
        job_images={
            "dexter/space-app:1": RUNNER.bin,
            AUTOTRAIN_SPACE_IMAGE: RUNNER.bin,
        },
        default_bin=Path(sys.executable).parent,
        schedule_delay=0.05,
    )
    return HubSetup(config=config)


def run_with_runner_client(hub: HubServer, tmp_path: Path, code: str) -> dict:
    """Run `code` with the runner's python (huggingface_hub 0.27); it prints one JSON line."""
    env = {**RUNNER.environ(), **hub.client_env(tmp_path / "runner-home"), "HF_HUB_OFFLINE": "0"}
    done = subprocess.run(
        [str(RUNNER.python), "-c", textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@needs_runner
def test_autotrain_s_calls_create_a_space_that_runs_opens_a_discussion_and_pauses(
    hub: HubServer, tmp_path: Path
) -> None:
    result = run_with_runner_client(
        hub,
        tmp_path,
        f"""
        import io, json, time
        import huggingface_hub
        from huggingface_hub import HfApi
        api = HfApi()
        space = "{NS}/autotrain-demo"
        api.create_repo(repo_id=space, repo_type="space", space_sdk="docker",
                        space_hardware="cpu-upgrade", private=True)
        api.add_space_secret(repo_id=space, key="MY_SECRET", value="s3cr3t-value")
        api.add_space_secret(repo_id=space, key="HF_TOKEN", value="hf_test_write")
        api.add_space_variable(repo_id=space, key="GREETING", value="overridden")
        api.set_space_sleep_time(repo_id=space, sleep_time=604800)
        before = api.get_space_runtime(space)
        api.upload_file(path_or_fileobj=io.BytesIO({APP!r}.encode()), path_in_repo="app.py",
                        repo_id=space, repo_type="space")
        api.upload_file(path_or_fileobj=io.BytesIO({DOCKERFILE!r}.encode()),
                        path_in_repo="Dockerfile", repo_id=space, repo_type="space")
        stages = []
        deadline = time.time() + 60
        while time.time() < deadline:
            runtime = api.get_space_runtime(space)
            if not stages or stages[-1] != runtime.stage:
                stages.append(runtime.stage)
            if runtime.stage in ("PAUSED", "RUNTIME_ERROR", "BUILD_ERROR"):
                break
            time.sleep(0.2)
        titles = [d.title for d in api.get_repo_discussions(space, repo_type="space")]
        print(json.dumps({{"version": huggingface_hub.__version__, "before": before.stage,
            "requested": before.requested_hardware, "sleep": before.sleep_time,
            "stages": stages, "titles": titles, "error": runtime.raw.get("errorMessage")}}))
        """,
    )
    assert result["version"].startswith("0.27")
    assert result["before"] == "NO_APP_FILE" and result["requested"] == "cpu-upgrade"
    assert result["sleep"] == 604800
    assert result["stages"][-1] == "PAUSED", result
    assert result["titles"] == ["Your training has finished successfully ✅"]
    assert hub.stats.spaces_started[NS] >= 1


@needs_runner
def test_the_space_s_logs_secrets_and_variables_as_the_toolkit_reads_them(
    hub: HubServer, api, tmp_path: Path
) -> None:
    space = f"{NS}/logs-demo"
    api.create_repo(space, repo_type="space", space_sdk="docker", private=True)
    api.add_space_secret(space, "MY_SECRET", "another-secret-value")
    api.add_space_secret(space, "HF_TOKEN", "hf_test_write")
    api.add_space_variable(space, "GREETING", "hi")
    push_app(api, space)
    assert wait_stage(api, space, {"PAUSED", "RUNTIME_ERROR"}) == "PAUSED"
    build = "".join(api.fetch_space_logs(space, build=True))
    assert "FROM dexter/space-app:1" in build and "skipped 'pip install -U some-package'" in build
    run = "".join(api.fetch_space_logs(space))
    assert f"space {space} port " in run and "greeting hi" in run and "secret set: True" in run
    assert "port 7860" not in run  # a free local port stands in for the app port
    secrets = api.get_space_secrets(space)
    assert set(secrets) == {"MY_SECRET", "HF_TOKEN"}
    assert api.get_space_variables(space)["GREETING"].value == "hi"
    listing = httpx2.get(
        f"{hub.url}/api/spaces/{space}/secrets", headers={"authorization": "Bearer hf_test_write"}
    ).text
    assert "another-secret-value" not in listing and "hf_test_write" not in listing


@needs_runner
def test_a_crashing_app_is_a_runtime_error_with_its_log(api) -> None:
    space = f"{NS}/crash-demo"
    api.create_repo(
        space,
        repo_type="space",
        space_sdk="docker",
        private=True,
        space_variables=[{"key": "FAIL", "value": "1"}],
        space_secrets=[{"key": "MY_SECRET", "value": "x"}],
    )
    push_app(api, space)
    assert wait_stage(api, space, {"PAUSED", "RUNTIME_ERROR"}) == "RUNTIME_ERROR"
    assert "Exit code: 1" in api.get_space_runtime(space).raw["errorMessage"]
    assert "app crashed" in "".join(api.fetch_space_logs(space))


def test_a_dockerfile_without_cmd_is_a_build_error(api) -> None:
    space = f"{NS}/broken-build"
    api.create_repo(space, repo_type="space", space_sdk="docker", private=True)
    api.upload_file(
        path_or_fileobj=b"FROM python:3.12\nRUN echo hi\n",
        path_in_repo="Dockerfile",
        repo_id=space,
        repo_type="space",
    )
    assert wait_stage(api, space, {"BUILD_ERROR", "RUNNING"}) == "BUILD_ERROR"
    assert "CMD" in api.get_space_runtime(space).raw["errorMessage"]
    assert "CMD" in "".join(api.fetch_space_logs(space, build=True))


def test_pause_restart_and_delete_stop_the_running_app(hub: HubServer, api) -> None:
    space = f"{NS}/server-demo"
    api.create_repo(space, repo_type="space", space_sdk="docker", private=True)
    api.upload_file(
        path_or_fileobj=b'FROM python:3.12\nCMD ["python", "-c", "import time; print(1); '
        b'time.sleep(600)"]\n',
        path_in_repo="Dockerfile",
        repo_id=space,
        repo_type="space",
    )
    assert wait_stage(api, space, {"RUNNING"}) == "RUNNING"
    assert api.get_space_runtime(space).hardware == "cpu-basic"
    assert api.pause_space(space).stage == "PAUSED"
    assert api.get_space_runtime(space).hardware is None
    assert list(api.fetch_space_logs(space, follow=True)) == ["1"]  # ends when the app stops
    started = hub.stats.spaces_started[NS]
    api.restart_space(space)
    assert wait_stage(api, space, {"RUNNING"}) == "RUNNING"
    assert hub.stats.spaces_started[NS] == started + 1
    api.delete_repo(space, repo_type="space")
    from huggingface_hub.errors import RepositoryNotFoundError

    with pytest.raises(RepositoryNotFoundError):
        api.get_space_runtime(space)


def test_space_calls_need_the_right_token(hub: HubServer, api) -> None:
    space = f"{NS}/auth-demo"
    api.create_repo(space, repo_type="space", space_sdk="docker", private=True)
    url = f"{hub.url}/api/spaces/{space}"
    body = {"key": "K", "value": "v"}
    assert httpx2.post(f"{url}/secrets", json=body).status_code == 401
    read = {"authorization": "Bearer hf_test_read"}
    assert httpx2.post(f"{url}/secrets", json=body, headers=read).status_code == 403
    assert httpx2.post(f"{url}/pause", headers=read).status_code == 403
    assert httpx2.get(f"{url}/runtime", headers=read).status_code == 200
    assert httpx2.get(f"{url}/runtime").status_code == 401


def push_app(api, space: str) -> None:
    """The app and its Dockerfile in one commit: one build."""
    from huggingface_hub import CommitOperationAdd

    files = {"app.py": APP, "Dockerfile": DOCKERFILE}
    operations = [CommitOperationAdd(path, text.encode()) for path, text in files.items()]
    api.create_commit(space, operations, commit_message="app", repo_type="space")


def wait_stage(api, space: str, stages: set[str], timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while True:
        stage = api.get_space_runtime(space).stage
        if stage in stages or time.monotonic() > deadline:
            return stage
        time.sleep(0.2)


AUTOTRAIN_CONFIG = """task: text_classification
base_model: {namespace}/tiny-bert
project_name: space-smoke
log: tensorboard
backend: spaces-cpu-basic
data:
  path: {data}
  train_split: train
  valid_split: null
  column_mapping:
    text_column: text
    target_column: target
params:
  max_seq_length: 32
  epochs: 1
  batch_size: 8
  mixed_precision: none
hub:
  username: {namespace}
  token: hf_test_write
  push_to_hub: true
"""


@pytest.fixture
def heavy_lock() -> Iterator[None]:
    """Trainings never overlap on this machine (the project's /tmp/dexter-heavy.lock)."""
    with open("/tmp/dexter-heavy.lock", "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@needs_runner
@pytest.mark.training
def test_autotrain_s_space_runner_trains_end_to_end_and_pauses_its_space(
    hub: HubServer, api, tmp_path: Path, heavy_lock: None
) -> None:
    """`autotrain --config` with a spaces backend: data pushed as a dataset, the Space created
    with its secrets, built from AutoTrain's Dockerfile, `autotrain api` run in the runner
    (standing in for the latest AutoTrain the real Space installs), the model pushed, the
    "finished successfully" discussion opened and the Space paused by AutoTrain itself."""
    rows = _balanced_rows(12)
    data = tmp_path / "data"
    data.mkdir()
    with (data / "train.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "target"])
        writer.writerows((r["text"], r["label"]) for r in rows)
    jsonl = tmp_path / "train.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in rows))
    model = build_tiny_model(RUNNER, "text-classification", jsonl, tmp_path / "tiny")
    api.create_repo(f"{NS}/tiny-bert", private=True)
    api.upload_folder(folder_path=model, repo_id=f"{NS}/tiny-bert")
    config = tmp_path / "autotrain.yml"
    config.write_text(AUTOTRAIN_CONFIG.format(namespace=NS, data=data))
    env = {**RUNNER.environ(), **hub.client_env(tmp_path / "runner-home"), "HF_HUB_OFFLINE": "0"}
    started = time.monotonic()
    done = subprocess.run(
        [str(RUNNER.bin / "autotrain"), "--config", str(config)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    space = f"{NS}/autotrain-space-smoke"
    stage = wait_stage(api, space, {"PAUSED", "RUNTIME_ERROR", "BUILD_ERROR"}, timeout=240)
    run_log = "\n".join(api.fetch_space_logs(space))
    assert stage == "PAUSED", run_log[-3000:]
    titles = [d.title for d in api.get_repo_discussions(space, repo_type="space")]
    assert titles == ["Your training has finished successfully ✅"]
    files = set(api.list_repo_files(f"{NS}/space-smoke"))
    assert {"model.safetensors", "config.json", "training_params.json"} <= files
    assert api.dataset_info(f"{NS}/autotrain-data-space-smoke").private
    assert set(api.get_space_secrets(space)) >= {"HF_TOKEN", "PARAMS", "TASK_ID", "DATA_PATH"}
    print(f"AutoTrain Space run: {time.monotonic() - started:.1f} s")


def _balanced_rows(per_label: int) -> list[dict[str, str]]:
    with open(DATA / "train.tsv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    return [
        {"text": r["text"], "label": label}
        for label in ("positive", "negative")
        for r in [r for r in rows if r["label"] == label][:per_label]
    ]
