"""`dexter-auto serve`: a local server that speaks what Hugging Face Inference Endpoints speak."""

from __future__ import annotations

import os
from pathlib import Path

import click

from dexter_autotrain.cli_runs import RUNS_DIR_OPTION
from dexter_autotrain.console import err
from dexter_autotrain.errors import UserError


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
@RUNS_DIR_OPTION
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
    from dexter_autotrain.serve.app import ServeOptions, build_server
    from dexter_autotrain.serve.model import resolve_model
    from dexter_autotrain.serve.prediction_log import prepare_log_folder
    from dexter_autotrain.serve.process import (
        TOKEN_VARIABLE,
        checked_host,
        free_port,
        run_server,
    )

    if 0 < port < 1024:
        raise UserError(f"--port {port}: use 0 (a free port) or 1024-65535")
    token = os.environ.get(TOKEN_VARIABLE) or None
    bound = checked_host(host, token)
    served = resolve_model(model, runs_dir, err.print)
    if log_dir is not None:
        prepare_log_folder(log_dir)
    options = ServeOptions(
        host=bound,
        port=port or free_port(bound),
        workers=workers,
        max_batch_size=max_batch_size,
        batch_timeout=batch_timeout,
        batching=not no_batching,
        log_dir=log_dir,
        max_queue=max_queue,
        body_timeout=body_timeout,
        token=token,
    )
    err.print(f"serving {served.name} ({served.task}) from {served.path}")
    run_server(build_server(served, options), served, options.host, options.port)
