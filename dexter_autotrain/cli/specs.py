"""`validate`, `render`, `schema`, `init`: job specs, before anything runs."""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape

from dexter_autotrain import api
from dexter_autotrain.cli.console import out, print_json, print_problems
from dexter_autotrain.cli.options import json_option, spec_and_output


@click.command()
@click.argument("paths", nargs=-1, required=True)
@click.option(
    "--no-data",
    is_flag=True,
    help="Skip checking that each local data source resolves to files (for a machine "
    "that cannot reach the data, such as a pull request's runner).",
)
@json_option()
def validate(paths: tuple[str, ...], no_data: bool, as_json: bool) -> None:
    """Check job specs and report every problem with its file and line.

    PATHS are spec files, globs or job names (narrative: jobs/narrative.yaml at the
    project's top); each is reported, valid or not. Every local data source must resolve
    to readable files (nothing is read; a missing one gets a did-you-mean). Files named
    _*.yaml are shared defaults: their keys and values are checked, but they may leave out
    required fields. Exit code 2 if any spec is invalid.

    \b
    Examples:
      dexter-auto validate jobs/narrative.yaml
      dexter-auto validate 'jobs/*.yaml' --json
      dexter-auto validate narrative --no-data
    """
    checks = api.validate(paths, data=not no_data)
    valid = all(check.valid for check in checks)
    if as_json:
        print_json({"ok": valid, "valid": valid, "specs": [c.to_json() for c in checks]})
    else:
        for check in checks:
            print_problems(check.problems)
            out.print(_verdict_line(check))
    if not valid:
        raise SystemExit(2)


def _verdict_line(check: api.SpecCheck) -> str:
    shown = escape(api.printable(check.path))
    if not check.valid:
        count = len(check.problems)
        return f"[red]✗[/red] {shown}: {count} problem{'s' * (count != 1)}"
    if check.partial:
        return f"[green]✓[/green] {shown}: shared defaults"
    return f"[green]✓[/green] {shown}: {check.name} ({check.task}, {check.backend})"


@click.command()
@spec_and_output("Write autotrain.yml into this directory instead of printing it.")
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
    rendered = api.render(path, output_dir)
    written = rendered.written
    if as_json:
        print_json(
            {
                "path": str(written) if written else None,
                "sha256": rendered.sha256,
                "spec_sha256": rendered.spec_sha256,
                "config": rendered.config,
            }
        )
    elif written:
        out.print(f"wrote {written} (sha256 {rendered.sha256})")
    else:
        click.echo(rendered.text, nl=False)


@click.command()
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
    text = api.job_spec_schema(output)
    if output is None:
        click.echo(text, nl=False)
    else:
        _report_written([output], as_json)


@click.command()
@click.argument("task")
@click.argument("name")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=lambda: api.project_path("jobs"),
    show_default="jobs/ at the project's top (the nearest folder with jobs/)",
    help="Where to write the spec.",
)
@click.option("--force", is_flag=True, help="Overwrite an existing spec.")
@json_option("Print what was written as JSON (errors too).")
def init(task: str, name: str, directory: Path, force: bool, as_json: bool) -> None:
    """Write a commented job spec for TASK to DIR/NAME.yaml.

    TASK is text-classification, token-classification or image-classification.

    \b
    Example:
      dexter-auto init token-classification actors-v2
    """
    written = api.init_spec(task, name, directory, force)
    _report_written(written, as_json)
    if not as_json:
        out.print(f"next: edit it, then `dexter-auto validate {written[0]}`")


def _report_written(paths: list[Path], as_json: bool) -> None:
    if as_json:
        print_json({"ok": True, "written": [str(path) for path in paths]})
    else:
        for path in paths:
            out.print(f"wrote {path}")
