"""Inference Endpoints run for real on the Hub test server: each running endpoint is a
`dexter-auto serve` process serving the model repo's files at the endpoint's revision.

The server lays the revision's files out itself (hard links to its blobs) in
`<data>/endpoints/<namespace>/<name>/<commit>/` and starts `HubConfig.endpoint_command` (by
default this environment's `dexter-auto serve`) on that folder with `--port 0`; the first
line the process prints is its URL, and the endpoint is `running` from then on. Its stderr
goes to `serve.log` beside the folder. A process that exits before printing its URL leaves
the endpoint `failed` (a create or resume) or `updateFailed` (an update), with its last log
line as the message. Pausing, scaling to zero, deleting and stopping the server kill it.

States: pending -> initializing -> running; updating -> running; failed, updateFailed,
paused, scaledToZero. A name or a commit in `HubConfig.endpoint_failures` fails to start,
for rollback tests.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dexter_autotrain.serve.launch import first_line

from .hub_context import HubContext
from .hub_errors import HubError
from .hub_store import now_iso

STOP_GRACE_S = 5.0  # SIGTERM (serve shuts down gracefully), then SIGKILL


class StartFailed(Exception):
    """The serving process did not come up; the message says why."""


def default_command() -> list[str]:
    """`dexter-auto serve` of the environment running the server."""
    return [str(Path(sys.executable).parent / "dexter-auto"), "serve"]


class ServeProcess:
    """One serving process in its own process group; `start` returns the URL it printed."""

    def __init__(self, argv: list[str], log_path: Path) -> None:
        self.argv = argv
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float) -> str:
        """Start it and wait for its first stdout line, its URL.

        Raises:
            StartFailed: it exited first, printed no URL, or took longer than `timeout`.
        """
        env = {k: v for k, v in os.environ.items() if k not in ("HF_TOKEN", "HF_ENDPOINT")}
        env |= {"HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                self.argv,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
                start_new_session=True,
            )
        url = first_line(self._process, timeout)
        if not url.startswith("http"):
            code = _exit_code(self._process)  # None: still running, silent
            self.stop()
            why = (
                f"exited with code {code}"
                if code is not None
                else f"printed no URL in {timeout:g} s"
            )
            raise StartFailed(f"the model server {why}: {self._last_log_line()}")
        return url

    def _last_log_line(self) -> str:
        text = self.log_path.read_text(errors="replace").strip() if self.log_path.exists() else ""
        return text.splitlines()[-1][:300] if text else "no output"

    def stop(self) -> None:
        """SIGTERM to the group, SIGKILL after STOP_GRACE_S; returns once it is gone."""
        process = self._process
        if process is None or process.poll() is not None:
            return
        _signal_group(process.pid, signal.SIGTERM)
        try:
            process.wait(STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            _signal_group(process.pid, signal.SIGKILL)
            process.wait()


def _exit_code(process: subprocess.Popen[bytes]) -> int | None:
    """The exit code of a process whose stdout ended (it is exiting), None if it runs on."""
    try:
        return process.wait(timeout=1.0)
    except subprocess.TimeoutExpired:
        return None


def _signal_group(pgid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


@dataclass
class Endpoint:
    """One endpoint: what was asked for (secret names only), its state and its process."""

    namespace: str
    name: str
    created_by: str
    spec: dict[str, Any]  # compute, model (secrets as names), provider, type, tags, route ...
    url: str  # the stable public URL (the server proxies it to the process)
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)
    state: str = "pending"
    message: str | None = None
    process: ServeProcess | None = None
    backend_url: str | None = None
    generation: int = 0  # bumped by every start and stop, so a stale start gives up

    @property
    def model(self) -> dict[str, Any]:
        return self.spec["model"]

    def as_json(self) -> dict[str, Any]:
        running = self.state == "running"
        owner = {"id": self.created_by, "name": self.created_by}
        return {
            **self.spec,
            "name": self.name,
            "accountId": None,
            "healthRoute": "/health",
            "status": {
                "createdAt": self.created_at,
                "createdBy": owner,
                "updatedAt": self.updated_at,
                "updatedBy": owner,
                "state": self.state,
                "message": self.message or _MESSAGES.get(self.state, ""),
                "readyReplica": 1 if running else 0,
                "targetReplica": 0 if self.state in ("paused", "scaledToZero") else 1,
                "url": None if self.state in ("pending", "failed") else self.url,
            },
        }


_MESSAGES = {
    "pending": "Endpoint is being created",
    "initializing": "Endpoint is initializing",
    "updating": "Endpoint is updating",
    "running": "Endpoint is running",
    "paused": "Endpoint is paused",
    "scaledToZero": "Endpoint is scaled to zero",
}


class EndpointHost:
    """All endpoints of the server: starts their processes, stops them, keeps their states."""

    def __init__(self, hub: HubContext) -> None:
        self.hub = hub
        self.lock = threading.RLock()
        self.endpoints: dict[tuple[str, str], Endpoint] = {}
        hub.closers.append(self.stop_all)

    def get(self, namespace: str, name: str) -> Endpoint:
        found = self.endpoints.get((namespace, name))
        if found is None:
            raise HubError(404, f"Endpoint {namespace}/{name} not found")
        return found

    def add(self, endpoint: Endpoint) -> None:
        with self.lock:
            key = (endpoint.namespace, endpoint.name)
            if key in self.endpoints:
                raise HubError(409, f"Endpoint {endpoint.name} already exists")
            self.endpoints[key] = endpoint
        self.launch(endpoint, "pending", "failed")

    def launch(self, endpoint: Endpoint, first: str, failure: str) -> None:
        """Stop what runs, then bring the endpoint's revision up in the background."""
        with self.lock:
            self._stop(endpoint, first)
            generation = endpoint.generation
        threading.Thread(
            target=self._bring_up, args=(endpoint, generation, failure), daemon=True
        ).start()

    def stop(self, endpoint: Endpoint, state: str) -> None:
        with self.lock:
            self._stop(endpoint, state)

    def _stop(self, endpoint: Endpoint, state: str) -> None:
        endpoint.generation += 1
        endpoint.state, endpoint.message, endpoint.updated_at = state, None, now_iso()
        process, endpoint.process, endpoint.backend_url = endpoint.process, None, None
        if process is not None:
            process.stop()

    def remove(self, endpoint: Endpoint) -> None:
        with self.lock:
            self._stop(endpoint, "deleted")
            self.endpoints.pop((endpoint.namespace, endpoint.name), None)

    def stop_all(self) -> None:
        for endpoint in list(self.endpoints.values()):
            self.stop(endpoint, "paused")

    def _bring_up(self, endpoint: Endpoint, generation: int, failure: str) -> None:
        time.sleep(self.hub.config.schedule_delay)
        with self.lock:
            if endpoint.generation != generation:
                return
            if endpoint.state == "pending":
                endpoint.state = "initializing"
        try:
            started = self._start(endpoint)
        except StartFailed as error:
            with self.lock:
                if endpoint.generation == generation:
                    endpoint.state, endpoint.message = failure, f"Endpoint failed: {error}"
                    endpoint.updated_at = now_iso()
            return
        with self.lock:
            if endpoint.generation != generation:
                started[0].stop()  # paused, updated or deleted while it started
                return
            endpoint.process, endpoint.backend_url = started
            endpoint.state, endpoint.message, endpoint.updated_at = "running", None, now_iso()

    def _start(self, endpoint: Endpoint) -> tuple[ServeProcess, str]:
        model = endpoint.model
        repo = self.hub.store.get("model", model["repository"])
        commit = repo.resolve(model.get("revision") or "main")
        failures = self.hub.config.endpoint_failures
        if endpoint.name in failures or commit.oid in failures:
            raise StartFailed("the model server exited with code 1 (configured to fail)")
        folder = self._snapshot(endpoint, commit.oid, commit.files)
        command = self.hub.config.endpoint_command or default_command()
        argv = [*command, str(folder), "--host", "127.0.0.1", "--port", "0"]
        process = ServeProcess(argv, folder.parent / "serve.log")
        return process, process.start(self.hub.config.endpoint_start_timeout)

    def _snapshot(self, endpoint: Endpoint, oid: str, files: dict[str, Any]) -> Path:
        """The revision's files in a folder of their own (hard links to the blobs)."""
        folder = self.hub.store.root / "endpoints" / endpoint.namespace / endpoint.name / oid
        if folder.is_dir():
            return folder
        partial = folder.with_name(oid + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        for path, entry in files.items():
            target = partial / path
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(self.hub.store.blob_path(entry.sha256), target)
            except OSError:
                shutil.copyfile(self.hub.store.blob_path(entry.sha256), target)
        partial.rename(folder)
        return folder
