"""Rollback: put a job's branch back to the files of a released tag, in one commit.

The tag's files are downloaded (into a temporary folder, never the run's) and committed to
`hub.branch` as a release is (files the tag does not hold are deleted in the same commit; LFS
objects the Hub already holds are not uploaded again), and the new commit is tagged
`<tag>-rollback-<UTC time>`. A tag whose card recorded failed gates is refused unless forced
with a reason, which goes into the commit message.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path

from dexter_autotrain.errors import PublishRefused, UserError
from dexter_autotrain.hub.auth import require_token
from dexter_autotrain.hub.commit import Target, commit_release
from dexter_autotrain.hub.failures import hub_failures
from dexter_autotrain.hub.retry import DEFAULT_POLICY, Report, reported_retries, with_retries
from dexter_autotrain.report_record import EvaluationReport
from dexter_autotrain.spec import JobSpec


@dataclass(frozen=True)
class RolledBack:
    """The branch put back to a released tag's files.

    Attributes:
        repo_id / branch: where.
        restored: the released tag whose files the branch holds again.
        commit: the branch's new head (or its head already, when it held those files).
        tag: the tag on that commit (`<restored>-rollback-<time>`; None when nothing changed).
        new_commit: False when the branch already held the tag's files.
    """

    repo_id: str
    branch: str
    restored: str
    commit: str
    tag: str | None
    new_commit: bool


def rollback(
    spec: JobSpec, tag: str, force: str | None = None, report: Report = lambda line: None
) -> RolledBack:
    """Put `hub.branch` of the job's repo back to the files of its released `tag`.

    Raises:
        [`UserError`]: the spec publishes nowhere, or no such tag.
        [`PublishRefused`]: the tag's evaluation failed its gates and no `force` reason.
        [`HubAccessError`] / [`HubUnavailable`]: as publishing.
    """
    from huggingface_hub import HfApi, snapshot_download

    if spec.hub.repo_id is None:
        raise UserError(f"{spec.name}: hub.repo_id is not set; nothing to roll back")
    repo_id, token = str(spec.hub.repo_id), require_token()
    api = HfApi(token=token)
    with (
        reported_retries(report),
        hub_failures(token, repo_id, "the branch is unchanged"),
        tempfile.TemporaryDirectory(prefix="dexter-rollback-") as folder,
    ):
        tags = {ref.name: ref.target_commit for ref in api.list_repo_refs(repo_id).tags}
        if tag not in tags:
            known = ", ".join(sorted(tags)[-5:]) or "none"
            raise UserError(f"{repo_id}: no tag `{tag}` (latest tags: {known})")
        snapshot = Path(snapshot_download(repo_id, revision=tags[tag], local_dir=folder))
        _check_gates(snapshot, repo_id, tag, force)
        files = _release_files(snapshot)
        target = Target(repo_id, spec.hub.branch)
        message = _message(tag, tags[tag], force)
        committed = commit_release(api, target, files, message, report, DEFAULT_POLICY)
    if not committed.new:
        return RolledBack(repo_id, spec.hub.branch, tag, committed.oid, None, False)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    new_tag = f"{tag}-rollback-{stamp}"
    with_retries(
        lambda: api.create_tag(repo_id, tag=new_tag, revision=committed.oid),
        f"tag {new_tag}",
        report,
        DEFAULT_POLICY,
    )
    return RolledBack(repo_id, spec.hub.branch, tag, committed.oid, new_tag, True)


def _check_gates(snapshot: Path, repo_id: str, tag: str, force: str | None) -> None:
    """Refuse a tag whose evaluation failed its gates, unless forced with a reason."""
    report = EvaluationReport.read(snapshot)
    if report.gates.passed is not False:
        return
    if force is None or not force.strip():
        raise PublishRefused(
            f"{repo_id}@{tag}: its evaluation failed the gates; roll back to it only with "
            '--force "reason" (it goes into the commit message)'
        )


def _release_files(snapshot: Path) -> dict[str, Path]:
    """The tag's files by path, less the Hub's own and the download's bookkeeping."""
    return {
        path.relative_to(snapshot).as_posix(): path
        for path in sorted(snapshot.rglob("*"))
        if path.is_file()
        and path.name != ".gitattributes"
        and ".cache" not in path.relative_to(snapshot).parts
    }


def _message(tag: str, commit: str, force: str | None) -> tuple[str, str]:
    summary = f"Roll back to {tag}"
    if force:
        summary += f" (gates failed; forced: {' '.join(force.split())})"
    return summary, f"dexter-auto put the branch back to the files of {tag} ({commit[:12]})."
