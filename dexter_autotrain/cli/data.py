"""`data check`: a job's data read, checked, split and fingerprinted, without training."""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape

from dexter_autotrain import api
from dexter_autotrain.cli.console import err, out, print_json
from dexter_autotrain.cli.data_view import report_tables
from dexter_autotrain.cli.options import json_option, spec_and_output


@click.group()
def data() -> None:
    """Prepare and check a job's data without training."""


@data.command("check")
@spec_and_output("Also write the prepared splits (data/) and data-report.json here.")
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
    with err.status("preparing data") as status:
        report = api.check_data(path, output_dir, progress=lambda text: status.update(text))
    if as_json:
        print_json(report.to_dict())
        return
    for table in report_tables(report):
        out.print(table)
    for warning in report.warnings:
        err.print(f"[yellow]warning[/yellow] {escape(api.printable(warning))}")
