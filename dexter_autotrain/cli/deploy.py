"""`deploy`: serve a run's model where its spec says, or pause, resume or delete it."""

from __future__ import annotations

from pathlib import Path

import click

from dexter_autotrain import api
from dexter_autotrain.cli.console import hub_line, out, print_json
from dexter_autotrain.cli.options import json_option, runs_dir_option


@click.command()
@click.argument("run")
@click.option("--pause", "action", flag_value="pause", help="Stop the deployment, keep it.")
@click.option("--resume", "action", flag_value="resume", help="Start a paused deployment again.")
@click.option("--delete", "action", flag_value="delete", help="Delete the deployment.")
@runs_dir_option
@json_option("Print the deployment as JSON (errors too).")
def deploy(run: str, action: str | None, runs_dir: Path, as_json: bool) -> None:
    """Deploy a run's model as its spec's `deploy:` section says, then check it.

    `deploy.target: endpoint` creates or updates a Hugging Face Inference Endpoint serving
    the run's published commit (the same deploy again changes nothing; a new run's commit is
    an update), waits for it, and sends `deploy.parity_examples` evaluation examples through
    InferenceClient: if it does not start or its answers differ from the run's predictions
    more than `deploy.min_parity` allows, it goes back to the revision it served before (a
    new endpoint is deleted) and the command fails. `deploy.target: local` (the default)
    starts `dexter-auto serve` on this machine instead. Where it runs is recorded in the run
    and its card. $DEXTER_ENDPOINTS_URL points the Endpoints API elsewhere.

    Exit codes: 0 deployed, 1 it failed to start or to match (rolled back) or the API
    failed, 2 the run is not published (or not deployed, for --pause/--resume/--delete) or
    no usable token.

    \b
    Examples:
      dexter-auto deploy narrative
      dexter-auto deploy runs/narrative/20261125-001830-fc69 --pause
    """
    found = api.find_run(run, runs_dir)
    if action is None:
        deployment = api.deploy(found, report=hub_line)
    else:
        deployment = api.change_deployment(found, action, report=hub_line)  # type: ignore[arg-type]
    if as_json:
        record = deployment.to_json() if deployment else None
        print_json({"ok": True, "action": action or "deploy", "deployed": record})
        return
    if deployment is None:
        out.print(f"[green]✓[/green] deleted the deployment of {found.path}")
        return
    verb = {"pause": "paused", "resume": "resumed"}.get(action or "", "deployed")
    if not deployment.changed:
        verb = "already deployed, nothing changed:"
    revision = f"@{deployment.revision[:12]}" if deployment.revision else ""
    out.print(
        f"[green]✓[/green] {verb} {deployment.name}{revision} ({deployment.status}) "
        f"{deployment.url}"
    )
    if deployment.parity and deployment.changed:
        parity = deployment.parity
        out.print(f"  parity {parity.matching}/{parity.compared} with the run's predictions")
