"""Pull a published model back from the Hub, pinned to one commit.

Used by the `min_lift_over_published` gate (the model now at `hub.branch`) and by
`dexter-auto evaluate hub:ORG/NAME@REV`. A revision (branch, tag or commit) is resolved to
its commit first and the download pinned to that commit, so what was scored is exactly what
the report names, even if the branch moves meanwhile.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dexter_autotrain.errors import HubAccessError, UserError
from dexter_autotrain.hub.auth import LOGIN_HINT, find_token
from dexter_autotrain.hub.failures import hub_failures
from dexter_autotrain.hub.retry import (
    DEFAULT_POLICY,
    Report,
    RetryPolicy,
    reported_retries,
    with_retries,
)
from dexter_autotrain.linear import LINEAR_WEIGHTS
from dexter_autotrain.policy.spec_paths import printable
from dexter_autotrain.report_record import REPORT_FILE
from dexter_autotrain.training.model_files import MODEL_FILES, MODEL_PATTERNS, refuse_custom_code

if TYPE_CHECKING:
    from huggingface_hub import HfApi

HUB_PREFIX = "hub:"
PULLED_FILES = (*MODEL_FILES, *MODEL_PATTERNS, *LINEAR_WEIGHTS, "spec.yaml", REPORT_FILE)
"""The model, and the spec and evaluation it was published with; not the card or plots, and
never Python (a linear model's `handler.py` is for use without the toolkit)."""
_REFERENCE = re.compile(r"^hub:([A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*)(?:@([\w./-]+))?$")


@dataclass(frozen=True)
class HubModelRef:
    """A published model named on the command line: `hub:ORG/NAME[@REV]`.

    Attributes:
        repo_id: `ORG/NAME`.
        revision: a branch, tag or commit (default `main`).
    """

    repo_id: str
    revision: str = "main"

    @classmethod
    def parse(cls, text: str) -> HubModelRef:
        """Read `hub:ORG/NAME[@REV]`.

        Raises:
            [`UserError`]: the text is not of that form.

        Example:
            ```python
            >>> HubModelRef.parse("hub:dexter-ng/narrative@narrative-20261126-101500-ab12")
            HubModelRef(repo_id='dexter-ng/narrative', revision='narrative-20261126-101500-ab12')
            ```
        """
        match = _REFERENCE.match(text)
        if match is None:
            raise UserError(
                f"{printable(text)}: not a published model; write hub:ORG/NAME or "
                "hub:ORG/NAME@REVISION (a branch, tag or commit)"
            )
        return cls(match[1], match[2] or "main")

    def __str__(self) -> str:
        return f"{HUB_PREFIX}{self.repo_id}@{self.revision}"


@dataclass(frozen=True)
class PulledModel:
    """A published model on local disk.

    Attributes:
        ref: what was asked for.
        commit: the commit the revision named, which the files were downloaded at.
        path: the folder holding the model files (and its `spec.yaml`, `evaluation.json`).
    """

    ref: HubModelRef
    commit: str
    path: Path


def published_commit(
    ref: HubModelRef, report: Report, policy: RetryPolicy = DEFAULT_POLICY
) -> str | None:
    """The commit `ref.revision` names, or None when the repo or revision does not exist yet.

    Raises:
        [`HubAccessError`]: there is no token to tell a private repo from a missing one, or
            the token may not read the repo (exit code 2).
        [`HubUnavailable`] / [`ToolError`]: the Hub kept failing.
    """
    return resolved_commit(ref.repo_id, ref.revision, "model", report, policy)


def resolved_commit(
    repo_id: str,
    revision: str | None,
    repo_type: str,
    report: Report,
    policy: RetryPolicy = DEFAULT_POLICY,
) -> str | None:
    """The commit `revision` (None: the default branch) names in a model or dataset repo,
    or None when the repo or revision does not exist; raises as `published_commit`."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import RepositoryNotFoundError, RevisionNotFoundError

    token = find_token()
    api = HfApi(token=token)
    with reported_retries(report), hub_failures(token, repo_id, "nothing was downloaded"):
        try:
            info = with_retries(
                lambda: api.repo_info(repo_id, revision=revision, repo_type=repo_type),
                f"read {repo_id}@{revision or 'main'}",
                report,
                policy,
            )
        except RevisionNotFoundError:
            return None
        except RepositoryNotFoundError:
            if token is None:  # the Hub answers a private repo's 401 the same way
                raise HubAccessError(
                    f"{repo_id}: not found, or private and no token to read it ({LOGIN_HINT})"
                ) from None
            return None
    return info.sha


def pull_model(
    ref: HubModelRef, commit: str, dest_root: Path, report: Report, api: HfApi | None = None
) -> PulledModel:
    """Download the model files of `ref.repo_id` at `commit` into `dest_root/<name>-<commit>`.

    A folder already pulled at that commit is reused (its files are checked by the client).

    Raises:
        [`HubAccessError`] / [`HubUnavailable`] / [`ToolError`]: as `published_commit`.

    Example:
        ```python
        >>> ref = HubModelRef.parse("hub:dexter-ng/narrative@main")
        >>> pulled = pull_model(ref, published_commit(ref, print), Path("runs/x/compare"), print)
        >>> (pulled.path / "config.json").is_file()
        True
        ```
    """
    from huggingface_hub import snapshot_download

    token = find_token()
    folder = dest_root / f"{ref.repo_id.split('/')[1]}-{commit[:12]}"
    with reported_retries(report), hub_failures(token, ref.repo_id, "nothing was downloaded"):
        snapshot_download(
            ref.repo_id,
            revision=commit,
            local_dir=folder,
            allow_patterns=list(PULLED_FILES),
            token=token,
        )
    if not (folder / "config.json").is_file():
        raise UserError(f"{ref} (commit {commit[:12]}): holds no model (no config.json)")
    refuse_custom_code(folder, str(ref), f"commit {commit[:12]}")
    return PulledModel(ref, commit, folder)
