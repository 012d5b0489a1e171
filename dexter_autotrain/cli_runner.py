"""`dexter-auto runner`: AutoTrain's own environment, installed on first use."""

from __future__ import annotations

import click

from dexter_autotrain.console import err, json_option, out, print_error, print_json
from dexter_autotrain.errors import RunnerInstallError
from dexter_autotrain.runner_env import RunnerEnv, default_runner, install


def ensure_runner() -> RunnerEnv:
    """The runner, installed first (with a progress display) if it is missing."""
    env = default_runner()
    if env.is_installed():
        return env
    log = env.root.with_name(env.root.name + ".install.log")
    try:
        with err.status("installing the AutoTrain runner (first use)") as status:
            install(env, lambda text: status.update(f"runner: {text}"), log)
    except RunnerInstallError as error:
        print_error("runner install failed", str(error))
        raise SystemExit(1) from None
    return env


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
    env = ensure_runner()
    record = env.describe()
    if as_json:
        print_json({"path": str(env.root), "installed": True, **record})
        return
    out.print(f"runner ready at {env.root} ({record['autotrain']}, {record['torch']})")


@runner.command("status")
@json_option()
def runner_status(as_json: bool) -> None:
    """Say whether the runner is installed, and with what."""
    env = default_runner()
    record = {"path": str(env.root), "installed": env.is_installed(), **env.describe()}
    if as_json:
        print_json(record)
    elif record["installed"]:
        out.print(f"installed at {env.root}: {record['autotrain']}, {record['torch']}")
    else:
        out.print(f"not installed (would be at {env.root}); run `dexter-auto runner install`")
        raise SystemExit(1)


@runner.command("path")
@json_option()
def runner_path(as_json: bool) -> None:
    """Print the runner's directory."""
    if as_json:
        print_json({"path": str(default_runner().root)})
    else:
        click.echo(default_runner().root)
