"""`dexter-auto`: thin click commands over the Python API (`dexter_autotrain.api`).

Each command module parses its arguments, calls one API function and renders what it
returns; an import contract forbids this package anything below the API but the ground
floor's records. The group imports a command's module only when the command is invoked.
"""

from __future__ import annotations

import errno
import os
import sys
from importlib import import_module
from typing import Any

import click

from dexter_autotrain import __version__
from dexter_autotrain.api import printable
from dexter_autotrain.cli.console import err, print_error, print_problems
from dexter_autotrain.cli.console import mode as console_mode
from dexter_autotrain.errors import Problem, ToolError, UserError

MODULE_COMMANDS = {
    "validate": "specs",
    "render": "specs",
    "schema": "specs",
    "init": "specs",
    "data": "data",
    "submit": "runs",
    "status": "runs",
    "logs": "runs",
    "cancel": "runs",
    "evaluate": "evaluate",
    "card": "evaluate",
    "runs": "compare",
    "runner": "runner",
    "publish": "publish",
    "deploy": "deploy",
    "serve": "serve",
    "predict": "predict",
    "sweep": "sweep",
    "plan": "plan",
    "feedback": "feedback",
}
"""Where each command is defined (`dexter_autotrain.cli.<module>.<command>`), imported when
invoked (or listed by --help): a command starts without importing the rest."""


class _Group(click.Group):
    """Turns UserError into located messages (exit 2), ToolError into its message (exit 1),
    and anything unexpected into one line (exit 1); never a traceback unless DEXTER_DEBUG
    is set. With `--json`, all of these are JSON on stdout. Loads `MODULE_COMMANDS` lazily."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(MODULE_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in MODULE_COMMANDS and cmd_name not in self.commands:
            module = import_module(f"dexter_autotrain.cli.{MODULE_COMMANDS[cmd_name]}")
            self.add_command(getattr(module, cmd_name))
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except UserError as error:
            print_problems(error.problems)
            ctx.exit(error.exit_code)
        except ToolError as error:
            print_error("error", str(error))
            ctx.exit(error.exit_code)
        except click.UsageError as error:
            if not console_mode.json:
                raise
            print_problems([Problem.about("", error.format_message())])
            ctx.exit(2)
        except (click.exceptions.Exit, click.Abort, SystemExit, KeyboardInterrupt):
            raise
        except Exception as error:
            if isinstance(error, OSError) and error.errno in _OS_HINTS:
                print_problems([_os_problem(error)])  # an output under a file, a full disk
                ctx.exit(2)
            if os.environ.get("DEXTER_DEBUG"):
                raise
            print_error(  # a bug: say so in one line, keep the details for DEBUG
                "internal error",
                f"{type(error).__name__}: {str(error)[:200]} (this is a bug in dexter-auto; "
                "rerun with DEXTER_DEBUG=1 for the traceback and report it)",
            )
            ctx.exit(1)


def _print_version(context: click.Context, _param: click.Parameter, value: bool) -> None:
    """The toolkit's version, then what trains: the AutoTrain runner's packages."""
    if not value or context.resilient_parsing:
        return
    from dexter_autotrain import api

    click.echo(f"dexter-auto, version {__version__}")
    runner = api.runner_status()
    if runner.installed:
        packages = ", ".join(f"{name} {version}" for name, version in runner.versions.items())
        click.echo(f"runner: {packages} ({runner.path})")
    else:
        click.echo("runner: not installed (`dexter-auto runner install`, or the first submit)")
    context.exit()


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    "-V",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the version, and the AutoTrain runner's packages (what trains).",
)
@click.option(
    "-q",
    "--quiet",
    is_flag=True,
    expose_value=False,
    callback=lambda _context, _param, quiet: setattr(err, "quiet", quiet),
    help="No progress or notes on stderr: only results, and errors.",
)
def cli() -> None:
    """Declarative fine-tuning for Dexter on Hugging Face.

    Describe a model as a YAML job spec under jobs/, check it, then submit it: data is
    prepared, AutoTrain trains, the model is evaluated against its gates, carded, published
    to the Hub and deployed, as the spec says.

    JOB is a job name (narrative: jobs/narrative.yaml at the project's top, the nearest
    folder above that holds jobs/) or a spec file; runs/ is found the same way, so every
    command works from any folder of the project. Settings come from the environment
    (HF_TOKEN, DEXTER_RUNS_DIR, ...: docs/environment.md) and, for where credentials may
    go and what a run may cost, from dexter-operator.yaml.

    \b
    Examples:
      dexter-auto init text-classification rumours
      dexter-auto validate 'jobs/*.yaml'
      dexter-auto submit --smoke narrative
      dexter-auto runs
      dexter-auto status narrative
      dexter-auto plan
      dexter-auto publish narrative --review
    """


_OS_HINTS = {
    errno.ENOTDIR: "a part of this path is a file: choose another folder",
    errno.EEXIST: "a part of this path is a file: choose another folder",
    errno.EROFS: "the file system is read-only: choose a writable folder",
    errno.EACCES: "choose a folder you may write to",
    errno.EPERM: "choose a folder you may write to",
    errno.ENOSPC: "the disk is full: free some space, or write elsewhere",
    errno.EDQUOT: "the disk quota is used up: free some space, or write elsewhere",
}


def _os_problem(error: OSError) -> Problem:
    """A file system refusal as one located line (nothing was written past it)."""
    where = printable(str(error.filename)) if error.filename is not None else ""
    reason = (error.strerror or type(error).__name__).lower()
    return Problem(where, None, None, "", reason, _OS_HINTS.get(error.errno or 0, ""))


def main() -> None:
    console_mode.json = "--json" in sys.argv[1:]  # usage errors come before option callbacks
    cli(prog_name="dexter-auto")
