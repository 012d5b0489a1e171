"""`dexter-auto plan`: what a job-spec change would do, for a pull request's reviewers."""

from __future__ import annotations

import click

from dexter_autotrain import api
from dexter_autotrain.cli.console import err, json_option


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
@click.option(
    "--no-data",
    is_flag=True,
    help="Do not check that changed jobs' local data resolves to files (a runner that "
    "cannot reach it); the plan names those jobs as unchecked.",
)
@json_option("The plan as JSON (the same as --format json; errors as JSON too).")
def plan(
    base_ref: str | None, output_format: str, comment: bool, no_data: bool, as_json: bool
) -> None:
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
    output_format = "json" if as_json else output_format
    outcome = api.plan(base_ref, data=not no_data)
    click.echo(outcome.render(output_format), nl=False)  # secrets replaced
    if comment:
        posted = api.post_plan_comment(outcome)
        err.print(f"{posted.action} the plan comment on {posted.target}")
    if not outcome.valid:
        raise SystemExit(2)
