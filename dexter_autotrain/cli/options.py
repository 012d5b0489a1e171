"""The options several commands share, defined once (`--runs-dir`, `--cards-dir`,
`--backend`, a spec with `-o DIR`), and `--json` from `console`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from dexter_autotrain import api
from dexter_autotrain.cli.console import json_option

__all__ = [
    "backend_option",
    "cards_dir_option",
    "json_option",
    "runs_dir_option",
    "spec_and_output",
]

Command = TypeVar("Command", bound=Callable[..., Any])

runs_dir_option = click.option(
    "--runs-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=lambda: api.project_path("runs"),
    envvar="DEXTER_RUNS_DIR",
    show_default="runs/ at the project's top (the nearest folder with jobs/)",
    help="Where run directories live [env var: DEXTER_RUNS_DIR].",
)

cards_dir_option = click.option(
    "--cards-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=lambda: api.project_path("model_cards"),
    show_default="model_cards/ at the project's top",
    help="Where the reviewed copy of each job's card is written (not for smoke runs).",
)


def backend_option(what: str) -> Callable[[Command], Command]:
    """`--backend` for a new `what` (a run, a sweep); a resumed one keeps its own (the
    choices load the spec model: only the commands that take it pay for that)."""
    return click.option(
        "--backend",
        "backend_name",
        type=click.Choice(api.backend_names()),
        help=f"Train on this backend instead of the spec's compute.backend (recorded; not "
        f"with --resume, which keeps the {what}'s). A remote backend gets compute.hardware, "
        "or cpu-basic.",
    )


def spec_and_output(output_help: str) -> Callable[[Command], Command]:
    """The SPEC argument and `-o DIR` option of commands that may write files."""

    def decorate(command: Command) -> Command:
        command = click.option(
            "-o",
            "--output",
            "output_dir",
            help=output_help,
            type=click.Path(file_okay=False, path_type=Path),
        )(command)
        return click.argument("path", type=click.Path(dir_okay=False, path_type=Path))(command)

    return decorate
