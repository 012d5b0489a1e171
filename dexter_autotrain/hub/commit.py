"""One atomic commit of a release to a branch, safe to retry.

The commit names its parent (the branch head read before it), so a retry after a lost reply
cannot commit twice: the Hub answers 412 when the first try landed, and the branch head then
either holds exactly our files (done) or someone else's (a clear error). Files on the branch
that the release does not hold are deleted in the same commit, so the branch shows one
run's model, never a mix of two.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dexter_autotrain.errors import HubUnavailable, ToolError
from dexter_autotrain.hub.release import Source, holds_exactly, remote_files
from dexter_autotrain.hub.retry import Report, RetryPolicy, with_retries

if TYPE_CHECKING:
    from huggingface_hub import CommitInfo, HfApi


@dataclass(frozen=True)
class Target:
    """Where a release goes: a commit on `branch`, or a pull request against it."""

    repo_id: str
    branch: str
    pull_request: bool = False


@dataclass(frozen=True)
class Committed:
    """The commit that holds a release, and whether this call made it."""

    oid: str
    new: bool


def ensure_repo(
    api: HfApi, repo_id: str, private: bool, report: Report, policy: RetryPolicy
) -> None:
    """Create the repo unless it exists (retried: the client does not retry this call)."""
    with_retries(
        lambda: api.create_repo(repo_id, private=private, exist_ok=True),
        f"create {repo_id}",
        report,
        policy,
    )


def branch_head(api: HfApi, target: Target, report: Report, policy: RetryPolicy) -> str:
    """The commit at the head of `target.branch`, creating the branch (from the default
    branch) when it does not exist yet."""
    refs = with_retries(lambda: api.list_repo_refs(target.repo_id), "list refs", report, policy)
    heads = {branch.name: branch.target_commit for branch in refs.branches}
    if target.branch in heads:
        return heads[target.branch]
    with_retries(
        lambda: api.create_branch(target.repo_id, branch=target.branch, exist_ok=True),
        f"create branch {target.branch}",
        report,
        policy,
    )
    return api.repo_info(target.repo_id, revision=target.branch).sha


def commit_release(
    api: HfApi,
    target: Target,
    files: dict[str, Source],
    message: tuple[str, str],
    report: Report,
    policy: RetryPolicy,
) -> Committed:
    """Commit `files` to the branch in one commit, or find them already there.

    Args:
        api (`HfApi`):
            A client holding the token.
        target (`Target`):
            The repo and branch.
        files (`dict[str, Path | bytes]`):
            The release, by path in the repo (see `release_files`).
        message (`tuple[str, str]`):
            The commit's summary and description.
        report (`Callable[[str], None]`):
            Receives one line per retry.
        policy (`RetryPolicy`):
            Retries of the commit POST (the client does not retry it).

    Returns:
        `Committed`: the commit holding the files; `new` is False when the branch head held
        them already (nothing was uploaded).

    Raises:
        [`HubUnavailable`]: the commit kept failing; the branch is unchanged.
        [`ToolError`]: the branch moved to other files while we committed.

    Example:
        ```python
        >>> commit_release(api, Target("dexter-ng/narrative", "main"), files,
        ...                ("Publish narrative", ""), print, RetryPolicy())
        Committed(oid='3f2a...', new=True)
        ```
    """
    head = branch_head(api, target, report, policy)
    remote = remote_files(api, target.repo_id, head)
    if holds_exactly(remote, files):
        return Committed(head, False)
    stale = sorted(path for path in remote if path not in files)
    try:
        info = with_retries(
            lambda: create_release_commit(api, target, files, stale, message, head),
            f"commit to {target.repo_id}@{target.branch}",
            report,
            policy,
        )
    except HubUnavailable as error:
        raise HubUnavailable(f"{error}; nothing was published, the branch is unchanged") from None
    except Exception as error:
        if _status(error) != 412:
            raise
        return _landed_earlier(api, target, files)
    return Committed(info.oid, info.oid != head)


def create_release_commit(
    api: HfApi,
    target: Target,
    files: dict[str, Source],
    stale: list[str],
    message: tuple[str, str],
    parent: str,
) -> CommitInfo:
    """One try: `files` added and `stale` deleted on top of `parent`, as a commit on the
    branch or a pull request against it (fresh operations each time: the client marks the
    ones it used)."""
    from huggingface_hub import CommitOperationAdd, CommitOperationDelete

    operations: list = [
        CommitOperationAdd(path, source if isinstance(source, bytes) else str(source))
        for path, source in files.items()
    ]
    operations += [CommitOperationDelete(path) for path in stale]
    return api.create_commit(
        target.repo_id,
        operations,
        commit_message=message[0],
        commit_description=message[1],
        revision=target.branch,
        parent_commit=parent,
        create_pr=target.pull_request,
    )


def _landed_earlier(api: HfApi, target: Target, files: dict[str, Source]) -> Committed:
    """After a 412: an earlier try whose reply was lost did commit, or someone else did."""
    head = api.repo_info(target.repo_id, revision=target.branch).sha
    if holds_exactly(remote_files(api, target.repo_id, head), files):
        return Committed(head, True)
    raise ToolError(
        f"{target.repo_id}@{target.branch} changed while publishing (now at {head[:12]}); "
        "publish again"
    )


def _status(error: BaseException) -> int | None:
    response = getattr(error, "response", None)
    return getattr(response, "status_code", None)
