"""The Hub test server, driven by the real huggingface_hub client over real HTTP."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
from conftest import HubSetup

from dexter_autotrain.testing import (
    Accounts,
    Fault,
    HubConfig,
    HubServer,
    TokenGrant,
    patched_client,
)

LFS_THRESHOLD = 64 * 1024
LFS_SIZE = 200_000


@pytest.fixture(scope="module")
def hub_setup() -> HubSetup:
    """A tiny tree page and LFS threshold."""
    return HubSetup(config=HubConfig(page_size=2, lfs_threshold=LFS_THRESHOLD))


@pytest.fixture(autouse=True)
def clean_counters(request: pytest.FixtureRequest) -> Iterator[None]:
    if "hub" not in request.fixturenames:
        yield
        return
    server: HubServer = request.getfixturevalue("hub")
    server.faults.clear()
    server.stats.reset()
    yield
    server.faults.clear()


@pytest.fixture
def api(hub: HubServer):
    from huggingface_hub import HfApi

    return HfApi()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Small text files, one in a sub-folder, a README with metadata, and one LFS-sized file."""
    src = tmp_path / "model"
    (src / "plots").mkdir(parents=True)
    (src / "README.md").write_text("---\nlicense: apache-2.0\n---\n# A model\n")
    (src / "config.json").write_text(json.dumps({"hidden_size": 32}))
    (src / "plots" / "scores.txt").write_text("0.9\n")
    (src / "model.safetensors").write_bytes(os.urandom(LFS_SIZE))
    return src


def sha256_of(path: Path | str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def files_under(root: Path | str) -> dict[str, str]:
    root = Path(root)
    return {
        p.relative_to(root).as_posix(): sha256_of(p)
        for p in root.rglob("*")
        if p.is_file() and ".cache" not in p.parts
    }


def publish(api, repo_id: str, folder: Path, **kwargs):
    api.create_repo(repo_id, exist_ok=True, **kwargs)
    return api.upload_folder(repo_id=repo_id, folder_path=folder, commit_message="publish")


# -- identities --------------------------------------------------------------------------


def test_whoami_names_the_user_its_orgs_and_the_token_role(api) -> None:
    me = api.whoami()
    assert me["name"] == "dexter-test"
    assert [org["name"] for org in me["orgs"]] == ["dexter-ng"]
    assert me["auth"]["accessToken"]["role"] == "write"
    assert api.whoami(token="hf_test_read")["auth"]["accessToken"]["role"] == "read"


def test_missing_and_invalid_tokens_get_401(hub: HubServer, api) -> None:
    from huggingface_hub.errors import HfHubHTTPError

    with pytest.raises(urllib.error.HTTPError) as raw:
        urllib.request.urlopen(f"{hub.url}/api/whoami-v2")
    assert raw.value.code == 401
    api.create_repo("dexter-test/auth-probe", private=True, exist_ok=True)
    # As on the Hub: a private repo without a token is 401 with X-Error-Code RepoNotFound,
    # which the client raises as RepositoryNotFoundError (a public one reads: conformance).
    from huggingface_hub.errors import RepositoryNotFoundError

    with pytest.raises(RepositoryNotFoundError) as missing:
        api.list_repo_files("dexter-test/auth-probe", token=False)
    assert missing.value.response.status_code == 401
    with pytest.raises(HfHubHTTPError) as invalid:
        api.whoami(token="hf_not_a_token")
    assert invalid.value.response.status_code == 401


def test_read_token_and_foreign_namespace_get_403(api, folder: Path) -> None:
    from huggingface_hub.errors import HfHubHTTPError

    with pytest.raises(HfHubHTTPError) as create:
        api.create_repo("dexter-ng/read-only", token="hf_test_read")
    assert create.value.response.status_code == 403
    api.create_repo("dexter-ng/read-only")
    with pytest.raises(HfHubHTTPError) as upload:
        api.upload_folder(repo_id="dexter-ng/read-only", folder_path=folder, token="hf_test_read")
    assert upload.value.response.status_code == 403
    with pytest.raises(HfHubHTTPError) as foreign:
        api.create_repo("someone-else/model")
    assert foreign.value.response.status_code == 403


def test_private_repos_are_invisible_to_other_users(tmp_path: Path) -> None:
    accounts = Accounts(
        {"hf_alice": TokenGrant("alice", "write"), "hf_bob": TokenGrant("bob", "write")}
    )
    with HubServer(accounts=accounts) as server, patched_client(server.client_env(tmp_path)):
        from huggingface_hub import HfApi
        from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError

        alice, bob = HfApi(token="hf_alice"), HfApi(token="hf_bob")
        alice.create_repo("alice/secret", private=True)
        alice.create_repo("alice/open", private=False)
        with pytest.raises(RepositoryNotFoundError):
            bob.repo_info("alice/secret")
        assert bob.list_repo_files("alice/open") == [".gitattributes"]
        with pytest.raises(HfHubHTTPError) as denied:
            bob.create_tag("alice/open", tag="mine")
        assert denied.value.response.status_code == 403


# -- repos, commits, refs, downloads -------------------------------------------------------


def test_create_repo_private_public_and_conflict(api) -> None:
    from huggingface_hub.errors import HfHubHTTPError

    url = api.create_repo("dexter-ng/private-one", private=True)
    assert url == f"{api.endpoint}/dexter-ng/private-one"
    api.create_repo("dexter-ng/public-one", visibility="public")
    assert api.repo_info("dexter-ng/private-one").private is True
    assert api.repo_info("dexter-ng/public-one").private is False
    with pytest.raises(HfHubHTTPError) as conflict:
        api.create_repo("dexter-ng/private-one")
    assert conflict.value.response.status_code == 409
    assert api.create_repo("dexter-ng/private-one", exist_ok=True) == url


def test_upload_folder_goes_through_lfs_and_reads_back(hub: HubServer, api, folder: Path) -> None:
    info = publish(api, "dexter-ng/roundtrip", folder, private=True)
    assert info.commit_url == f"{hub.url}/dexter-ng/roundtrip/commit/{info.oid}"
    assert hub.stats.calls["lfs_upload"] == 1
    assert hub.stats.lfs_bytes == LFS_SIZE
    expected = files_under(folder)
    assert api.list_repo_files("dexter-ng/roundtrip") == sorted([".gitattributes", *expected])
    repo = api.repo_info("dexter-ng/roundtrip", files_metadata=True)
    assert repo.sha == info.oid
    siblings = {s.rfilename: s for s in repo.siblings}
    assert siblings["model.safetensors"].lfs.sha256 == expected["model.safetensors"]
    assert siblings["config.json"].lfs is None
    assert [c.title for c in api.list_repo_commits("dexter-ng/roundtrip")] == [
        "publish",
        "initial commit",
    ]


def test_tags_branches_and_downloads_at_a_tag_and_a_commit(api, folder: Path) -> None:
    from huggingface_hub import hf_hub_download, snapshot_download

    first = publish(api, "dexter-ng/pinned", folder)
    api.create_tag("dexter-ng/pinned", tag="run-1")
    api.create_branch("dexter-ng/pinned", branch="staging")
    (folder / "config.json").write_text("{}")
    api.upload_folder(repo_id="dexter-ng/pinned", folder_path=folder, commit_message="second")
    refs = api.list_repo_refs("dexter-ng/pinned")
    assert {t.name: t.target_commit for t in refs.tags} == {"run-1": first.oid}
    assert {b.name for b in refs.branches} == {"main", "staging"}
    assert refs.converts == []
    weights = hf_hub_download("dexter-ng/pinned", "model.safetensors", revision="run-1")
    assert sha256_of(weights) == sha256_of(folder / "model.safetensors")
    old_config = hf_hub_download("dexter-ng/pinned", "config.json", revision=first.oid)
    assert json.loads(Path(old_config).read_text()) == {"hidden_size": 32}
    snapshot = files_under(snapshot_download("dexter-ng/pinned", revision="run-1"))
    snapshot.pop(".gitattributes")
    assert snapshot["config.json"] != sha256_of(folder / "config.json")
    assert snapshot.keys() == files_under(folder).keys()


def test_tree_is_recursive_and_paginated(hub: HubServer, api, folder: Path) -> None:
    publish(api, "dexter-ng/tree", folder)
    hub.stats.reset()
    listed = api.list_repo_tree("dexter-ng/tree", recursive=True)
    entries = {e.path: type(e).__name__ for e in listed}
    assert entries == {
        ".gitattributes": "RepoFile",
        "README.md": "RepoFile",
        "config.json": "RepoFile",
        "model.safetensors": "RepoFile",
        "plots": "RepoFolder",
        "plots/scores.txt": "RepoFile",
    }
    assert hub.stats.calls["tree"] == 3  # 6 entries, 2 per page
    top = [e.path for e in api.list_repo_tree("dexter-ng/tree")]
    assert "plots/scores.txt" not in top and "plots" in top
    assert [e.path for e in api.list_repo_tree("dexter-ng/tree", "plots")] == ["plots/scores.txt"]


def test_publishing_the_same_files_again_makes_no_commit_and_uploads_nothing(
    hub: HubServer, api, folder: Path
) -> None:
    first = publish(api, "dexter-ng/idempotent", folder)
    hub.stats.reset()
    again = api.upload_folder(repo_id="dexter-ng/idempotent", folder_path=folder)
    assert again.oid == first.oid
    assert hub.stats.calls["commit"] == 0
    assert hub.stats.calls["lfs_upload"] == 0 and hub.stats.lfs_bytes == 0
    assert hub.stats.calls["lfs_batch"] == 1  # asked, and told the object is already there
    assert len(api.list_repo_commits("dexter-ng/idempotent")) == 2


def test_parent_commit_and_invalid_card_metadata_are_refused(api, folder: Path) -> None:
    from huggingface_hub import CommitOperationAdd
    from huggingface_hub.errors import HfHubHTTPError

    first = publish(api, "dexter-ng/guarded", folder)
    api.upload_file(path_or_fileobj=b"moved", path_in_repo="new.txt", repo_id="dexter-ng/guarded")
    stale = [CommitOperationAdd("late.txt", b"late")]
    with pytest.raises(HfHubHTTPError) as conflict:
        api.create_commit(
            "dexter-ng/guarded", stale, commit_message="late", parent_commit=first.oid
        )
    assert conflict.value.response.status_code == 412
    with pytest.raises(ValueError, match="Invalid metadata"):
        api.upload_file(
            path_or_fileobj=b"---\n[a: b\n---\n",
            path_in_repo="README.md",
            repo_id="dexter-ng/guarded",
        )


def test_dataset_repos_and_delete(api, folder: Path) -> None:
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import RepositoryNotFoundError

    api.create_repo("dexter-ng/data", repo_type="dataset", private=True)
    api.upload_folder(repo_id="dexter-ng/data", repo_type="dataset", folder_path=folder)
    got = hf_hub_download("dexter-ng/data", "model.safetensors", repo_type="dataset")
    assert sha256_of(got) == sha256_of(folder / "model.safetensors")
    api.delete_repo("dexter-ng/data", repo_type="dataset")
    with pytest.raises(RepositoryNotFoundError):
        api.repo_info("dexter-ng/data", repo_type="dataset")


# -- faults --------------------------------------------------------------------------------


def test_429_with_retry_after_and_503_are_retried_where_the_client_backs_off(
    hub: HubServer, api, folder: Path
) -> None:
    api.create_repo("dexter-ng/flaky")
    hub.faults.add(Fault("lfs_upload", status=429, retry_after=0))
    hub.faults.add(Fault("preupload", status=503))
    info = api.upload_folder(repo_id="dexter-ng/flaky", folder_path=folder)
    assert hub.stats.calls["lfs_upload"] == 2 and hub.stats.calls["preupload"] == 2
    assert api.repo_info("dexter-ng/flaky").sha == info.oid


def test_a_failed_commit_leaves_nothing_and_a_lost_reply_leaves_the_whole_commit(
    hub: HubServer, api, folder: Path
) -> None:
    from huggingface_hub.errors import HfHubHTTPError

    api.create_repo("dexter-ng/atomic")
    before = api.repo_info("dexter-ng/atomic").sha
    hub.faults.add(Fault("commit", status=503))
    with pytest.raises(HfHubHTTPError) as failed:  # the commit POST is not retried
        api.upload_folder(repo_id="dexter-ng/atomic", folder_path=folder)
    assert failed.value.response.status_code == 503
    assert api.repo_info("dexter-ng/atomic").sha == before
    hub.faults.add(Fault("commit", kind="drop"))
    with pytest.raises(httpx2.RemoteProtocolError):  # the commit landed, its reply did not
        api.upload_folder(repo_id="dexter-ng/atomic", folder_path=folder)
    files = api.list_repo_files("dexter-ng/atomic")
    assert files == sorted([".gitattributes", *files_under(folder)])


def test_a_commit_whose_body_is_cut_applies_nothing(hub: HubServer, api) -> None:
    api.create_repo("dexter-ng/cut-body")
    before = api.repo_info("dexter-ng/cut-body").sha
    host, port = hub.url.removeprefix("http://").split(":")
    line = json.dumps({"key": "header", "value": {"summary": "half"}}).encode() + b"\n"
    head = (
        "POST /api/models/dexter-ng/cut-body/commit/main HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\nAuthorization: Bearer hf_test_write\r\n"
        f"Content-Type: application/x-ndjson\r\nContent-Length: {len(line) + 1000}\r\n\r\n"
    )
    with socket.create_connection((host, int(port))) as client:
        client.sendall(head.encode() + line)
    deadline = time.monotonic() + 5
    while hub.stats.calls["commit"] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert hub.stats.calls["commit"] == 1
    assert api.repo_info("dexter-ng/cut-body").sha == before


def test_dropped_uploads_and_downloads_are_resumed(hub: HubServer, api, folder: Path) -> None:
    from huggingface_hub import hf_hub_download

    api.create_repo("dexter-ng/dropped")
    hub.faults.add(Fault("lfs_upload", kind="drop"))
    api.upload_folder(repo_id="dexter-ng/dropped", folder_path=folder)
    assert hub.stats.calls["lfs_upload"] == 2
    hub.faults.add(Fault("resolve", kind="drop", method="GET"))
    hub.stats.reset()
    got = hf_hub_download("dexter-ng/dropped", "model.safetensors")
    assert sha256_of(got) == sha256_of(folder / "model.safetensors")
    assert hub.stats.calls["resolve"] == 3  # HEAD, the GET cut in half, the GET of the rest


def test_faults_and_stats_over_http_and_slow_replies(hub: HubServer, api) -> None:
    fault = {"route": "whoami", "kind": "slow", "delay": 0.3}
    post = urllib.request.Request(
        f"{hub.url}/_test/faults", json.dumps(fault).encode(), method="POST"
    )
    with urllib.request.urlopen(post) as reply:
        assert json.loads(reply.read())["armed"][0]["kind"] == "slow"
    started = time.monotonic()
    api.whoami()
    assert time.monotonic() - started >= 0.3
    with urllib.request.urlopen(f"{hub.url}/_test/stats") as reply:
        assert json.loads(reply.read())["calls"]["whoami"] == 1


# -- on its own ----------------------------------------------------------------------------


def start_cli(data: Path, *extra: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dexter_autotrain.testing.hub_server",
            "--port",
            "0",
            "--data",
            str(data),
            *extra,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


def get_json(url: str, token: str) -> dict:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=5) as reply:
        return json.loads(reply.read())


def test_cli_prints_its_url_keeps_data_and_stops_on_sigterm(tmp_path: Path) -> None:
    process, url = start_cli(tmp_path, "--token", "hf_ci=ci-bot:write", "--org", "team=ci-bot")
    try:
        assert url.startswith("http://127.0.0.1:")
        assert get_json(f"{url}/api/whoami-v2", "hf_ci")["orgs"][0]["name"] == "team"
        create = urllib.request.Request(
            f"{url}/api/repos/create",
            json.dumps({"name": "kept", "organization": "team", "private": True}).encode(),
            {"Authorization": "Bearer hf_ci", "Content-Type": "application/json"},
        )
        urllib.request.urlopen(create, timeout=5).close()
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    process, url = start_cli(tmp_path, "--token", "hf_ci=ci-bot:write", "--org", "team=ci-bot")
    try:
        kept = get_json(f"{url}/api/models/team/kept", "hf_ci")  # `private`: AutoTrain's client
        assert (kept["id"], kept["private"]) == ("team/kept", True)
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0


def test_a_request_naming_another_host_is_refused(hub: HubServer) -> None:
    """DNS rebinding: a web page the operator opens may reach 127.0.0.1 under its own name."""
    import http.client

    from huggingface_hub import HfApi

    port = int(hub.url.rsplit(":", 1)[1])
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    body = json.dumps({"name": "rebound", "organization": "dexter-ng"})
    headers = {"Host": "attacker.example", "Authorization": "Bearer hf_test_write"}
    connection.request("POST", "/api/repos/create", body, headers | {"Content-Type": "x"})
    reply = connection.getresponse()
    assert reply.status == 421 and b"loopback host" in reply.read()
    connection.close()
    hub.stats.reset()
    assert not HfApi().repo_exists("dexter-ng/rebound")


def test_the_cli_server_needs_its_own_tokens_off_loopback(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "dexter_autotrain.testing.hub_server", "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2 and done.stdout == ""
    assert "--host 0.0.0.0: off loopback the server needs its own tokens" in done.stderr


def test_the_cli_server_runs_jobs_only_from_its_image_map(tmp_path: Path) -> None:
    process, url = start_cli(tmp_path, "--token", "hf_ci=ci-bot:write", "--org", "team=ci-bot")
    try:
        run = urllib.request.Request(
            f"{url}/api/jobs/team",
            json.dumps({"command": ["sh", "-c", "id"], "dockerImage": "python:3.12"}).encode(),
            {"Authorization": "Bearer hf_ci", "Content-Type": "application/json"},
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(run, timeout=5)
        assert refused.value.code == 400
        assert "not one this server runs" in refused.value.read().decode()
        from huggingface_hub import HfApi

        api = HfApi(endpoint=url, token="hf_ci")  # a docker Space: built from its FROM image
        api.create_repo("team/shell", repo_type="space", space_sdk="docker")
        dockerfile = b"FROM python:3.12\nCMD id > /tmp/pwned\n"
        api.upload_file(
            path_or_fileobj=dockerfile, path_in_repo="Dockerfile", repo_id="team/shell",
            repo_type="space",
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while (runtime := api.get_space_runtime("team/shell")).stage != "BUILD_ERROR":
            assert time.monotonic() < deadline, runtime.stage
            time.sleep(0.2)
        assert "FROM python:3.12: not an image this server runs" in (
            runtime.raw.get("errorMessage") or ""
        )
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0


def test_the_server_refuses_to_listen_off_loopback_with_public_tokens() -> None:
    with pytest.raises(ValueError, match="off loopback the Hub test server needs accounts"):
        HubServer(host="0.0.0.0")
