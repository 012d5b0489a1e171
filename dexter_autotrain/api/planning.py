"""What a job-spec change would do, for a pull request's reviewers: `plan` compares jobs/ and
templates/ with a git base; `post_plan_comment` posts it as the pull request's sticky
comment. Nothing is trained or downloaded.

Example:
    ```python
    >>> from dexter_autotrain import api
    >>> outcome = api.plan(base_ref="main")
    >>> outcome.valid, [job.name for job in outcome.plan.jobs]
    (True, ['narrative'])
    ```
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from dexter_autotrain.plan import Plan
    from dexter_autotrain.plan.github_comment import Posted

__all__ = ["PlanOutcome", "plan", "post_plan_comment"]


@dataclass(frozen=True)
class PlanOutcome:
    """A plan, rendered on demand with every secret the environment holds (the Hub token,
    `GITHUB_TOKEN`) replaced by `***`: a token pasted into a spec stays hidden.

    Attributes:
        plan: each job added, changed, removed, unchanged or invalid, and what it would do.
    """

    plan: Plan

    @property
    def valid(self) -> bool:
        """False when a spec is invalid (its problems are in every rendering)."""
        return self.plan.valid

    def render(self, output_format: Literal["text", "markdown", "json"]) -> str:
        """The plan for a terminal, a pull request comment, or a script (`plan --format`)."""
        from dexter_autotrain.hub.auth import find_token
        from dexter_autotrain.plan.github_comment import SECRET_VARIABLES, redact
        from dexter_autotrain.plan.markdown import to_markdown
        from dexter_autotrain.plan.text_view import to_text

        if output_format == "json":
            text = json.dumps(self.plan.to_dict(), indent=2, ensure_ascii=False) + "\n"
        else:
            text = (to_markdown if output_format == "markdown" else to_text)(self.plan)
        secrets = [find_token() or "", *(os.environ.get(name, "") for name in SECRET_VARIABLES)]
        return redact(text, secrets)


def plan(
    base_ref: str | None = None, directory: str | Path | None = None, *, data: bool = True
) -> PlanOutcome:
    """Compare the repository's jobs/ and templates/ with a git base and say what would
    change: the effective spec diff, the AutoTrain config diff, data sources added, removed
    or changed, what would run and the most it can cost, and a preview of the card.

    Args:
        base_ref: the git ref to compare with (default: the merge base with origin/main,
            else main).
        directory: inside the repository (default: the current directory).
        data: check that the local data of added and changed jobs resolves to files (a
            job whose data does not is invalid); False lists those jobs as unchecked.

    Raises:
        [`UserError`]: not a git repository, or no such ref.
    """
    from dexter_autotrain.hub.auth import find_token
    from dexter_autotrain.plan import base_side, make_plan, repository

    repo = repository(Path(directory or Path.cwd()))
    with base_side(repo, base_ref) as base:
        return PlanOutcome(make_plan(repo, base, find_token(), data))


def post_plan_comment(outcome: PlanOutcome, environ: Mapping[str, str] = os.environ) -> Posted:
    """Post the plan's Markdown as the pull request's sticky comment, or update it in place
    (GitHub Actions: `GITHUB_TOKEN`, `GITHUB_REPOSITORY`, `GITHUB_EVENT_PATH`;
    `GITHUB_API_URL` honoured).

    Returns:
        `Posted`: `created` or `updated`, the comment's address, and `target`, the pull
        request as `owner/name#number`.

    Raises:
        [`UserError`]: not in a `pull_request` run, or no token.
    """
    from dexter_autotrain.plan.github_comment import post_sticky, pull_request_from_env
    from dexter_autotrain.plan.markdown import MARKER

    pull = pull_request_from_env(environ)
    return post_sticky(outcome.render("markdown"), pull, MARKER, environ)
