"""`publish`: a carded run onto the Hugging Face Hub."""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape

from dexter_autotrain import api
from dexter_autotrain.cli.console import err, hub_line, out, print_json
from dexter_autotrain.cli.options import json_option, runs_dir_option


@click.command()
@click.argument("run")
@click.option(
    "--force",
    metavar="REASON",
    help="Publish although the run failed its gates; the reason goes into the card and the "
    "commit message.",
)
@runs_dir_option
@json_option("Print where the run was published as JSON (errors too).")
def publish(run: str, force: str | None, runs_dir: Path, as_json: bool) -> None:
    """Publish a carded run to the Hub: one commit on hub.branch (model, card, evaluation,
    plots, spec, data report), tagged hub.tag, recorded in the run.

    The token comes from HF_TOKEN or `hf auth login`. Publishing the same run again uploads
    nothing and reports the existing commit. Exit codes: 0 published, 1 the Hub kept failing
    (nothing half-published), 2 bad input or no usable token, 3 the gates failed (use --force).

    \b
    Examples:
      dexter-auto publish narrative
      dexter-auto publish runs/narrative/20261125-001830-fc69 --force "reviewed by the ML lead"
    """
    found = api.find_run(run, runs_dir)
    result = api.publish(
        found, force=force, report=hub_line, tracked=lambda line: err.print(escape(line))
    )
    if as_json:
        print_json({"ok": True, **result.record(), "new_commit": result.new_commit})
        return
    verb = "published" if result.new_commit else "already published, nothing uploaded:"
    tag = f" (tag {result.tag})" if result.tag else ""
    out.print(f"[green]✓[/green] {verb} {result.repo_id}@{result.commit[:12]}{tag}")
    out.print(f"  {result.url}")
