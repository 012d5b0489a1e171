"""`dexter-auto serve`: a local server that speaks what Hugging Face Inference Endpoints speak."""

from __future__ import annotations

from pathlib import Path

import click

from dexter_autotrain import api
from dexter_autotrain.cli.console import err, json_option
from dexter_autotrain.cli.options import runs_dir_option


@click.command()
@click.argument("model")
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to bind: 127.0.0.1, or 0.0.0.0 / :: (needs DEXTER_SERVE_TOKEN).",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Port to listen on; 0 picks a free one.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Inference worker processes, each with its own copy of the model.",
)
@click.option(
    "--max-batch-size",
    type=click.IntRange(1, 1024),
    default=32,
    show_default=True,
    help="Requests answered together by one forward call.",
)
@click.option(
    "--batch-timeout",
    type=click.FloatRange(0, 10),
    default=0.01,
    show_default=True,
    help="Seconds a worker waits to fill a batch.",
)
@click.option("--no-batching", is_flag=True, help="Answer each request on its own.")
@click.option(
    "--max-queue",
    type=click.IntRange(1),
    default=256,
    show_default=True,
    help="Requests in flight before the server answers 503 (Retry-After).",
)
@click.option(
    "--body-timeout",
    type=click.FloatRange(0.1, 300),
    default=10.0,
    show_default=True,
    help="Seconds a request body may take to arrive (408 past it).",
)
@click.option(
    "--log-predictions",
    "log_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write each input and its prediction as JSONL into this folder.",
)
@runs_dir_option
@json_option("The ready line as JSON: url, name, revision, task and path (errors too).")
def serve(
    model: str,
    host: str,
    port: int,
    workers: int,
    max_batch_size: int,
    batch_timeout: float,
    no_batching: bool,
    max_queue: int,
    body_timeout: float,
    log_dir: Path | None,
    runs_dir: Path,
    as_json: bool,
) -> None:  # fmt: skip
    """Serve MODEL over HTTP as an Inference Endpoint does, until SIGTERM or Ctrl-C.

    MODEL is a run (path, job/run-id, run id or job name), a model folder, or a published
    model hub:ORG/NAME@REV (downloaded into RUNS_DIR/.hub-models/, pinned to the commit REV
    names). The first line of stdout is the server's URL, written once it is ready.

    \b
    Routes: POST / and POST /predict (application/json {"inputs": ..., "parameters": {...}};
    image classification also takes raw PNG, JPEG, WEBP, GIF or BMP bytes), GET /health,
    GET /info. With DEXTER_SERVE_TOKEN set (16+ characters), requests need
    `Authorization: Bearer <token>`. Cross-site requests from web pages are refused.

    \b
    Examples:
      dexter-auto serve narrative
      dexter-auto serve hub:dexter-ng/actors@main --port 8080 --log-predictions feedback/
      DEXTER_SERVE_TOKEN=... dexter-auto serve narrative --host 0.0.0.0 --workers 2
    """
    api.serve(
        model,
        host=host,
        port=port,
        workers=workers,
        max_batch_size=max_batch_size,
        batch_timeout=batch_timeout,
        batching=not no_batching,
        max_queue=max_queue,
        body_timeout=body_timeout,
        log_dir=log_dir,
        runs_dir=runs_dir,
        report=err.print,
        ready_json=as_json,
    )
