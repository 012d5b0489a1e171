"""The Hub test server's Jobs API, driven by huggingface_hub's own Jobs client over real HTTP.

The jobs run for real: the server starts each command as a local process.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx2
import pytest
from conftest import HubSetup, fake_token

from dexter_autotrain.testing import Fault, HubConfig, HubServer

NS = "dexter-test"
IMAGE = "python:3.12"


@pytest.fixture(scope="module")
def hub_setup(tmp_path_factory: pytest.TempPathFactory) -> HubSetup:
    """This interpreter's bin/ stands in for every image (fast, and it has huggingface_hub)."""
    tools = tmp_path_factory.mktemp("tools")
    script = tools / "hello-tool"
    script.write_text("#!/bin/sh\necho tool says $1\n")
    script.chmod(0o755)
    config = HubConfig(
        job_images={"dexter/tools:1": tools},
        default_bin=Path(sys.executable).parent,
        schedule_delay=0.05,
    )
    return HubSetup(config=config)


@pytest.fixture
def api(hub: HubServer):
    from huggingface_hub import HfApi

    return HfApi()


def python_job(api, code: str, **kwargs):
    return api.run_job(image=IMAGE, command=["python", "-c", code], **kwargs)


def wait(api, job_id: str, timeout: float = 120):  # generous: a loaded CI machine
    return api.wait_for_job(job_id, timeout=timeout, poll_interval=0.1)


def raw_get(hub: HubServer, path: str, token: str | None = "hf_test_write") -> httpx2.Response:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return httpx2.get(f"{hub.url}{path}", headers=headers, timeout=30)


def test_a_job_runs_with_its_env_and_secrets_and_talks_back_to_the_server(
    hub: HubServer, api
) -> None:
    from huggingface_hub import JobStage

    secret = fake_token("job-secret")
    repo = api.create_repo(f"{NS}/job-input", repo_type="dataset", private=True).repo_id
    api.upload_file(
        path_or_fileobj=b"a,b\n1,2\n", path_in_repo="x.csv", repo_id=repo, repo_type="dataset"
    )
    code = (
        "import os\n"
        "from huggingface_hub import hf_hub_download\n"
        "print('hello', os.environ['GREETING'])\n"
        "import hashlib\n"
        "digest = hashlib.sha256(os.environ['MY_SECRET'].encode()).hexdigest()\n"
        f"assert digest == {hashlib.sha256(secret.encode()).hexdigest()!r}\n"
        "print('secret ok', os.environ['HF_HUB_DISABLE_XET'], os.getcwd() == os.environ['HOME'])\n"
        f"path = hf_hub_download({repo!r}, 'x.csv', repo_type='dataset')\n"
        "print('downloaded', open(path).read().splitlines()[1])\n"
    )
    before = hub.stats.jobs_started[NS]
    job = python_job(
        api,
        code,
        env={"GREETING": "world"},
        secrets={"MY_SECRET": secret, "HF_TOKEN": "hf_test_read"},
        labels={"dexter-run": "r1"},
    )
    assert job.status.stage == JobStage.SCHEDULING and job.owner.name == NS
    done = wait(api, job.id)
    assert done.status.stage == JobStage.COMPLETED, list(api.fetch_job_logs(job_id=job.id))
    assert done.started_at and done.finished_at and done.durations.total_secs is not None
    assert done.environment == {"GREETING": "world"}
    assert set(done.secrets) == {"MY_SECRET", "HF_TOKEN"} and secret not in json.dumps(done.secrets)
    assert done.labels["dexter-run"] == "r1" and done.flavor == "cpu-basic"
    assert list(api.fetch_job_logs(job_id=job.id)) == [
        "hello world",
        "secret ok 1 True",
        "downloaded 1,2",
    ]
    assert hub.stats.jobs_started[NS] == before + 1
    replies = raw_get(hub, f"/api/jobs/{NS}/{job.id}").text + raw_get(hub, f"/api/jobs/{NS}").text
    assert secret not in replies and "hf_test_read" not in replies


def test_logs_follow_to_the_end_and_a_reconnect_replays_the_whole_history(
    hub: HubServer, api
) -> None:
    code = "import time\nfor i in range(6):\n    print('step', i)\n    time.sleep(0.3)\n"
    job = python_job(api, code)
    started = time.monotonic()
    followed = list(api.fetch_job_logs(job_id=job.id, follow=True))
    assert followed == [f"step {i}" for i in range(6)]
    assert api.inspect_job(job_id=job.id).status.stage == "COMPLETED"
    assert time.monotonic() - started < 15
    first = _events(raw_get(hub, f"/api/jobs/{NS}/{job.id}/logs"))
    again = _events(raw_get(hub, f"/api/jobs/{NS}/{job.id}/logs"))
    assert first == again and first[0]["data"].startswith("===== Job started")
    stamps = [datetime.fromisoformat(e["timestamp"]) for e in first]
    assert stamps == sorted(stamps) and all(s.tzinfo == UTC for s in stamps)
    assert abs((datetime.now(UTC) - stamps[-1]).total_seconds()) < 60
    tail = _events(raw_get(hub, f"/api/jobs/{NS}/{job.id}/logs?tail=2"))
    assert [e["data"] for e in tail] == ["step 4", "step 5"]


def test_a_follower_that_drops_mid_job_gets_everything_again(hub: HubServer, api) -> None:
    job = python_job(
        api, "import time\nfor i in range(8):\n    print(i, flush=True)\n    time.sleep(0.25)\n"
    )
    headers = {"authorization": "Bearer hf_test_write"}
    url = f"{hub.url}/api/jobs/{NS}/{job.id}/logs"
    with httpx2.stream("GET", url, headers=headers, timeout=30) as response:
        seen = []
        for line in response.iter_lines():
            if line.startswith("data: {"):
                seen.append(json.loads(line[6:])["data"])
            if len(seen) == 3:
                break
    assert seen == ["===== Job started" + seen[0][len("===== Job started") :], "0", "1"]
    assert api.inspect_job(job_id=job.id).status.stage == "RUNNING"
    assert list(api.fetch_job_logs(job_id=job.id, follow=True)) == [str(i) for i in range(8)]


def test_a_log_stream_cut_mid_job_is_resumed_without_repeats(hub: HubServer, api) -> None:
    code = "import time\nfor i in range(6):\n    print(i, flush=True)\n    time.sleep(0.3)\n"
    job = python_job(api, code)
    api.wait_for_job(job.id, stages=["RUNNING"], timeout=30, poll_interval=0.05)
    hub.faults.add(Fault("job_logs", kind="drop", times=2))
    assert list(api.fetch_job_logs(job_id=job.id, follow=True)) == [str(i) for i in range(6)]
    assert hub.stats.calls["job_logs"] >= 3


def _events(response: httpx2.Response) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream"
    return [
        json.loads(line[6:]) for line in response.text.splitlines() if line.startswith("data: {")
    ]


def test_a_failing_job_ends_in_error_with_its_exit_code_and_stderr(api) -> None:
    job = python_job(api, "import sys\nprint('about to fail')\nsys.exit('boom: bad config')")
    done = wait(api, job.id)
    assert done.status.stage == "ERROR"
    assert done.status.message == "Job failed with exit code: 1"
    assert list(api.fetch_job_logs(job_id=job.id)) == ["about to fail", "boom: bad config"]


def test_a_command_that_is_not_in_the_image_is_an_error(api) -> None:
    done = wait(api, api.run_job(image=IMAGE, command=["no-such-tool", "x"]).id)
    assert done.status.stage == "ERROR" and "no-such-tool" in done.status.message


def test_the_image_mapping_picks_the_bin_directory(api) -> None:
    done = wait(api, api.run_job(image="dexter/tools:1", command=["hello-tool", "hi"]).id)
    assert done.status.stage == "COMPLETED"
    assert list(api.fetch_job_logs(job_id=done.id)) == ["tool says hi"]


def test_a_job_past_its_timeout_is_stopped_with_an_error(api) -> None:
    started = time.monotonic()
    job = python_job(api, "import time\nprint('waiting')\ntime.sleep(60)", timeout=1)
    done = wait(api, job.id)
    assert done.status.stage == "ERROR" and "timed out after 1 seconds" in done.status.message
    assert time.monotonic() - started < 10
    assert list(api.fetch_job_logs(job_id=job.id, follow=True)) == ["waiting"]


def test_cancel_kills_the_whole_process_group(api, tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    code = (
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "print('running', flush=True)\n"
        "time.sleep(120)\n"
    )
    job = python_job(api, code)
    api.wait_for_job(job.id, stages=["RUNNING"], timeout=30, poll_interval=0.1)
    deadline = time.monotonic() + 30
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    api.cancel_job(job_id=job.id)
    assert api.inspect_job(job_id=job.id).status.stage == "CANCELED"
    assert list(api.fetch_job_logs(job_id=job.id, follow=True)) == ["running"]
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(child)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(")")[-1].split()[0] == "Z")


def test_list_filters_by_label_and_stage_and_org_jobs_belong_to_the_org(api) -> None:
    first = python_job(api, "print(1)", labels={"dexter-job": "narrative", "dexter-run": "a"})
    second = python_job(api, "print(2)", labels={"dexter-job": "narrative", "dexter-run": "b"})
    org_job = python_job(api, "print(3)", namespace="dexter-ng", labels={"dexter-job": "narrative"})
    wait(api, first.id), wait(api, second.id)
    assert org_job.owner.type == "org" and org_job.owner.name == "dexter-ng"
    listed = [j.id for j in api.list_jobs(labels={"dexter-job": "narrative"})]
    assert listed[:2] == [second.id, first.id] and org_job.id not in listed
    assert [j.id for j in api.list_jobs(labels={"dexter-run": "a"})] == [first.id]
    assert all(j.status.stage == "COMPLETED" for j in api.list_jobs(status="COMPLETED"))
    assert [j.id for j in api.list_jobs(namespace="dexter-ng")] == [org_job.id]


def test_hardware_lists_flavors_with_prices(api) -> None:
    flavors = {hw.name: hw for hw in api.list_jobs_hardware()}
    assert {
        "cpu-basic",
        "cpu-upgrade",
        "t4-small",
        "t4-medium",
        "a10g-small",
        "a10g-large",
        "a100-large",
        "a100x4",
    } <= set(flavors)
    assert flavors["a100x4"].accelerator.quantity == "4"
    assert flavors["a10g-large"].unit_cost_usd == pytest.approx(1.5 / 60, rel=1e-3)
    assert flavors["cpu-basic"].accelerator is None and flavors["cpu-basic"].unit_label == "minute"


def test_unknown_flavor_is_refused(api) -> None:
    from huggingface_hub.errors import HfHubHTTPError

    with pytest.raises(HfHubHTTPError) as err:
        python_job(api, "print(1)", flavor="quantum-xl")
    assert err.value.response.status_code == 400


@pytest.mark.parametrize(
    ("token", "namespace", "status"),
    [(None, NS, 401), ("hf_test_read", NS, 403), ("hf_test_write", "someone-else", 403)],
)
def test_run_refuses_without_write_access_to_the_namespace(
    hub: HubServer, token: str | None, namespace: str, status: int
) -> None:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    body = {"command": ["python", "-c", "print(1)"], "dockerImage": IMAGE, "flavor": "cpu-basic"}
    before = hub.stats.jobs_started[namespace]
    reply = httpx2.post(f"{hub.url}/api/jobs/{namespace}", json=body, headers=headers)
    assert reply.status_code == status
    assert hub.stats.jobs_started[namespace] == before


def test_reading_and_cancelling_need_the_right_token(hub: HubServer, api) -> None:
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    job = python_job(api, "print('x')")
    wait(api, job.id)
    assert raw_get(hub, f"/api/jobs/{NS}/{job.id}", token=None).status_code == 401
    assert raw_get(hub, f"/api/jobs/{NS}/{job.id}", token="hf_test_read").status_code == 200
    with pytest.raises(HfHubHTTPError) as err:
        HfApi(token="hf_test_read").cancel_job(job_id=job.id, namespace=NS)
    assert err.value.response.status_code == 403
    assert raw_get(hub, f"/api/jobs/someone-else/{job.id}").status_code == 403
    assert raw_get(hub, f"/api/jobs/{NS}/{'0' * 24}").status_code == 404
    stats = httpx2.get(f"{hub.url}/_test/stats").json()
    assert stats["jobs_started"][NS] >= 1
