"""Publishing for review: a run opened as a Hub pull request on `hub.branch`, then merged
(and only then tagged) or closed.

The pull request holds the same files a direct publish commits (the model, card, evaluation
files, plots). Its description is what a reviewer decides on (`review_text`). It records the
branch head it was compared with: a merge after the branch moved is refused, because the
comparison in the description would be stale. Each step is idempotent: opening a run's
review again finds its open pull request; merging a merged one only makes sure of the tag.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dexter_autotrain.errors import PublishRefused, UserError
from dexter_autotrain.hub.commit import Target, branch_head, create_release_commit, ensure_repo
from dexter_autotrain.hub.release import Source, remote_files
from dexter_autotrain.hub.retry import Report, RetryPolicy
from dexter_autotrain.hub.review_text import review_description, review_title
from dexter_autotrain.record import Published, Review, RunState
from dexter_autotrain.runs import Run

if TYPE_CHECKING:
    from huggingface_hub import HfApi


def open_review(
    api: HfApi,
    run: Run,
    state: RunState,
    files: dict[str, Source],
    report: Report,
    policy: RetryPolicy,
) -> tuple[Published, bool]:
    """Open the run as a pull request on `hub.branch` (the repo created if needed), or find
    the one it was opened as and is still open.

    Returns:
        The `published` record (the pull request's commit, no tag yet) and whether a pull
        request was opened now.
    """
    published = state.published
    if published is not None and published.review and published.review.status != "closed":
        return published, False  # open: being reviewed; merged: published
    spec = run.spec(state)
    repo_id = str(spec.hub.repo_id)
    ensure_repo(api, repo_id, spec.hub.private, report, policy)
    target = Target(repo_id, spec.hub.branch, pull_request=True)
    head = branch_head(api, target, report, policy)
    stale = sorted(path for path in remote_files(api, repo_id, head) if path not in files)
    message = (review_title(state, spec), review_description(run, state, spec, head))
    info = create_release_commit(api, target, files, stale, message, head)
    review = Review(
        num=info.pr_num, url=info.pr_url, branch=spec.hub.branch, base=head, status="open"
    )
    return Published(
        repo_id=repo_id, commit=info.oid, tag=None, url=info.pr_url, review=review
    ), True


def merge_review(
    api: HfApi, state: RunState, tag: str | None, force: str | None, report: Report
) -> tuple[Published, bool]:
    """Merge the run's review pull request with the Hub's own merge, then tag the merged
    commit; a merged one is only tagged (idempotent).

    Raises:
        [`UserError`]: the run was not published for review, its pull request was closed,
            or the branch moved since it was opened (the comparison is stale).
        [`PublishRefused`]: the run failed its gates and no `--force` reason was given.
    """
    published, review = _reviewed(state)
    details = api.get_discussion_details(published.repo_id, review.num)
    merged_now = details.status == "open"
    if details.status == "closed":
        raise UserError(
            f"{review.url}: the pull request was closed ({review.reason or 'on the Hub'}); "
            "publish the run again to open a new one"
        )
    if merged_now:
        _check_mergeable(api, published.repo_id, review, state.verdict().gates_passed, force)
        comment = "Merged by dexter-auto" + (f" past failed gates: {force}" if force else "")
        api.merge_pull_request(published.repo_id, review.num, comment=comment)
        details = api.get_discussion_details(published.repo_id, review.num)
    merged = str(details.merge_commit_oid)
    if tag is not None:
        api.create_tag(published.repo_id, tag=tag, revision=merged, exist_ok=True)
    url = f"{api.endpoint}/{published.repo_id}/commit/{merged}"
    done = review.model_copy(update={"status": "merged"})
    return Published(
        repo_id=published.repo_id, commit=merged, tag=tag, url=url, review=done
    ), merged_now


def close_review(api: HfApi, state: RunState, reason: str) -> Published:
    """Close the run's review pull request, saying why (a closed one stays closed).

    Raises:
        [`UserError`]: no reason, the run was not published for review, or its pull
            request was merged already.
    """
    if not reason.strip():
        raise UserError("--close: give the reason the pull request is closed")
    published, review = _reviewed(state)
    if review.status == "merged":
        raise UserError(f"{review.url}: the pull request is merged; nothing to close")
    details = api.get_discussion_details(published.repo_id, review.num)
    if details.status == "open":
        api.change_discussion_status(published.repo_id, review.num, "closed", comment=reason)
    closed = review.model_copy(update={"status": "closed", "reason": reason.strip()})
    return published.model_copy(update={"review": closed})


def _reviewed(state: RunState) -> tuple[Published, Review]:
    published = state.published
    if published is None or published.review is None:
        raise UserError(
            f"run {state.run_id}: not published for review (hub.review: pull-request, or "
            "`dexter-auto publish RUN --review`); nothing to merge or close"
        )
    return published, published.review


def _check_mergeable(
    api: HfApi, repo_id: str, review: Review, gates_passed: bool, force: str | None
) -> None:
    """Refuse a merge past failed gates without a reason, or after the branch moved."""
    if not gates_passed and not (force and force.strip()):
        raise PublishRefused(
            f'{review.url}: the run failed its gates; merge it only with --force "reason"'
        )
    refs = api.list_repo_refs(repo_id)
    head = {branch.name: branch.target_commit for branch in refs.branches}.get(review.branch)
    if head != review.base:
        raise UserError(
            f"{review.url}: {review.branch} moved since the pull request was opened (was "
            f"{review.base[:12]}, now {str(head)[:12]}), so its comparison is stale; publish "
            "the run again to open a new pull request against the branch as it is"
        )
