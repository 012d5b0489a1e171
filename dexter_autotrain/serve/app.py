"""The LitServe server: inference workers with dynamic batching behind a FastAPI app that
speaks the Inference Endpoints protocol.

LitServe gives the worker processes, the request queue, dynamic batching (up to
`max_batch_size` requests gathered for at most `batch_timeout` seconds), `/health` (200 once
every worker has loaded the model) and graceful shutdown. This module replaces its
`POST /predict` route with one that parses and checks the request first (`protocol`), so a
bad request is answered at once and a worker only ever sees valid queries, and serves it at
`POST /` too, where `InferenceClient` posts.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import platform
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import litserve as ls
from fastapi import Request
from fastapi.responses import JSONResponse
from litserve.connector import check_cuda_with_nvidia_smi
from litserve.server import RegularRequestHandler
from starlette.exceptions import HTTPException

from dexter_autotrain.serve.batching import WaitingBatchedLoop
from dexter_autotrain.serve.gate import PREDICT_PATHS, Gate, GateRules
from dexter_autotrain.serve.model import ServedModel
from dexter_autotrain.serve.protocol import BadRequest, Query, Refused, parse_request
from dexter_autotrain.system.loopback import is_loopback

logger = logging.getLogger(__name__)
LITSERVE_INFO = "/litserve/info"
"""LitServe's own /info (server settings) moves here: /info is the model's."""


@dataclass(frozen=True)
class ServeOptions:
    """How `dexter-auto serve` runs (its command-line options).

    Attributes:
        workers: inference worker processes (each loads the model).
        max_batch_size: requests one forward call may answer together.
        batch_timeout: seconds a worker waits to fill a batch.
        batching: False answers each request on its own (`--no-batching`).
        log_dir: where to log predictions (`--log-predictions`), or None.
        max_queue: prediction requests in flight before the server answers 503.
        max_body_bytes: the largest request body (413 past it).
        body_timeout: seconds a request body may take to arrive (408 past it).
        timeout: seconds a request may wait for its answer (504 past it).
        token: the bearer token clients must send, or None.
    """

    host: str = "127.0.0.1"
    port: int = 0
    workers: int = 1
    max_batch_size: int = 32
    batch_timeout: float = 0.01
    batching: bool = True
    log_dir: Path | None = None
    max_queue: int = 256
    max_body_bytes: int = 16 * 1024 * 1024
    body_timeout: float = 10.0
    timeout: float = 30.0
    token: str | None = field(default=None, repr=False)


class ModelAPI(ls.LitAPI):
    """One inference worker's model: `predict` answers a batch of queries (or one query
    when batching is off) in one `Engine.answer` call."""

    def __init__(self, model: ServedModel, options: ServeOptions):
        batch = options.max_batch_size if options.batching else 1
        loop = WaitingBatchedLoop() if batch > 1 else "auto"
        super().__init__(max_batch_size=batch, batch_timeout=options.batch_timeout, loop=loop)
        self.model, self.options = model, options

    def setup(self, device: str) -> None:
        import signal

        from dexter_autotrain.serve.engine import Engine
        from dexter_autotrain.serve.prediction_log import PredictionLog

        # Ctrl-C signals the whole group: the main process stops the workers once the
        # requests in flight are answered (see `process.run_server`)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        self.engine = Engine(self.model)
        # a linear model never imports torch (its worker starts on 3.4 CPU-s, not 5.0)
        torch = sys.modules.get("torch")
        if torch is not None and device == "cpu":  # workers share the cores
            torch.set_num_threads(max(1, (os.cpu_count() or 1) // self.options.workers))
        log_dir = self.options.log_dir
        self.log = PredictionLog(log_dir, self.model) if log_dir else None

    def predict(self, x: Any, **kwargs: Any) -> Any:
        queries: list[Query] = x if self.max_batch_size > 1 else [x]
        bodies = self._answered(queries)
        return bodies if self.max_batch_size > 1 else bodies[0]

    def _answered(self, queries: list[Query]) -> list[Any]:
        """Each query's response body; a query the model fails on gets a `Refused`, and the
        rest of its batch are answered all the same."""
        from dexter_autotrain.serve.engine import response_body

        try:
            answers = self.engine.answer(queries)
        except Exception as error:  # an input the request checks let through
            if len(queries) > 1:
                return [body for query in queries for body in self._answered([query])]
            logger.exception("the model failed on one request")
            return [Refused(f"inputs: the model could not read this input ({error})"[:500])]
        if self.log is not None:
            self.log.write(queries, answers)
        return [response_body(self.model.task, q, a) for q, a in zip(queries, answers, strict=True)]

    def unbatch(self, output: Any) -> list[Any]:
        return list(output)


def build_server(model: ServedModel, options: ServeOptions) -> ls.LitServer:
    """The LitServer for `model`, its routes and checks in place (not started).

    Example:
        ```python
        >>> server = build_server(resolve_model("narrative", Path("runs"), print), ServeOptions())
        >>> server.run(host="127.0.0.1", port=8080, generate_client_file=False)
        ```
    """
    api = ModelAPI(model, options)
    rules = GateRules(
        token=options.token,
        limit=options.max_queue,
        max_body=options.max_body_bytes,
        body_timeout=options.body_timeout,
        loopback=is_loopback(options.host),
    )
    in_flight = mp.Value("i", 0)  # shared by the API server processes LitServe forks
    server = ls.LitServer(
        api,
        accelerator=_accelerator(),
        workers_per_device=options.workers,
        timeout=options.timeout,
        info_path=LITSERVE_INFO,
        max_payload_size=options.max_body_bytes,
        disable_openapi_url=True,
        middlewares=[(Gate, {"rules": rules, "in_flight": in_flight})],
    )
    _route_predictions(server, api, model)
    server.app.add_exception_handler(HTTPException, _error_response)
    return server


def _accelerator() -> str:
    """LitServe's choice, made without importing torch in the API server's process: its "auto"
    imports torch there to look for Apple's MPS (1.5 CPU-seconds at every start, for a
    process that never runs the model). CUDA is found as LitServe finds it (nvidia-smi); on
    an Apple-silicon Mac, LitServe decides."""
    if check_cuda_with_nvidia_smi() > 0:
        return "cuda"
    return "auto" if sys.platform == "darwin" and platform.machine() == "arm64" else "cpu"


def _route_predictions(server: ls.LitServer, api: ModelAPI, model: ServedModel) -> None:
    """`POST /` and `POST /predict`: parse, check, queue for a worker, answer; `GET /info`."""
    handler = RegularRequestHandler(api, server)
    router = server.app.router
    router.routes = [
        route for route in router.routes if getattr(route, "path", None) != api.api_path
    ]

    async def predict(request: Request) -> JSONResponse:
        content_type = request.headers.get("content-type", "")
        try:
            body = await request.body()
            query = parse_request(model.task, body, content_type, model.text_columns)
        except BadRequest as error:
            return JSONResponse({"error": str(error)}, status_code=error.status)
        answer = await handler.handle_request(query, Query)
        if isinstance(answer, Refused):
            return JSONResponse({"error": answer.message}, status_code=422)
        return JSONResponse(answer)

    async def info() -> JSONResponse:
        return JSONResponse(_info(model, server, api))

    for path in PREDICT_PATHS:
        server.app.add_api_route(path, predict, methods=["POST"])
    server.app.add_api_route("/info", info, methods=["GET"])


def _info(model: ServedModel, server: ls.LitServer, api: ModelAPI) -> dict[str, Any]:
    return {
        "model": model.name,
        "revision": model.revision,
        "task": model.task,
        "labels": model.labels,
        "max_length": model.max_length,
        "max_batch_size": api.max_batch_size,
        "batch_timeout": api.batch_timeout,
        "workers": server.workers_per_device,
    }


async def _error_response(request: Request, error: HTTPException) -> JSONResponse:
    """Errors as the Hub's API gives them: `{"error": message}`."""
    return JSONResponse(
        {"error": str(error.detail)}, status_code=error.status_code, headers=error.headers
    )
