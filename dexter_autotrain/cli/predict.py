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
@click.option(
    "--rows",
    "row_range",
    metavar="FIRST:END",
    callback=lambda _ctx, _param, value: _row_range(value),
    help="Score only the input's rows FIRST (counted from 0) up to END, not included "
    "(`1000:`: from row 1000 on).",
)
@click.option(
    "--backend",
    type=click.Choice(["local", "hf-jobs"]),
    default="local",
    show_default=True,
    help="hf-jobs: score on HF Jobs (--output must be a Hub dataset); the cost is shown and "
    "held to the operator's run cap first.",
)
@click.option(
    "--shards",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="hf-jobs: the number of jobs, each scoring its range of rows.",
)
@click.option(
    "--flavor", default="cpu-upgrade", show_default=True, help="hf-jobs: the hardware flavor."
)
@click.option(
    "--timeout",
    default="1h",
    show_default=True,
    metavar="DURATION",
    help="hf-jobs: each job's limit (30m, 2h, 1d).",
)
@click.option(
    "--image",
    default=None,
    help="hf-jobs: the container image (one the operator allows; default AutoTrain's).",
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
    row_range: tuple[int, int | None] | None,
    backend: str,
    shards: int,
    flavor: str,
    timeout: str,
    image: str | None,
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
      dexter-auto predict narrative --input crawl.parquet --backend hf-jobs --shards 4 \\
          --flavor t4-small --output hf://datasets/dexter-ng/scored/2026-12-07
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
            rows=row_range,
            jobs=api.JobsPlan(shards, flavor, timeout, image) if backend == "hf-jobs" else None,
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


def _row_range(value: str | None) -> tuple[int, int | None] | None:
    if value is None:
        return None
    first, sep, end = value.partition(":")
    try:
        numbers = (int(first or 0), int(end) if end else None)
    except ValueError:
        numbers = None
    if not sep or numbers is None or numbers[0] < 0 or (numbers[1] or numbers[0]) < numbers[0]:
        raise click.BadParameter(f"{value!r}: write FIRST:END, 0 <= FIRST <= END (`100:200`)")
    return numbers
