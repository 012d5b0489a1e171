"""Conformance: the Hub test server answers as the Hub does, checked through the real
huggingface_hub 2.4 client and its `hf` CLI.

Every check names where huggingface_hub implements or documents the behaviour it expects
(`hf_api.py` is `huggingface_hub/hf_api.py`, `_http.py` is `huggingface_hub/utils/_http.py`).
Reads are a matrix: four callers (a writer and a reader of `dexter-ng`, an outsider with a
token, anonymous) by three repositories (public, private, missing) by eight read calls. Writes
are a matrix of four callers by six calls on a public repository. Then single behaviours:
pull requests, settings, moves, squashes, listings, `HfFileSystem`, model cards, the CLI.
Deliberate gaps (not served) are listed in docs/testing.md.
"""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from tempfile import mkdtemp

import pytest
from conftest import HubSetup

from dexter_autotrain.testing import Accounts, TokenGrant

PUBLIC, PRIVATE, MISSING = "dexter-ng/conf-public", "dexter-ng/conf-private", "dexter-ng/nowhere"
TOKENS = {"writer": "hf_conf_writer", "reader": "hf_conf_reader", "outsider": "hf_conf_outsider"}
CALLERS = ("writer", "reader", "outsider", "anonymous")
NOT_FOUND = "_http.py: hf_raise_for_status, X-Error-Code RepoNotFound -> RepositoryNotFoundError"


@pytest.fixture(scope="module")
def hub_setup() -> HubSetup:
    grants = {
        TOKENS["writer"]: TokenGrant("dexter-test", "write"),
        TOKENS["reader"]: TokenGrant("dexter-test", "read"),
        TOKENS["outsider"]: TokenGrant("outsider", "write"),
    }
    accounts = Accounts(grants, {"dexter-ng": frozenset({"dexter-test"})})
    return HubSetup(accounts=accounts, token=TOKENS["writer"])


@pytest.fixture(scope="module")
def repos(hub):
    """A public and a private repository with a README (card metadata) and a weights file."""
    from huggingface_hub import HfApi

    api = HfApi(token=TOKENS["writer"])
    card = b"---\nlicense: cc-by-4.0\n---\n# A model\n"
    for repo, private in ((PUBLIC, False), (PRIVATE, True)):
        api.create_repo(repo, private=private, exist_ok=True)
        api.upload_file(path_or_fileobj=card, path_in_repo="README.md", repo_id=repo)
        api.upload_file(path_or_fileobj=b"weights", path_in_repo="model.bin", repo_id=repo)
    return api


def client(caller: str):
    from huggingface_hub import HfApi

    return HfApi(token=False) if caller == "anonymous" else HfApi(token=TOKENS[caller])


# -- reads: who sees what ----------------------------------------------------------------------


@dataclass(frozen=True)
class Read:
    name: str
    source: str
    call: Callable
    answers_false: bool = False  # repo_exists / file_exists: False instead of raising


READS = [
    Read("repo_info", "hf_api.py: HfApi.repo_info", lambda api, r: api.repo_info(r).id == r),
    Read("list_repo_files", "hf_api.py: HfApi.list_repo_files",
         lambda api, r: "model.bin" in api.list_repo_files(r)),
    Read("list_repo_refs", "hf_api.py: HfApi.list_repo_refs",
         lambda api, r: [b.name for b in api.list_repo_refs(r).branches] == ["main"]),
    Read("list_repo_commits", "hf_api.py: HfApi.list_repo_commits",
         lambda api, r: len(api.list_repo_commits(r)) >= 3),
    Read("list_repo_tree", "hf_api.py: HfApi.list_repo_tree",
         lambda api, r: {e.path for e in api.list_repo_tree(r)} >= {"README.md", "model.bin"}),
    Read("hf_hub_download", "file_download.py: hf_hub_download (an empty cache each time)",
         lambda api, r: Path(api.hf_hub_download(r, "model.bin", cache_dir=mkdtemp()))
         .read_bytes() == b"weights"),
    Read("repo_exists", "hf_api.py: HfApi.repo_exists (False on RepositoryNotFoundError)",
         lambda api, r: api.repo_exists(r) is True, answers_false=True),
    Read("file_exists", "hf_api.py: HfApi.file_exists (False on RepositoryNotFoundError)",
         lambda api, r: api.file_exists(r, "README.md") is True, answers_false=True),
]  # fmt: skip


def _visible(caller: str, repo: str) -> bool:
    """The Hub's rule: public repos to everyone, private ones to their namespace's members."""
    return repo == PUBLIC or (repo == PRIVATE and caller in ("writer", "reader"))


@pytest.mark.parametrize("read", READS, ids=lambda r: r.name)
@pytest.mark.parametrize("repo", (PUBLIC, PRIVATE, MISSING), ids=("public", "private", "missing"))
@pytest.mark.parametrize("caller", CALLERS)
def test_reads(repos, caller: str, repo: str, read: Read) -> None:
    from huggingface_hub.errors import RepositoryNotFoundError

    api = client(caller)
    if _visible(caller, repo):
        assert read.call(api, repo), read.source
    elif read.answers_false:
        assert _answers(read, api, repo) is False, read.source
    else:
        with pytest.raises(RepositoryNotFoundError) as refused:
            read.call(api, repo)
        status = refused.value.response.status_code
        assert status == (401 if caller == "anonymous" else 404), NOT_FOUND


def _answers(read: Read, api, repo: str) -> bool:
    return (
        api.repo_exists(repo) if read.name == "repo_exists" else api.file_exists(repo, "README.md")
    )


# -- writes: who may change a public repo ------------------------------------------------------


@dataclass(frozen=True)
class Write:
    name: str
    source: str
    call: Callable
    readers_may: bool = False  # opening a pull request needs only read access


WRITES = [
    Write("upload_file", "hf_api.py: HfApi.upload_file",
          lambda api, n: api.upload_file(path_or_fileobj=b"x", path_in_repo=f"{n}.txt",
                                         repo_id=PUBLIC)),
    Write("create_branch", "hf_api.py: HfApi.create_branch",
          lambda api, n: api.create_branch(PUBLIC, branch=f"b-{n}")),
    Write("create_tag", "hf_api.py: HfApi.create_tag",
          lambda api, n: api.create_tag(PUBLIC, tag=f"t-{n}")),
    Write("delete_file", "hf_api.py: HfApi.delete_file",
          lambda api, n: api.delete_file(f"gone-{n}.txt", PUBLIC)),
    Write("update_repo_settings", "hf_api.py: HfApi.update_repo_settings",
          lambda api, n: api.update_repo_settings(PUBLIC, gated=False)),
    Write("create_pr", "hf_api.py: HfApi.create_commit(create_pr=True)",
          lambda api, n: api.upload_file(path_or_fileobj=b"y", path_in_repo=f"pr-{n}.txt",
                                         repo_id=PUBLIC, create_pr=True), readers_may=True),
]  # fmt: skip


@pytest.mark.parametrize("write", WRITES, ids=lambda w: w.name)
@pytest.mark.parametrize("caller", CALLERS)
def test_writes(repos, caller: str, write: Write) -> None:
    from huggingface_hub.errors import HfHubHTTPError

    name = f"{caller}-{write.name}"
    if write.name == "delete_file":
        repos.upload_file(path_or_fileobj=b"z", path_in_repo=f"gone-{name}.txt", repo_id=PUBLIC)
    allowed = caller == "writer" or (write.readers_may and caller != "anonymous")
    if allowed:
        write.call(client(caller), name)
        return
    with pytest.raises(HfHubHTTPError) as refused:
        write.call(client(caller), name)
    assert refused.value.response.status_code == (401 if caller == "anonymous" else 403), (
        write.source
    )


# -- single behaviours -------------------------------------------------------------------------


def test_whoami_needs_a_token(repos, hub) -> None:
    """hf_api.py: HfApi.whoami (GET /api/whoami-v2; 401 without a token)."""
    assert client("reader").whoami()["auth"]["accessToken"]["role"] == "read"
    with pytest.raises(urllib.error.HTTPError) as anonymous:
        urllib.request.urlopen(f"{hub.url}/api/whoami-v2")
    assert anonymous.value.code == 401


def test_create_repo_twice_is_409_unless_exist_ok(repos) -> None:
    """hf_api.py: HfApi.create_repo, `exist_ok` catches 409."""
    from huggingface_hub.errors import HfHubHTTPError

    assert repos.create_repo(PUBLIC, exist_ok=True).repo_id == PUBLIC
    with pytest.raises(HfHubHTTPError) as twice:
        repos.create_repo(PUBLIC)
    assert twice.value.response.status_code == 409


def test_a_stale_parent_commit_is_412(repos) -> None:
    """hf_api.py: HfApi.create_commit(parent_commit=...): the Hub refuses a moved branch."""
    from huggingface_hub import CommitOperationAdd
    from huggingface_hub.errors import HfHubHTTPError

    first = repos.list_repo_commits(PUBLIC)[-1].commit_id
    with pytest.raises(HfHubHTTPError) as stale:
        repos.create_commit(
            PUBLIC, [CommitOperationAdd("s.txt", b"s")], commit_message="s", parent_commit=first
        )
    assert stale.value.response.status_code == 412


def test_revisions_resolve_by_branch_tag_and_commit(repos) -> None:
    """file_download.py: hf_hub_download(revision=...): a branch, a tag or a commit id."""
    head = repos.repo_info(PUBLIC).sha
    repos.create_tag(PUBLIC, tag="conformance-v1", revision=head, exist_ok=True)
    for revision in ("main", "conformance-v1", head, head[:7]):
        assert repos.repo_info(PUBLIC, revision=revision).sha == head
    from huggingface_hub.errors import RevisionNotFoundError

    with pytest.raises(RevisionNotFoundError):
        repos.repo_info(PUBLIC, revision="no-such-branch")


def test_settings_make_a_repo_public_and_gated(repos) -> None:
    """hf_api.py: HfApi.update_repo_settings (visibility, gated)."""
    repo = "dexter-ng/conf-settings"
    repos.create_repo(repo, private=True, exist_ok=True)
    assert client("anonymous").repo_exists(repo) is False
    repos.update_repo_settings(repo, private=False, gated="auto")
    info = client("anonymous").repo_info(repo)
    assert (info.private, info.gated) == (False, "auto")


def test_move_repo_renames_with_its_history(repos) -> None:
    """hf_api.py: HfApi.move_repo (POST /api/repos/move)."""
    repos.create_repo("dexter-ng/conf-old", exist_ok=True)
    repos.upload_file(path_or_fileobj=b"m", path_in_repo="m.txt", repo_id="dexter-ng/conf-old")
    repos.move_repo("dexter-ng/conf-old", "dexter-ng/conf-new")
    assert not repos.repo_exists("dexter-ng/conf-old")
    assert "m.txt" in repos.list_repo_files("dexter-ng/conf-new")
    assert len(repos.list_repo_commits("dexter-ng/conf-new")) == 2


def test_super_squash_leaves_one_commit_with_the_same_files(repos) -> None:
    """hf_api.py: HfApi.super_squash_history."""
    repo = "dexter-ng/conf-squash"
    repos.create_repo(repo, exist_ok=True)
    for index in range(3):
        repos.upload_file(path_or_fileobj=b"%d" % index, path_in_repo=f"{index}.txt", repo_id=repo)
    files = set(repos.list_repo_files(repo))
    repos.super_squash_history(repo, commit_message="squashed")
    commits = repos.list_repo_commits(repo)
    assert [c.title for c in commits] == ["squashed"] and set(repos.list_repo_files(repo)) == files


def test_auth_check_reads_and_writes(repos) -> None:
    """hf_api.py: HfApi.auth_check (GET .../auth-check[/write])."""
    from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError

    client("reader").auth_check(PRIVATE)
    client("writer").auth_check(PRIVATE, write=True)
    with pytest.raises(HfHubHTTPError):
        client("reader").auth_check(PRIVATE, write=True)
    with pytest.raises(RepositoryNotFoundError):
        client("outsider").auth_check(PRIVATE)


def test_list_models_by_author_hides_private_repos_from_others(repos) -> None:
    """hf_api.py: HfApi.list_models(author=..., search=...)."""
    mine = {m.id for m in client("reader").list_models(author="dexter-ng")}
    theirs = {m.id for m in client("outsider").list_models(author="dexter-ng")}
    assert {PUBLIC, PRIVATE} <= mine and PUBLIC in theirs and PRIVATE not in theirs
    assert [m.id for m in client("anonymous").list_models(search="conf-public")] == [PUBLIC]


def test_model_card_push_and_metadata_update(repos) -> None:
    """repocard.py: ModelCard.push_to_hub and metadata_update (validate-yaml needs no token)."""
    from huggingface_hub import ModelCard, metadata_load, metadata_update

    card = ModelCard("---\nlicense: mit\n---\n# Pushed\n")
    card.push_to_hub(PUBLIC, token=TOKENS["writer"])
    metadata_update(PUBLIC, {"tags": ["dexter"]}, token=TOKENS["writer"], overwrite=True)
    pulled = Path(repos.hf_hub_download(PUBLIC, "README.md"))
    assert metadata_load(pulled) == {"license": "mit", "tags": ["dexter"]}


def test_hffilesystem_lists_reads_and_globs(repos) -> None:
    """hf_file_system.py: HfFileSystem.ls, open, exists, glob, info."""
    from huggingface_hub import HfFileSystem

    fs = HfFileSystem(token=TOKENS["reader"])
    assert f"{PRIVATE}/model.bin" in fs.ls(PRIVATE, detail=False)
    with fs.open(f"{PRIVATE}/model.bin", "rb") as file:
        assert file.read() == b"weights"
    assert fs.exists(f"{PUBLIC}/README.md") and not fs.exists(f"{PUBLIC}/nope.txt")
    assert fs.glob(f"{PRIVATE}/*.bin") == [f"{PRIVATE}/model.bin"]
    assert fs.info(f"{PRIVATE}/model.bin")["size"] == len(b"weights")


def test_tree_expand_gives_each_file_its_last_commit(repos) -> None:
    """hf_api.py: HfApi.list_repo_tree(expand=True) fills RepoFile.last_commit."""
    entries = {e.path: e for e in repos.list_repo_tree(PRIVATE, expand=True)}
    assert entries["model.bin"].last_commit is not None
    assert entries["model.bin"].last_commit.title


def _hf(*args: str, token: str | None, hub, home: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env |= {"HF_ENDPOINT": hub.url, "HF_HOME": str(home), "HF_HUB_DISABLE_TELEMETRY": "1"}
    env |= {"HF_TOKEN": token} if token else {}
    hf = Path(sys.executable).parent / "hf"
    return subprocess.run([str(hf), *args], capture_output=True, text=True, env=env, timeout=60)


def test_the_hf_cli_downloads_uploads_and_refuses(repos, hub, tmp_path) -> None:
    """commands/download.py and commands/upload.py: `hf download`, `hf upload`."""
    got = _hf("download", PUBLIC, "model.bin", "--local-dir", str(tmp_path / "d"),
              token=None, hub=hub, home=tmp_path / "h")  # fmt: skip
    assert got.returncode == 0, got.stderr
    assert (tmp_path / "d" / "model.bin").read_bytes() == b"weights"
    (tmp_path / "up.txt").write_text("via the CLI")
    sent = _hf("upload", PUBLIC, str(tmp_path / "up.txt"), "cli.txt",
               token=TOKENS["writer"], hub=hub, home=tmp_path / "h")  # fmt: skip
    assert sent.returncode == 0, sent.stderr
    assert "cli.txt" in repos.list_repo_files(PUBLIC)
    refused = _hf("download", PRIVATE, "model.bin", token=None, hub=hub, home=tmp_path / "h")
    assert refused.returncode != 0 and "not found" in refused.stderr
