"""`dexter-auto plan`: what a job-spec change would do, for a pull request's reviewers."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from dexter_autotrain.console import err


@click.command()
@click.option(
    "--base",
    "base_ref",
    help="Git ref to compare with (default: the merge base with origin/main, else main).",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "markdown", "json"]),
    default="text",
    show_default=True,
    help="How to print the plan.",
)
@click.option(
    "--comment",
    is_flag=True,
    help="Also post the Markdown as the pull request's sticky comment (GitHub Actions: "
    "GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_EVENT_PATH; GITHUB_API_URL honoured).",
)
def plan(base_ref: str | None, output_format: str, comment: bool) -> None:
    """Compare jobs/ and templates/ with a git base, and show what would change.

    Each job is added, changed, removed, unchanged or invalid. For added and changed jobs:
    the effective spec diff (after extends: and defaults), the AutoTrain config diff, data
    sources added, removed or changed (sha256 of changed files), what would run and the
    most it can cost, and a preview of the card. Nothing is trained or downloaded; exit
    code 2 when a spec is invalid (the problems are in every format).

    \b
    Examples:
      dexter-auto plan
      dexter-auto plan --base main --format markdown > plan.md
      dexter-auto plan --format json | jq -c .to_run
      dexter-auto plan --format markdown --comment   # in a pull_request workflow
    """
    from dexter_autotrain.github_comment import (
        SECRET_VARIABLES,
        post_sticky,
        pull_request_from_env,
        redact,
    )
    from dexter_autotrain.hub.auth import find_token
    from dexter_autotrain.plan import base_side, make_plan, repository
    from dexter_autotrain.plan.markdown import MARKER, to_markdown
    from dexter_autotrain.plan.text_view import to_text

    repo, token = repository(Path.cwd()), find_token()
    with base_side(repo, base_ref) as base:
        result = make_plan(repo, base, token)
    markdown = to_markdown(result)
    if output_format == "json":
        shown = json.dumps(result.to_dict(), indent=2, ensure_ascii=False) + "\n"
    else:
        shown = markdown if output_format == "markdown" else to_text(result)
    secrets = [token or "", *(os.environ.get(name, "") for name in SECRET_VARIABLES)]
    click.echo(redact(shown, secrets), nl=False)  # a token pasted into a spec stays hidden
    if comment:
        pull = pull_request_from_env(os.environ)
        posted = post_sticky(redact(markdown, secrets), pull, MARKER, os.environ)
        err.print(f"{posted.action} the plan comment on {pull.repository}#{pull.number}")
    if not result.valid:
        raise SystemExit(2)
