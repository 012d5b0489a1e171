"""`publish`: a carded run onto the Hugging Face Hub."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.markup import escape

from dexter_autotrain import api
from dexter_autotrain.cli.console import err, hub_line, out, print_json
from dexter_autotrain.cli.options import json_option, runs_dir_option
from dexter_autotrain.errors import UserError

if TYPE_CHECKING:
    from dexter_autotrain.api.actions import Rollback
    from dexter_autotrain.hub.publish import PublishResult


@click.command()
@click.argument("run")
@click.option(
    "--force",
    metavar="REASON",
    help="Publish (or merge) although the run failed its gates; the reason goes into the "
    "card and the commit message or pull request.",
)
@click.option(
    "--review",
    "review",
    flag_value=True,
    default=None,
    help="Open a Hub pull request against hub.branch instead of committing (as hub.review: "
    "pull-request does); merge it after review with --merge.",
)
@click.option("--merge", is_flag=True, help="Merge the run's reviewed pull request, then tag it.")
@click.option("--close", "close_reason", metavar="REASON", help="Close the run's pull request.")
@click.option(
    "--rollback",
    "rollback_tag",
    metavar="TAG",
    help="Put the job's branch back to the files of this released tag in one commit, tag it, "
    "and deploy that release again where the job deploys (RUN: any run of the job).",
)
@runs_dir_option
@json_option("Print where the run was published as JSON (errors too).")
def publish(
    run: str,
    force: str | None,
    review: bool | None,
    merge: bool,
    close_reason: str | None,
    rollback_tag: str | None,
    runs_dir: Path,
    as_json: bool,
) -> None:
    """Publish a carded run to the Hub: one commit on hub.branch (model, card, evaluation,
    plots, spec, data report), tagged hub.tag, recorded in the run. With review (--review,
    or hub.review: pull-request in the spec) it is opened as a Hub pull request instead,
    whose description holds the gates, the comparison with the model on the branch and the
    data fingerprints; `--merge` merges it (refused when the branch moved since) and tags
    the merged commit, `--close REASON` closes it.

    The token comes from HF_TOKEN or `hf auth login`. Publishing the same run again uploads
    nothing and reports the existing commit (or pull request). Exit codes: 0 published, 1 the
    Hub kept failing (nothing half-published), 2 bad input or no usable token, 3 the gates
    failed (use --force).

    \b
    Examples:
      dexter-auto publish narrative
      dexter-auto publish narrative --review
      dexter-auto publish narrative --merge
      dexter-auto publish narrative --close "superseded by the next run"
      dexter-auto publish narrative --rollback narrative-20261125-001830-fc69
      dexter-auto publish runs/narrative/20261125-001830-fc69 --force "reviewed by the ML lead"
    """
    if sum((bool(review), merge, close_reason is not None, rollback_tag is not None)) > 1:
        raise UserError("give one of --review, --merge, --close and --rollback")
    found = api.find_run(run, runs_dir)
    if rollback_tag is not None:
        _print_rollback(api.rollback(found, rollback_tag, force, report=hub_line), as_json)
        return
    if merge:
        result = api.merge_published(found, force=force, report=hub_line)
    elif close_reason is not None:
        result = api.close_published(found, close_reason, report=hub_line)
    else:
        tracked = lambda line: err.print(escape(line))  # noqa: E731
        result = api.publish(found, force=force, report=hub_line, tracked=tracked, review=review)
    if as_json:
        print_json({"ok": True, **result.record(), "new_commit": result.new_commit})
        return
    _print_result(result)


def _print_rollback(done: Rollback, as_json: bool) -> None:
    rolled = done.rolled_back
    deployed = done.redeployed
    if as_json:
        shown = {k: getattr(rolled, k) for k in ("repo_id", "branch", "restored", "commit", "tag")}
        redeployed = deployed.to_json() if deployed else None
        print_json(
            {"ok": True, **shown, "new_commit": rolled.new_commit}
            | {"redeployed": redeployed, "note": done.note}
        )
        return
    verb = "rolled back" if rolled.new_commit else "already at the files of"
    tag = f" (tag {rolled.tag})" if rolled.tag else ""
    out.print(
        f"[green]✓[/green] {verb} {rolled.repo_id}@{rolled.branch} to {rolled.restored}: "
        f"{rolled.commit[:12]}{tag}"
    )
    out.print(f"  redeployed: {deployed.name} at {deployed.url}" if deployed else f"  {done.note}")


def _print_result(result: PublishResult) -> None:
    review = result.published.review
    tag = f" (tag {result.tag})" if result.tag else ""
    if review is not None and review.status != "merged":
        verb = {"open": "opened for review", "closed": "closed"}[review.status]
        verb = verb if result.new_commit else f"already {verb}:"
        out.print(f"[green]✓[/green] {verb} {result.repo_id} pull request #{review.num}")
    else:
        verb = "merged" if review is not None else "published"
        unchanged = "nothing changed" if review is not None else "nothing uploaded"
        verb = verb if result.new_commit else f"already {verb}, {unchanged}:"
        out.print(f"[green]✓[/green] {verb} {result.repo_id}@{result.commit[:12]}{tag}")
    out.print(f"  {result.url}")
