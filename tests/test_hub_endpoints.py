"""The Inference Endpoints API of the Hub test server through the real huggingface_hub client:
create, get, list, update, pause, resume, scale-to-zero, delete and `wait()`, each endpoint
backed by a real process (here `endpoint_image.py`, a stand-in image; tests/test_deploy.py
runs the real `dexter-auto serve`)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from conftest import HubSetup, fake_token

from dexter_autotrain.testing import Accounts, HubConfig, HubServer, TokenGrant, patched_client

WRITE_TOKEN = fake_token("EndpointsWrite")
READ_TOKEN = fake_token("EndpointsRead")
OUTSIDER_TOKEN = fake_token("EndpointsOutsider")
IMAGE = [sys.executable, str(Path(__file__).with_name("endpoint_image.py"))]
HARDWARE = {
    "accelerator": "cpu",
    "instance_size": "x2",
    "instance_type": "intel-icl",
    "region": "us-east-1",
    "vendor": "aws",
}


@pytest.fixture(scope="module")
def hub_setup() -> HubSetup:
    accounts = Accounts(
        {
            WRITE_TOKEN: TokenGrant("dexter-test", "write"),
            READ_TOKEN: TokenGrant("dexter-test", "read"),
            OUTSIDER_TOKEN: TokenGrant("outsider", "write"),
        },
        {"dexter-ng": frozenset({"dexter-test"})},
    )
    config = HubConfig(schedule_delay=0.05, endpoint_command=IMAGE, endpoint_start_timeout=20)
    return HubSetup(accounts, config, WRITE_TOKEN)


def model_repo(name: str, *labels: str) -> list[str]:
    """A model repo with one commit per label (`label.txt`); their commit ids."""
    from huggingface_hub import HfApi

    api = HfApi()
    api.create_repo(f"dexter-ng/{name}", private=True)
    return [
        api.upload_file(
            path_or_fileobj=label.encode(), path_in_repo="label.txt", repo_id=f"dexter-ng/{name}"
        ).oid
        for label in labels
    ]


def create(name: str, repo: str, revision: str, **extra):
    from huggingface_hub import HfApi

    return HfApi().create_inference_endpoint(
        name,
        repository=f"dexter-ng/{repo}",
        revision=revision,
        framework="pytorch",
        task="text-classification",
        namespace="dexter-ng",
        **(HARDWARE | extra),
    )


def label_at(url: str) -> str:
    from huggingface_hub import InferenceClient

    return InferenceClient(model=url).text_classification("Buhari don land")[0].label


def test_the_whole_lifecycle_through_the_client(hub) -> None:
    from huggingface_hub import HfApi, InferenceClient
    from huggingface_hub.errors import HfHubHTTPError

    first, second = model_repo("lifecycle", "first", "second")
    endpoint = create("lifecycle", "lifecycle", first, min_replica=0, scale_to_zero_timeout=15)
    assert (endpoint.status, endpoint.url, endpoint.revision) == ("pending", None, first)
    assert endpoint.health_route == "/health" and endpoint.type == "authenticated"
    endpoint.wait(timeout=30, refresh_every=0.1)
    assert (
        endpoint.status == "running" and endpoint.url == f"{hub.url}/_endpoints/dexter-ng/lifecycle"
    )
    assert label_at(endpoint.url) == "first"
    api = HfApi()
    assert [e.name for e in api.list_inference_endpoints(namespace="dexter-ng")] == ["lifecycle"]
    raw = api.get_inference_endpoint("lifecycle", namespace="dexter-ng").raw
    assert raw["compute"]["scaling"] == {"maxReplica": 1, "minReplica": 0, "scaleToZeroTimeout": 15}
    assert raw["provider"] == {"region": "us-east-1", "vendor": "aws"}

    endpoint.update(revision=second)  # a new revision: the endpoint restarts on it
    assert endpoint.status == "updating"
    endpoint.wait(timeout=30, refresh_every=0.1)
    assert (endpoint.revision, label_at(endpoint.url)) == (second, "second")

    running = serving_pid(endpoint.url)
    endpoint.pause()
    assert endpoint.status == "paused" and not alive(running)
    with pytest.raises(HfHubHTTPError) as paused:
        label_at(endpoint.url)
    assert paused.value.response.status_code == 503
    endpoint.resume().wait(timeout=30, refresh_every=0.1)
    assert endpoint.resume().status == "running"  # running_ok: "already running" is fine
    assert label_at(endpoint.url) == "second"

    endpoint.scale_to_zero()
    assert endpoint.status == "scaledToZero"
    with pytest.raises(HfHubHTTPError) as waking:  # the first request wakes it
        InferenceClient(model=endpoint.url).text_classification("hello")
    assert waking.value.response.status_code == 503
    assert waking.value.response.headers["Retry-After"] == "1"
    endpoint.wait(timeout=30, refresh_every=0.1)
    assert label_at(endpoint.url) == "second"

    endpoint.delete()
    with pytest.raises(HfHubHTTPError) as gone:
        api.get_inference_endpoint("lifecycle", namespace="dexter-ng")
    assert gone.value.response.status_code == 404
    assert api.list_inference_endpoints(namespace="dexter-ng") == []
    calls = hub.stats.calls
    assert calls["endpoint_create"] == 1 and calls["endpoint_update"] == 1
    assert (
        calls["endpoint_pause"] == calls["endpoint_scale_to_zero"] == calls["endpoint_delete"] == 1
    )


def test_a_failing_start_and_a_failing_update_are_reported(hub) -> None:
    from huggingface_hub.errors import InferenceEndpointError

    good, broken = model_repo("failing", "good", "broken")
    hub.context.config.endpoint_failures.add(broken)
    try:
        endpoint = create("failing-update", "failing", good)
        endpoint.wait(timeout=30, refresh_every=0.1)
        endpoint.update(revision=broken)
        with pytest.raises(InferenceEndpointError, match="failed to update"):
            endpoint.wait(timeout=30, refresh_every=0.1)
        assert endpoint.status == "updateFailed"
        assert "configured to fail" in endpoint.raw["status"]["message"]
        endpoint.update(revision=good)  # a rollback
        endpoint.wait(timeout=30, refresh_every=0.1)
        assert label_at(str(endpoint.url)) == "good"
        endpoint.delete()
    finally:
        hub.context.config.endpoint_failures.discard(broken)

    from huggingface_hub import HfApi

    HfApi().delete_file("label.txt", "dexter-ng/failing")  # the image cannot start without it
    crashing = create("crashing", "failing", "main")
    with pytest.raises(InferenceEndpointError, match="failed to deploy"):
        crashing.wait(timeout=30, refresh_every=0.1)
    assert crashing.status == "failed" and crashing.url is None
    assert "exited with code 1" in crashing.raw["status"]["message"]
    crashing.delete()


def test_tokens_namespaces_and_endpoint_types_are_checked(hub) -> None:
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    (commit,) = model_repo("guarded", "guarded")
    endpoint = create("guarded", "guarded", commit)
    endpoint.wait(timeout=30, refresh_every=0.1)
    public = create("open", "guarded", commit, type="public")
    public.wait(timeout=30, refresh_every=0.1)

    def status_of(call) -> int:
        with pytest.raises(HfHubHTTPError) as refused:
            call()
        return refused.value.response.status_code

    reader, outsider = HfApi(token=READ_TOKEN), HfApi(token=OUTSIDER_TOKEN)
    assert (
        status_of(lambda: reader.pause_inference_endpoint("guarded", namespace="dexter-ng")) == 403
    )
    assert (
        status_of(lambda: outsider.get_inference_endpoint("guarded", namespace="dexter-ng")) == 401
    )
    assert reader.get_inference_endpoint("guarded", namespace="dexter-ng").status == "running"
    with pytest.raises(HfHubHTTPError):
        create("guarded", "guarded", commit)  # the name is taken
    with pytest.raises(HfHubHTTPError):
        create("Bad_Name", "guarded", commit)
    with pytest.raises(HfHubHTTPError):
        create("no-revision", "guarded", "f" * 40)

    import httpx2

    assert httpx2.get(f"{endpoint.url}/health").status_code == 401  # no token
    assert httpx2.get(f"{public.url}/health").status_code == 200  # public: none needed
    endpoint.delete()
    public.delete()


def test_the_endpoints_url_setting_moves_the_client(hub, tmp_path) -> None:
    from huggingface_hub import constants

    from dexter_autotrain.hub.endpoints_url import ENDPOINTS_URL_VARIABLE, apply_endpoints_url

    env = hub.client_env(tmp_path, WRITE_TOKEN)
    assert env[ENDPOINTS_URL_VARIABLE] == f"{hub.url}/endpoints-api/v2"
    assert env[ENDPOINTS_URL_VARIABLE] == constants.INFERENCE_ENDPOINTS_ENDPOINT
    saved = os.environ.pop(ENDPOINTS_URL_VARIABLE)
    try:
        assert apply_endpoints_url() == env[ENDPOINTS_URL_VARIABLE]  # unset: left as it is
        os.environ[ENDPOINTS_URL_VARIABLE] = "http://127.0.0.1:9/private/v2/"
        assert apply_endpoints_url() == "http://127.0.0.1:9/private/v2"
    finally:
        os.environ[ENDPOINTS_URL_VARIABLE] = saved
        apply_endpoints_url()


def test_stopping_the_server_stops_the_endpoints(tmp_path) -> None:
    config = HubConfig(schedule_delay=0.05, endpoint_command=IMAGE)
    with HubServer(config=config) as server, patched_client(server.client_env(tmp_path)):
        (commit,) = model_repo("stopped", "stopped")
        endpoint = create("stopped", "stopped", commit)
        endpoint.wait(timeout=30, refresh_every=0.1)
        pid = serving_pid(str(endpoint.url))
        assert alive(pid)
    assert not alive(pid)


def serving_pid(url: str) -> int:
    """The pid of the process behind an endpoint's URL (the stand-in image tells it)."""
    import httpx2

    from dexter_autotrain.hub.auth import find_token

    headers = {"Authorization": f"Bearer {find_token()}"}
    return httpx2.get(f"{url}/info", headers=headers).json()["pid"]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
