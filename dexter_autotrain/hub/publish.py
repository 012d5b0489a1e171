"""`publish_run`: a carded run to the Hub as one tagged commit, recorded in the run.

Order: local refusals (not carded, smoke, no `hub.repo_id`, failed gates without `--force`),
then the token and `whoami`, then the repo, the commit, and last the tag. Publishing a run
again finds its tag (or the branch head) already holding its files and uploads nothing.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dexter_autotrain.cards.tags import release_tag
from dexter_autotrain.errors import (
    HubUnavailable,
    PublishRefused,
    ToolError,
    UserError,
)
from dexter_autotrain.hub.auth import check_write_access, require_token
from dexter_autotrain.hub.commit import Committed, Target, commit_release, ensure_repo
from dexter_autotrain.hub.failures import hub_failures
from dexter_autotrain.hub.release import (
    CARD,
    Source,
    holds_exactly,
    release_files,
    remote_files,
)
from dexter_autotrain.hub.retry import (
    DEFAULT_POLICY,
    Report,
    RetryPolicy,
    reported_retries,
    with_retries,
)
from dexter_autotrain.hub.review import close_review, merge_review, open_review
from dexter_autotrain.policy.licenses import license_conflicts
from dexter_autotrain.record import Published, RunState
from dexter_autotrain.runs import Run
from dexter_autotrain.spec import JobSpec

if TYPE_CHECKING:
    from huggingface_hub import HfApi


@dataclass(frozen=True)
class PublishResult:
    """Where a run was published.

    Attributes:
        published: what the run's state keeps under `published`: the repo, the commit
            holding the run's files, its tag (None when `hub.tag` is null, or while a review
            pull request is open), its page on the Hub, and the review pull request if any.
        new_commit: False when the run was already there (nothing uploaded or changed).
    """

    published: Published
    new_commit: bool

    @property
    def repo_id(self) -> str:
        return self.published.repo_id

    @property
    def commit(self) -> str:
        return self.published.commit

    @property
    def tag(self) -> str | None:
        return self.published.tag

    @property
    def url(self) -> str:
        return self.published.url

    def record(self) -> dict[str, Any]:
        """What the run's state keeps under `published`, as JSON."""
        return self.published.to_json()


def check_publishable(run: Run, state: RunState, spec: JobSpec, force: str | None) -> None:
    """Refuse, without touching the network, a run that must not be published.

    Raises:
        [`UserError`]: the run has no card yet, is a smoke run, its spec has no
            `hub.repo_id`, or `--force` was given with nothing to force (exit code 2).
        [`PublishRefused`]: its gates failed, or a data source's licence does not allow
            publishing the model (`policy.licenses`), and no `--force` reason was given
            (exit code 3).
    """
    where = f"{run.path}: "
    if "card" not in state.completed:
        raise UserError(
            where + f"the run has no card yet (state {state.state}); run `dexter-auto card "
            f"{run.path}` or `dexter-auto submit --resume {run.path}` first"
        )
    if state.smoke:
        raise UserError(where + "smoke runs are never published (their model is a tiny test)")
    if spec.hub.repo_id is None:
        raise UserError(where + "spec.yaml: hub.repo_id is not set; nowhere to publish")
    passed = state.verdict().gates_passed
    conflicts = license_conflicts(spec)
    if force is not None and (not force.strip() or (passed and not conflicts)):
        raise UserError(
            "--force: give the reason for publishing past failed gates or a data licence"
            if not force.strip()
            else "--force: the gates passed and the data licences allow publishing; "
            "there is nothing to force"
        )
    if force is not None:
        return
    if not passed:
        raise PublishRefused(
            where + "the run failed its gates (see evaluation.md); publish it anyway only with "
            '--force "reason", which goes into the card and the commit message'
        )
    if conflicts:
        raise PublishRefused(
            where
            + "the data's licence does not allow publishing this model: "
            + "; ".join(conflicts)
            + '; publish it anyway only with --force "reason", which goes into the card'
        )


def publish_run(
    run: Run,
    *,
    force: str | None = None,
    review: bool | None = None,
    report: Report = lambda line: None,
    policy: RetryPolicy = DEFAULT_POLICY,
) -> PublishResult:
    """Publish a carded run to `hub.repo_id` as one commit on `hub.branch`, tagged `hub.tag`,
    or for review: as a pull request against the branch (`merge_published` merges and tags).

    Args:
        run (`Run`):
            The run; its stages up to `card` must be complete.
        force (`str`, *optional*):
            Publish although the gates failed; the reason goes into the card and the
            commit message (or the pull request's description).
        review (`bool`, *optional*):
            Open a Hub pull request instead of committing; default: the spec's `hub.review`.
        report (`Callable[[str], None]`, *optional*):
            Receives progress and one line per retry.
        policy (`RetryPolicy`, *optional*):
            Retries of the calls huggingface_hub does not retry itself.

    Returns:
        `PublishResult`: also recorded in the run's state as `published` (the stage's
        completion is the pipeline's, or `actions.publish`'s when run on its own).

    Raises:
        [`UserError`] / [`PublishRefused`]: see `check_publishable`.
        [`HubAccessError`]: no token, an invalid one, or no write access (exit code 2).
        [`HubUnavailable`]: the Hub kept failing; nothing was half-published.

    Example:
        ```python
        >>> result = publish_run(find_run("narrative"), report=print)
        >>> result.tag
        'narrative-20261125-001830-fc69'
        ```
    """
    from huggingface_hub import HfApi

    state = run.state()
    spec = run.spec(state)
    check_publishable(run, state, spec, force)
    token = require_token()
    api = HfApi(token=token)
    repo_id, tag = str(spec.hub.repo_id), release_tag(spec, state)
    with (
        reported_retries(report),
        _progress_bars_on_terminals(),
        hub_failures(token, repo_id, "nothing was published"),
    ):
        check_write_access(api, repo_id.split("/")[0], report, policy)
        if force is not None:
            state = _card_with_reason(run, state, spec, " ".join(force.split()))
        files = release_files(run.path, run.model_folder(state).name)
        if review if review is not None else spec.hub.review == "pull-request":
            published, new = open_review(api, run, state, files, report, policy)
        else:
            published, new = _publish_on_branch(api, state, spec, files, tag, report, policy)
    if state.published and state.published.commit == published.commit:  # published again
        published = published.model_copy(update={"card_commit": state.published.card_commit})
    result = PublishResult(published, new)
    run.update(published=result.record())
    return result


def merge_published(
    run: Run, *, force: str | None = None, report: Report = lambda line: None
) -> PublishResult:
    """Merge the run's review pull request (the Hub's merge) and tag the merged commit.

    Raises:
        [`UserError`]: not published for review, the pull request was closed, or the branch
            moved since it was opened.
        [`PublishRefused`]: failed gates without a `--force` reason.
        [`HubAccessError`] / [`HubUnavailable`]: as `publish_run`.
    """
    from huggingface_hub import HfApi

    state = run.state()
    spec = run.spec(state)
    token = require_token()
    repo_id = str(spec.hub.repo_id)
    with reported_retries(report), hub_failures(token, repo_id, "nothing was merged"):
        api = HfApi(token=token)
        published, merged = merge_review(api, state, release_tag(spec, state), force, report)
    result = PublishResult(published, merged)
    run.update(published=result.record())
    _card_after_merge(run, report)
    return result


def _card_after_merge(run: Run, report: Report) -> None:
    """The card again, its usage snippet now pinning the tag, onto the merged branch."""
    from dexter_autotrain.cards.write import write_card
    from dexter_autotrain.hub.card_update import push_card

    state = run.state()
    write_card(run.path, run.spec(state), run.spec_folder(state), None, state.smoke)
    push_card(run, report)


def close_published(run: Run, reason: str, report: Report = lambda line: None) -> PublishResult:
    """Close the run's review pull request with `reason` (recorded in the run).

    Raises:
        [`UserError`]: no reason, not published for review, or already merged.
    """
    from huggingface_hub import HfApi

    state = run.state()
    token = require_token()
    repo_id = str(run.spec(state).hub.repo_id)
    with reported_retries(report), hub_failures(token, repo_id, "nothing was closed"):
        published = close_review(HfApi(token=token), state, reason)
    result = PublishResult(published, True)
    run.update(published=result.record())
    return result


def _publish_on_branch(
    api: HfApi,
    state: RunState,
    spec: JobSpec,
    files: dict[str, Source],
    tag: str | None,
    report: Report,
    policy: RetryPolicy,
) -> tuple[Published, bool]:
    """One tagged commit on `hub.branch`, or the one the run's tag already names."""
    repo_id = str(spec.hub.repo_id)
    committed = _already_tagged(api, repo_id, tag, files, report, policy)
    if committed is None:
        message = commit_message(state, spec)
        committed = _commit_and_tag(api, spec, files, message, tag, report, policy)
    url = f"{api.endpoint}/{repo_id}/commit/{committed.oid}"
    published = Published(repo_id=repo_id, commit=committed.oid, tag=tag, url=url)
    return published, committed.new


def commit_message(state: RunState, spec: JobSpec) -> tuple[str, str]:
    """The commit's summary (the run and its primary metric, and a `--force` reason) and
    description."""
    evaluation = state.verdict()
    summary = (
        f"{spec.name} run {state.run_id}: {evaluation.primary_metric} "
        f"{evaluation.value:.4f} on {evaluation.split}"
    )
    if state.forced:
        summary += f" (gates failed; published with --force: {state.forced.reason})"
    gates = "passed" if evaluation.gates_passed else "FAILED"
    return summary, f"Published by dexter-auto from run {state.run_id}; gates {gates}."


def _card_with_reason(run: Run, state: RunState, spec: JobSpec, reason: str) -> RunState:
    """Record the `--force` reason and write the card again, so the card states it; the run's
    state with the reason."""
    from dexter_autotrain.cards.write import write_card

    forced = run.update(forced={"reason": reason})
    write_card(run.path, spec, run.spec_folder(state), None, False)
    return forced


def _already_tagged(
    api: HfApi,
    repo_id: str,
    tag: str | None,
    files: dict[str, Source],
    report: Report,
    policy: RetryPolicy,
) -> Committed | None:
    """The commit the run's tag names, when the run was published before (None otherwise)."""
    from huggingface_hub.errors import RepositoryNotFoundError

    if tag is None:
        return None
    try:
        tagged = _tag_target(api, repo_id, tag, report, policy)
    except RepositoryNotFoundError:
        return None
    if tagged is None:
        return None
    remote = remote_files(api, repo_id, tagged)
    if not holds_exactly(_without_card(remote), _without_card(files)):
        raise ToolError(
            f"{repo_id}: the tag `{tag}` already names commit {tagged[:12]}, which holds "
            "other files; delete that tag or set another hub.tag"
        )
    if not holds_exactly(remote, files):
        report(
            f"publish: the card changed since `{tag}` was published (a deploy records where "
            "the model is served in it); the tag keeps the card it was published with"
        )
    return Committed(tagged, False)


def _without_card(files: dict[str, Any]) -> dict[str, Any]:
    """`files` less the model card, the one file later stages (`deploy`) write again."""
    return {path: source for path, source in files.items() if path != CARD}


def _commit_and_tag(
    api: HfApi,
    spec: JobSpec,
    files: dict[str, Source],
    message: tuple[str, str],
    tag: str | None,
    report: Report,
    policy: RetryPolicy,
) -> Committed:
    """Create the repo if needed, commit, then (only then) tag the commit."""
    repo_id = str(spec.hub.repo_id)
    ensure_repo(api, repo_id, spec.hub.private, report, policy)
    committed = commit_release(
        api, Target(repo_id, spec.hub.branch), files, message, report, policy
    )
    if tag is None:
        return committed
    try:
        with_retries(
            lambda: api.create_tag(repo_id, tag=tag, revision=committed.oid, exist_ok=True),
            f"tag {tag}",
            report,
            policy,
        )
    except HubUnavailable as error:
        raise HubUnavailable(
            f"{error}; commit {committed.oid[:12]} is on {spec.hub.branch} but not tagged yet: "
            "publish again to tag it"
        ) from None
    if _tag_target(api, repo_id, tag, report, policy) != committed.oid:
        raise ToolError(f"{repo_id}: the tag `{tag}` already names another commit")
    return committed


def _tag_target(
    api: HfApi, repo_id: str, tag: str, report: Report, policy: RetryPolicy
) -> str | None:
    """The commit `tag` names in the repo, or None when there is no such tag."""
    refs = with_retries(lambda: api.list_repo_refs(repo_id), "list refs", report, policy)
    return {ref.name: ref.target_commit for ref in refs.tags}.get(tag)


@contextmanager
def _progress_bars_on_terminals() -> Iterator[None]:
    """huggingface_hub's upload bars help on a terminal; in a log they are noise."""
    from huggingface_hub.utils import (
        are_progress_bars_disabled,
        disable_progress_bars,
        enable_progress_bars,
    )

    was_disabled = are_progress_bars_disabled()
    if not sys.stderr.isatty():
        disable_progress_bars()
    try:
        yield
    finally:
        if not was_disabled:
            enable_progress_bars()
