"""`feedback import`: reviewed predictions back into a job's training data."""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape

from dexter_autotrain import api
from dexter_autotrain.cli.console import err, out, print_json
from dexter_autotrain.cli.options import json_option


@click.group()
def feedback() -> None:
    """Turn reviewed predictions into training data (the retraining loop; docs/retraining.md).

    \b
    Example:
      dexter-auto feedback import reviewed.jsonl --job narrative
    """


@feedback.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--job",
    required=True,
    help="The job spec the rows are for: a path, or a name under jobs/ (jobs/NAME.yaml).",
)
@click.option("--language", help="Language code of rows without a `language` field.")
@click.option(
    "--out-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("data/feedback"),
    show_default=True,
    help="Where imported files go, under a folder per job (inside the spec's repository).",
)
@json_option("Print the import report as JSON (errors too).")
def import_command(
    file: Path, job: str, language: str | None, out_dir: Path, as_json: bool
) -> None:
    """Import reviewed predictions into a data source the job can add to its spec.

    FILE is the JSONL `serve --log-predictions` writes, with each reviewed row's correct
    `label` added (rows without one are skipped), or a CSV, TSV or JSONL of
    text,label[,language]. Labels must be the job's; a row whose text is in the job's
    test or validation split refuses the whole file (exit 2, nothing written); duplicates
    and rows already in training are dropped and counted. Prints the lines to add under the
    spec's data.sources.

    \b
    Examples:
      dexter-auto feedback import logs/predictions-20261126-w1.jsonl --job narrative
      dexter-auto feedback import corrections.csv --job jobs/narrative.yaml --language pcm
    """
    printable = api.printable
    with err.status("checking against the job's data"):
        report = api.import_feedback(file, job, language, out_dir)
    if as_json:
        print_json(report.to_dict())
        return
    out.print(
        f"read {report.read} rows: imported {report.imported}, skipped {report.unreviewed} "
        f"unreviewed, dropped {report.duplicates_in_file} duplicates and "
        f"{report.already_in_train} already in training"
    )
    out.print(f"  labels: {escape(printable(str(report.labels)))}")
    if report.disagreeing_with_train:
        lines = ", ".join(map(str, report.disagreeing_with_train))
        err.print(
            f"[yellow]warning[/yellow]: rows already in training under another label (lines "
            f"{lines}): correct the training data itself if the reviewers are right"
        )
    out.print(f"  languages: {escape(printable(str(report.languages)))}")
    for path in report.written:
        out.print(f"wrote {escape(printable(path))}")
    if report.spec_sources:
        out.print(f"add to data.sources in {escape(printable(str(api.spec_of_job(job))))}:")
        for line in report.spec_sources.splitlines():
            out.print(f"  {escape(printable(line))}")
