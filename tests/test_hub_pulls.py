"""Pull requests on the Hub test server, through the real huggingface_hub client: what
`HfApi.create_commit(create_pr=True)`, `get_discussion_details`, `merge_pull_request`,
`change_discussion_status` and `comment_discussion` do on the Hub (huggingface_hub 2.4,
`hf_api.py` and `community.py`), as the review flow of `publish` relies on."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import HubSetup

from dexter_autotrain.testing import Accounts, TokenGrant

REPO = "dexter-ng/pulls"


@pytest.fixture(scope="module")
def hub_setup() -> HubSetup:
    """A writer of dexter-ng and a reader (who may open pull requests, not merge them)."""
    grants = {"hf_test_write": TokenGrant("dexter-test", "write")}
    grants["hf_test_reader"] = TokenGrant("someone", "read")
    return HubSetup(accounts=Accounts(grants, {"dexter-ng": frozenset({"dexter-test"})}))


@pytest.fixture
def api(hub):
    from huggingface_hub import HfApi

    api = HfApi()
    api.create_repo(REPO, exist_ok=True)
    api.upload_file(path_or_fileobj=b"v1", path_in_repo="weights.txt", repo_id=REPO)
    yield api
    api.delete_repo(REPO)


def _open(api, content: bytes, title: str = "Run 2 for review"):
    from huggingface_hub import CommitOperationAdd

    return api.create_commit(
        REPO,
        [CommitOperationAdd("weights.txt", content), CommitOperationAdd("README.md", b"card")],
        commit_message=title,
        commit_description="| gate | value |\n|---|---|\n| f1 | 0.8 |",
        create_pr=True,
    )


def test_a_commit_with_create_pr_opens_a_pull_request_and_leaves_the_branch(api) -> None:
    main_before = api.list_repo_refs(REPO).branches[0].target_commit
    info = _open(api, b"v2")
    assert (info.pr_num, info.pr_revision) == (1, "refs/pr/1")
    assert info.pr_url.endswith(f"{REPO}/discussions/1")
    assert api.list_repo_refs(REPO).branches[0].target_commit == main_before  # main untouched
    from huggingface_hub import hf_hub_download

    pulled = hf_hub_download(REPO, "weights.txt", revision=info.pr_revision)
    assert Path(pulled).read_bytes() == b"v2"
    assert {"README.md", "weights.txt"} <= set(api.list_repo_files(REPO, revision="refs/pr/1"))
    refs = api.list_repo_refs(REPO, include_pull_requests=True)
    assert [(r.ref, r.target_commit) for r in refs.pull_requests] == [("refs/pr/1", info.oid)]

    details = api.get_discussion_details(REPO, 1)
    assert details.is_pull_request and details.status == "open"
    assert (details.target_branch, details.conflicting_files) == ("refs/heads/main", [])
    assert details.title == "Run 2 for review" and details.merge_commit_oid is None
    assert "| f1 | 0.8 |" in details.events[0].content  # the description, its first comment
    assert details.events[1].type == "commit" and details.events[1].oid == info.oid


def test_merge_puts_the_pull_request_on_its_branch(api) -> None:
    info = _open(api, b"v2")
    api.comment_discussion(REPO, info.pr_num, "Looks right to me")
    api.merge_pull_request(REPO, info.pr_num, comment="Reviewed: gates passed")
    details = api.get_discussion_details(REPO, info.pr_num)
    assert details.status == "merged" and details.merge_commit_oid
    head = api.list_repo_refs(REPO).branches[0].target_commit
    assert head == details.merge_commit_oid
    from huggingface_hub import hf_hub_download

    assert Path(hf_hub_download(REPO, "weights.txt", revision=head)).read_bytes() == b"v2"
    assert [event.type for event in details.events][-3:] == ["comment", "comment", "status-change"]
    from huggingface_hub.errors import HfHubHTTPError

    with pytest.raises(HfHubHTTPError):  # merged once
        api.merge_pull_request(REPO, info.pr_num)


def test_a_merge_after_the_branch_moved_keeps_both_changes(api) -> None:
    info = _open(api, b"v2")
    api.upload_file(path_or_fileobj=b"notes", path_in_repo="NOTES.md", repo_id=REPO)
    api.merge_pull_request(REPO, info.pr_num)
    files = set(api.list_repo_files(REPO))
    assert {"NOTES.md", "README.md", "weights.txt"} <= files


def test_close_and_reopen_and_who_may(api, hub) -> None:
    from huggingface_hub import CommitOperationAdd, HfApi
    from huggingface_hub.errors import HfHubHTTPError

    info = _open(api, b"v2")
    reader = HfApi(token="hf_test_reader")
    suggestion = [CommitOperationAdd("x.txt", b"x")]
    opened = reader.create_commit(REPO, suggestion, commit_message="A suggestion", create_pr=True)
    assert opened.pr_num == 2  # a reader may open one
    with pytest.raises(HfHubHTTPError, match="403"):
        reader.merge_pull_request(REPO, opened.pr_num)  # but not merge it
    with pytest.raises(HfHubHTTPError, match="403"):
        reader.change_discussion_status(REPO, info.pr_num, "closed")  # nor close another's
    event = api.change_discussion_status(REPO, info.pr_num, "closed", comment="stale")
    assert event.new_status == "closed"
    with pytest.raises(HfHubHTTPError, match="Cannot merge a closed pull request"):
        api.merge_pull_request(REPO, info.pr_num)  # a closed PR is not merged
    api.change_discussion_status(REPO, info.pr_num, "open")
    listed = list(api.get_repo_discussions(REPO, discussion_type="pull_request"))
    assert sorted(d.num for d in listed) == [1, 2] and all(d.is_pull_request for d in listed)
