"""Running the server as `dexter-auto serve` does: address, token, readiness, shutdown.

- Port 0 picks a free port (LitServe itself takes only 1024-65535).
- The URL is the first line of stdout, written once `/health` answers 200 (every worker has
  loaded the model). Everything else the server, its workers and libraries print goes to
  stderr: stdout's descriptor is pointed at stderr before any process is started.
- Binding beyond loopback needs a bearer token (`DEXTER_SERVE_TOKEN`) of at least 16
  characters; a token set in the environment is required on loopback too.
- SIGTERM and SIGINT (to this process, or Ctrl-C to its group) stop the server gracefully:
  LitServe lets the API servers answer the requests in flight, then stops the workers.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import threading
import time
import urllib.error
import urllib.request
from typing import Any

from dexter_autotrain.errors import ToolError, UserError
from dexter_autotrain.serve.model import ServedModel

TOKEN_VARIABLE = "DEXTER_SERVE_TOKEN"
HOSTS = {"127.0.0.1": "127.0.0.1", "localhost": "127.0.0.1", "0.0.0.0": "0.0.0.0", "::": "::"}
"""The addresses LitServe binds; loopback or every interface."""
LOOPBACK = {"127.0.0.1"}
MIN_TOKEN_CHARS = 16
"""Off loopback the token is all that stands between the model and the network."""


def checked_host(host: str, token: str | None) -> str:
    """The address to bind for `--host`.

    Raises:
        [`UserError`]: not an address LitServe binds, or beyond loopback without a token
            of at least `MIN_TOKEN_CHARS` characters.
    """
    bound = HOSTS.get(host)
    if bound is None:
        raise UserError(f"--host {host}: use 127.0.0.1 (this machine) or 0.0.0.0 / :: (all)")
    if bound not in LOOPBACK and not token:
        raise UserError(
            f"--host {host}: serving beyond this machine needs a bearer token; set "
            f"{TOKEN_VARIABLE} (clients then send `Authorization: Bearer <token>`)"
        )
    if bound not in LOOPBACK and len(token) < MIN_TOKEN_CHARS:
        raise UserError(
            f"--host {host}: {TOKEN_VARIABLE} is {len(token)} characters; serving beyond this "
            f"machine needs at least {MIN_TOKEN_CHARS} (e.g. `python -c 'import secrets; "
            "print(secrets.token_urlsafe(32))'`)"
        )
    return bound


def free_port(host: str) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def url_of(host: str, port: int) -> str:
    """The URL clients on this machine use (an all-interfaces bind answers on loopback)."""
    return f"http://{'[::1]' if ':' in host else '127.0.0.1'}:{port}"


def run_server(
    server: Any, model: ServedModel, host: str, port: int, as_json: bool = False
) -> None:
    """Run `server` (a built LitServer) until SIGTERM or SIGINT; the URL goes to stdout
    (with `as_json`, one JSON line: url, model name, revision, task, path).

    LitServer.run() runs in a thread, so that this process's main thread is free to take the
    signals. Ctrl-C in a terminal signals the whole process group: the workers ignore it
    (`ModelAPI.setup`), the API servers stop taking requests and answer those in flight,
    and this process then shuts them all down in order.

    Raises:
        [`ToolError`]: a worker failed to load the model.
    """
    stdout = os.dup(1)
    os.dup2(2, 1)  # from here on, stdout carries the URL line only
    url = url_of(host, port)
    ready = url
    if as_json:
        shown = {"name": model.name, "revision": model.revision, "task": model.task}
        ready = json.dumps({"url": url, **shown, "path": str(model.path)})
    threading.Thread(target=_announce, args=(url, ready, stdout), daemon=True).start()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    failed: list[BaseException] = []
    running = threading.Thread(target=_run, args=(server, host, port, failed), name="litserve")
    running.start()
    try:
        while running.is_alive() and not stop.wait(0.2):
            pass
        # asked to stop: tell LitServe once it can be told (once: it then shuts its manager)
        while running.is_alive() and getattr(server, "_shutdown_event", None) is None:
            running.join(0.2)
        event = getattr(server, "_shutdown_event", None)  # None: it failed to start
        with contextlib.suppress(OSError, EOFError):  # it stopped meanwhile: its manager is gone
            if event is not None:
                event.set()
        running.join()
    finally:
        os.close(stdout)
    if failed:  # LitServe: "One or more workers failed to start"
        for worker in getattr(server, "inference_workers", []):
            worker.terminate()
        raise ToolError(f"{model.path}: the model could not be served ({failed[0]})")


def _run(server: Any, host: str, port: int, failed: list[BaseException]) -> None:
    try:
        server.run(
            host=host, port=port, log_level="warning", generate_client_file=False,
            access_log=False,
        )  # fmt: skip
    except RuntimeError as error:
        failed.append(error)


def _announce(url: str, ready: str, stdout: int) -> None:
    """Write the `ready` line to stdout once `url`'s `/health` answers 200."""
    while True:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as reply:
                if reply.status == 200:
                    os.write(stdout, f"{ready}\n".encode())
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.05)
