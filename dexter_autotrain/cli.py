"""`dexter-auto`: thin click commands over the toolkit's parts."""

from __future__ import annotations

import errno
import glob
import json
import os
import sys
from importlib import import_module
from pathlib import Path
from typing import Any

import click
from rich.markup import escape

from dexter_autotrain import __version__
from dexter_autotrain.console import (
    err,
    json_option,
    out,
    print_error,
    print_json,
    print_problems,
)
from dexter_autotrain.console import mode as console_mode
from dexter_autotrain.errors import Problem, ToolError, UserError
from dexter_autotrain.path_policy import printable
from dexter_autotrain.paths import write_atomically
from dexter_autotrain.tasks import TASKS

MODULE_COMMANDS = {
    "submit": "cli_runs",
    "evaluate": "cli_runs",
    "card": "cli_runs",
    "status": "cli_runs",
    "logs": "cli_runs",
    "cancel": "cli_runs",
    "publish": "cli_hub",
    "runs": "cli_compare",
    "runner": "cli_runner",
    "feedback": "cli_feedback",
    "deploy": "cli_deploy",
    "plan": "cli_plan",
    "serve": "cli_serve",
    "sweep": "cli_sweep",
}
"""The commands defined in modules of their own (`dexter_autotrain.<module>.<command>`),
imported when invoked (or listed by --help): a command starts without importing the rest."""


class _Group(click.Group):
    """Turns UserError into located messages (exit 2), ToolError into its message (exit 1),
    and anything unexpected into one line (exit 1); never a traceback unless DEXTER_DEBUG
    is set. With `--json`, all of these are JSON on stdout. Loads `MODULE_COMMANDS` lazily."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *MODULE_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in MODULE_COMMANDS and cmd_name not in self.commands:
            module = import_module(f"dexter_autotrain.{MODULE_COMMANDS[cmd_name]}")
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


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="dexter-auto")
def cli() -> None:
    """Declarative fine-tuning for Dexter on Hugging Face.

    Describe a model as a YAML job spec under jobs/, check it, and render the AutoTrain
    config it becomes.

    \b
    Examples:
      dexter-auto init text-classification narrative
      dexter-auto validate jobs/*.yaml
      dexter-auto render jobs/narrative.yaml -o runs/preview
      dexter-auto schema -o jobs/job-spec.schema.json
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


def _expand(patterns: tuple[str, ...]) -> list[Path | UserError]:
    """Each file a pattern names, or the problem of a pattern that names none."""
    paths: list[Path | UserError] = []
    for pattern in patterns:
        matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        if not matches:
            paths.append(
                UserError([Problem(pattern, None, None, "", "no file matches", "check the glob")])
            )
        paths += [Path(match) for match in matches]
    return paths


@cli.command()
@click.argument("paths", nargs=-1, required=True)
@json_option()
def validate(paths: tuple[str, ...], as_json: bool) -> None:
    """Check job specs and report every problem with its file and line.

    PATHS are spec files or globs; each is reported, valid or not. Files named _*.yaml are
    shared defaults: their keys and values are checked, but they may leave out required
    fields. Exit code 2 if any spec is invalid.

    \b
    Examples:
      dexter-auto validate jobs/narrative.yaml
      dexter-auto validate 'jobs/*.yaml' --json
    """
    results = [_validate_one(path) for path in _expand(paths)]
    valid = all(result["valid"] for result in results)
    if as_json:
        print_json({"ok": valid, "valid": valid, "specs": results})
    else:
        for result in results:
            print_problems([Problem(**p) for p in result["problems"]])
            out.print(_validate_line(result))
    if not valid:
        raise SystemExit(2)


def _validate_one(path: Path | UserError) -> dict[str, Any]:
    """One spec's verdict: its name, task, backend and hash, or its problems."""
    from dexter_autotrain.spec import check_partial, is_partial, load_spec

    if isinstance(path, UserError):
        problems = [p.to_dict() for p in path.problems]
        return {"path": problems[0]["file"], "partial": False, "valid": False, "problems": problems}
    result: dict[str, Any] = {"path": str(path), "partial": is_partial(path)}
    try:
        if is_partial(path):
            check_partial(path)
        else:
            loaded = load_spec(path)
            result |= {
                "name": loaded.spec.name,
                "task": loaded.spec.task,
                "backend": loaded.spec.compute.backend,
                "sha256": loaded.sha256,
            }
    except UserError as error:
        return result | {"valid": False, "problems": [p.to_dict() for p in error.problems]}
    return result | {"valid": True, "problems": []}


def _validate_line(result: dict[str, Any]) -> str:
    if not result["valid"]:
        count = len(result["problems"])
        shown = escape(printable(result["path"]))
        return f"[red]✗[/red] {shown}: {count} problem{'s' * (count != 1)}"
    if result["partial"]:
        return f"[green]✓[/green] {escape(printable(result['path']))}: shared defaults"
    return (
        f"[green]✓[/green] {escape(printable(result['path']))}: {result['name']} "
        f"({result['task']}, {result['backend']})"
    )


def _spec_and_output(output_help: str):
    """The SPEC argument and `-o DIR` option shared by commands that may write files."""

    def decorate(command):
        command = click.option(
            "-o",
            "--output",
            "output_dir",
            help=output_help,
            type=click.Path(file_okay=False, path_type=Path),
        )(command)
        return click.argument("path", type=click.Path(dir_okay=False, path_type=Path))(command)

    return decorate


@cli.command()
@_spec_and_output("Write autotrain.yml into this directory instead of printing it.")
@json_option("Print the config and its hash as JSON (errors too).")
def render(path: Path, output_dir: Path | None, as_json: bool) -> None:
    """Render a job spec into the AutoTrain config that trains it.

    The config follows autotrain-advanced 0.8.36's schema and expects to run from a run
    directory holding prepared splits in data/. The same spec always renders to the same
    bytes; the printed sha256 identifies the config.

    \b
    Examples:
      dexter-auto render jobs/narrative.yaml
      dexter-auto render jobs/actors.yaml -o runs/preview
    """
    from dexter_autotrain.render import CONFIG_FILE_NAME, render_config
    from dexter_autotrain.spec import load_spec

    loaded = load_spec(path)
    rendered = render_config(loaded.spec, path.parent)
    written = None
    if output_dir is not None:
        written = output_dir / CONFIG_FILE_NAME
        write_atomically(written, rendered.text)
    if as_json:
        print_json(
            {
                "path": str(written) if written else None,
                "sha256": rendered.sha256,
                "spec_sha256": loaded.sha256,
                "config": rendered.config,
            }
        )
    elif written:
        out.print(f"wrote {written} (sha256 {rendered.sha256})")
    else:
        click.echo(rendered.text, nl=False)


@cli.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the schema to this file instead of printing it.",
)
@json_option("With -o, print what was written as JSON (errors too).")
def schema(output: Path | None, as_json: bool) -> None:
    """Print the job spec's JSON Schema.

    Editors with yaml-language-server complete and check specs that start with
    `# yaml-language-server: $schema=./job-spec.schema.json`.

    \b
    Example:
      dexter-auto schema -o jobs/job-spec.schema.json
    """
    from dexter_autotrain.spec.schema import job_spec_schema_text

    text = job_spec_schema_text()
    if output is None:
        click.echo(text, nl=False)
    else:
        write_atomically(output, text)
        _report_written([output], as_json)


@cli.command()
@click.argument("task", type=click.Choice(list(TASKS)))
@click.argument("name")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("jobs"),
    show_default=True,
    help="Where to write the spec.",
)
@click.option("--force", is_flag=True, help="Overwrite an existing spec.")
@json_option("Print what was written as JSON (errors too).")
def init(task: str, name: str, directory: Path, force: bool, as_json: bool) -> None:
    """Write a commented job spec for TASK to DIR/NAME.yaml.

    \b
    Example:
      dexter-auto init token-classification actors-v2
    """
    from dexter_autotrain.scaffold import scaffold_spec
    from dexter_autotrain.spec.schema import SCHEMA_FILE_NAME, job_spec_schema_text

    target = directory / f"{name}.yaml"
    if target.exists() and not force:
        raise UserError(f"{target}: already exists (pick another name or pass --force)")
    text = scaffold_spec(task, name)
    write_atomically(target, text)
    written = [target]
    schema_file = directory / SCHEMA_FILE_NAME
    if not schema_file.exists():
        write_atomically(schema_file, job_spec_schema_text())
        written.append(schema_file)
    _report_written(written, as_json)
    if not as_json:
        out.print(f"next: edit it, then `dexter-auto validate {target}`")


def _report_written(paths: list[Path], as_json: bool) -> None:
    if as_json:
        print_json({"ok": True, "written": [str(path) for path in paths]})
    else:
        for path in paths:
            out.print(f"wrote {path}")


@cli.group()
def data() -> None:
    """Prepare and check a job's data without training."""


@data.command("check")
@_spec_and_output("Also write the prepared splits (data/) and data-report.json here.")
@json_option("Print the data report as JSON (errors too).")
def data_check(path: Path, output_dir: Path | None, as_json: bool) -> None:
    """Read, check, split and fingerprint the data of the job spec at PATH.

    Reports rows per split, language and label, overlaps between splits (exact and after
    normalising case, whitespace, URLs and @mentions), length statistics and sha256
    fingerprints of every input and output. Exit code 2 when the data has errors.

    \b
    Examples:
      dexter-auto data check jobs/narrative.yaml
      dexter-auto data check jobs/actors.yaml --json > report.json
      dexter-auto data check jobs/actors.yaml -o runs/actors-preview
    """
    from dexter_autotrain.data import prepare_data
    from dexter_autotrain.data.report_view import report_tables
    from dexter_autotrain.spec import load_spec

    loaded = load_spec(path)
    with err.status("preparing data") as status:
        report = prepare_data(
            loaded,
            output_dir / "data" if output_dir else None,
            progress=lambda text: status.update(text),
        )
    if output_dir is not None:
        write_atomically(
            output_dir / "data-report.json",
            json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n",
        )
    if as_json:
        print_json(report.to_dict())
        return
    for table in report_tables(report):
        out.print(table)
    for warning in report.warnings:
        err.print(f"[yellow]warning[/yellow] {escape(printable(warning))}")
