"""`predict`: score a corpus into Parquet part files."""

from __future__ import annotations

from pathlib import Path

import click

from dexter_autotrain import api
from dexter_autotrain.cli.console import err, out, print_json
from dexter_autotrain.cli.options import json_option, runs_dir_option
from dexter_autotrain.cli.progress import RowsBar, RowsLines


@click.command()
@click.argument("model")
@click.option(
    "--input",
    "source",
    required=True,
    metavar="SRC",
    help="CSV, TSV, JSONL or Parquet (a file, a folder or a glob), or "
    "hf://datasets/ORG/NAME[@REV][/PATH]; for an image model, a folder of images or an "
    "image-csv (an `image` column of paths relative to it).",
)
@click.option(
    "--output",
    "output",
    required=True,
    metavar="DEST",
    help="Folder for the Parquet part files (one a shard), their rejects and the manifest; "
    "or hf://datasets/ORG/NAME[/PATH]: a private dataset they are uploaded to, in one commit, "
    "when all shards are done.",
)
@click.option(
    "--text-column",
    "text_columns",
    multiple=True,
    metavar="NAME",
    help="The text column; repeat to join several as the model was trained "
    "(default: the model's own, else `text`).",
)
@click.option(
    "--id-column",
    "id_columns",
    multiple=True,
    metavar="NAME",
    help="A column to pass through beside each prediction; repeatable.",
)
@click.option(
    "--top-k",
    default=1,
    show_default=True,
    type=click.IntRange(1, 1000),
    help="Classes to keep per row (1: the label and its score).",
)
@click.option(
    "--shard-rows",
    default=10_000,
    show_default=True,
    type=click.IntRange(1),
    help="Rows a shard (a part file, the unit of resume) holds.",
)
@click.option(
    "--precision",
    type=click.Choice(["float32", "auto"]),
    default="float32",
    show_default=True,
    help="auto: bfloat16 where the hardware has it, close calls re-scored in float32 "
    "(the same labels).",
)
@click.option(
    "--engine",
    type=click.Choice(["local", "ray"]),
    default="local",
    show_default=True,
    help="ray: a Ray Data pipeline (an actor pool of model replicas) on the cluster the "
    "operator names (ray_address), else on a local Ray instance.",
)
@click.option(
    "--replicas",
    default=1,
    show_default=True,
    type=click.IntRange(1, 1024),
    help="Model replicas of the Ray engine's actor pool (a GPU each where the cluster has them).",
)
@runs_dir_option
@json_option("Print the summary as JSON (errors too).")
def predict(
    model: str,
    source: str,
    output: str,
    text_columns: tuple[str, ...],
    id_columns: tuple[str, ...],
    top_k: int,
    shard_rows: int,
    precision: str,
    engine: str,
    replicas: int,
    runs_dir: Path,
    as_json: bool,
) -> None:
    """Score a corpus with MODEL into Parquet: the id columns, then each row's label and
    score (and --top-k classes), or its entities with character offsets.

    MODEL is a run (path, job/run-id, run id or job name), a model folder, or
    hub:ORG/NAME@REV. The corpus is read as a stream and cut into shards recorded in
    DEST/_manifest.json: run the same command again after a kill and it goes on from the
    first unfinished shard. Rows with no text go to DEST/rejects-*.jsonl with the reason.
    Each part file's metadata holds the provenance (model, revision, toolkit, input, time).
    A progress bar shows rows/s and the ETA (a line every 30 s when not on a terminal).

    \b
    Examples:
      dexter-auto predict narrative --input crawl/ --output scored/ --id-column id
      dexter-auto predict hub:dexter-ng/actors@main --input articles.parquet --output actors/ --json
      dexter-auto predict memes --input media/ --output hf://datasets/dexter-ng/scored/memes
    """
    progress = RowsBar(err) if err.is_terminal else RowsLines(err)
    try:
        summary = api.predict(
            model,
            source,
            output,
            text_columns=text_columns,
            id_columns=id_columns,
            top_k=top_k,
            shard_rows=shard_rows,
            precision=precision,
            engine=engine,
            replicas=replicas,
            runs_dir=runs_dir,
            report=err.print,
            progress=progress,
        )
    finally:
        progress.close()
    if as_json:
        print_json(summary.to_json())
        return
    resumed = f", {summary.resumed} resumed" if summary.resumed else ""
    commit = f" at commit {summary.commit[:12]}" if summary.commit else ""
    out.print(
        f"scored {summary.scored:,} of {summary.rows:,} rows into {summary.output}{commit} "
        f"({summary.shards} part files{resumed}; {summary.rejected:,} rejected; "
        f"{summary.rows_per_second:,.0f} rows/s)"
    )
