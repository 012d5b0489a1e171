"""`dexter-auto runner`: AutoTrain's own environment, installed on first use."""

from __future__ import annotations

import click

from dexter_autotrain import api
from dexter_autotrain.cli.console import err, out, print_error, print_json
from dexter_autotrain.cli.options import json_option
from dexter_autotrain.errors import RunnerInstallError


@click.group()
def runner() -> None:
    """Manage AutoTrain's own environment (autotrain-advanced 0.8.36 in its own venv).

    It is installed on first use; `install` does it ahead of time. Its location is
    $DEXTER_RUNNER_DIR, else ~/.cache/dexter-autotrain/. Its torch is pinned to the build the
    toolkit runs on; set DEXTER_RUNNER_TORCH (e.g. torch==2.13.0) to choose another.

    \b
    Examples:
      dexter-auto runner install
      dexter-auto runner status --json
    """


@runner.command("install")
@json_option()
def runner_install(as_json: bool) -> None:
    """Create the runner environment if it is missing (idempotent)."""
    try:
        with err.status("installing the AutoTrain runner (first use)") as status:
            installed = api.install_runner(lambda text: status.update(f"runner: {text}"))
    except RunnerInstallError as error:
        print_error("runner install failed", str(error))
        raise SystemExit(1) from None
    if as_json:
        print_json(installed.to_json())
        return
    versions = installed.installed_with
    out.print(f"runner ready at {installed.path} ({versions['autotrain']}, {versions['torch']})")


@runner.command("status")
@json_option()
def runner_status(as_json: bool) -> None:
    """Say whether the runner is installed, and with what."""
    found = api.runner_status()
    versions = found.installed_with
    if as_json:
        print_json(found.to_json())
    elif found.installed:
        out.print(f"installed at {found.path}: {versions['autotrain']}, {versions['torch']}")
    else:
        out.print(f"not installed (would be at {found.path}); run `dexter-auto runner install`")
        raise SystemExit(1)


@runner.command("path")
@json_option()
def runner_path(as_json: bool) -> None:
    """Print the runner's directory."""
    path = api.runner_status().path
    if as_json:
        print_json({"path": str(path)})
    else:
        click.echo(path)
