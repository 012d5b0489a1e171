"""`deploy.target: local`, the default for a machine without an HF account: `dexter-auto
serve` started in the background for the run's published model (`hub:REPO@COMMIT`), or its
model folder when it was not published, checked with the same parity test as an endpoint.

The server outlives the command (its own session); its first stdout line, its URL, is read
from `logs/serve.out`, its log goes to `logs/serve.log`. The run records its pid and start
time, so pausing or deleting the deployment stops exactly that process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from dexter_autotrain.errors import ToolError
from dexter_autotrain.hub.auth import find_token
from dexter_autotrain.hub.deployment import Deployment, parity_shortfall, run_parity
from dexter_autotrain.hub.retry import DEFAULT_POLICY, Report
from dexter_autotrain.record import RunState, ServeProcess
from dexter_autotrain.runs import Run
from dexter_autotrain.spec import JobSpec
from dexter_autotrain.system.processes import group_alive, is_running, start_time

START_TIMEOUT_S = 180.0
STOP_GRACE_S = 10.0


def deploy_local(run: Run, spec: JobSpec, report: Report) -> Deployment:
    """Serve the run's model on this machine (or find it served already), then check parity.

    Raises:
        [`ToolError`]: the server did not start, or failed the parity test (it is stopped).
    """
    state = run.state()
    repository, revision, source = _source(run, state)
    current = state.deployed
    served = current.process if current and current.target == "local" else None
    if current and served and alive(served) and current.revision == revision:
        report(f"already served at {current.url} (pid {served.pid})")
        return Deployment(**dict(current), changed=False)
    stop_local(current.process if current else None)
    report(f"starting dexter-auto serve {source}")
    url, process = start_serve(source, run.path / "logs", report)
    parity = run_parity(run, spec, url, find_token(), report, DEFAULT_POLICY)
    if parity.share < spec.deploy.min_parity:
        stop_local(process)
        raise ToolError(f"local server: {parity_shortfall(parity, spec)}; it was stopped")
    return Deployment(
        target="local",
        name="serve",
        namespace=None,
        url=url,
        repository=repository,
        revision=revision,
        status="running",
        parity=parity.record(),
        process=process,
    )


def _source(run: Run, state: RunState) -> tuple[str | None, str | None, str]:
    """What to serve: the published commit, else the run's model folder."""
    if published := state.published:
        repository, commit = published.repo_id, published.commit
        return repository, commit, f"hub:{repository}@{commit}"
    return None, None, str(run.model_folder(state))


def start_serve(source: str, logs: Path, report: Report) -> tuple[str, ServeProcess]:
    """Start `dexter-auto serve SOURCE --port 0` in its own session and wait for its URL.

    Returns:
        `tuple[str, ServeProcess]`: the URL, and the server's pid and start time.

    Raises:
        [`ToolError`]: it exited first, or printed no URL within START_TIMEOUT_S.
    """
    logs.mkdir(parents=True, exist_ok=True)
    out, log = logs / "serve.out", logs / "serve.log"
    command = [str(Path(sys.executable).parent / "dexter-auto"), "serve", source]
    with out.open("wb") as stdout, log.open("ab") as stderr:
        child = subprocess.Popen(
            [*command, "--host", "127.0.0.1", "--port", "0"],
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        first, newline, _ = out.read_text(errors="replace").partition("\n")
        if newline:
            report(f"serving at {first.strip()} (pid {child.pid})")
            return first.strip(), ServeProcess(pid=child.pid, started=start_time(child.pid))
        if child.poll() is not None:
            lines = log.read_text(errors="replace").strip().splitlines() or ["no output"]
            raise ToolError(f"dexter-auto serve exited with code {child.returncode}: {lines[-1]}")
        time.sleep(0.2)
    stop_local(ServeProcess(pid=child.pid, started=start_time(child.pid)))
    raise ToolError(f"dexter-auto serve printed no URL within {START_TIMEOUT_S:g} s")


def alive(process: ServeProcess | None) -> bool:
    """Whether a recorded local server (`deployed.process`) is still the process that was
    started."""
    return process is not None and is_running(process.pid, process.started)


def stop_local(process: ServeProcess | None) -> None:
    """Stop a recorded local server (SIGTERM to its group, SIGKILL after STOP_GRACE_S)."""
    if process is None or not alive(process):
        return
    pid, started = process.pid, process.started
    os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_S
    while group_alive(pid, started) and time.monotonic() < deadline:
        time.sleep(0.1)
    if group_alive(pid, started):
        os.killpg(pid, signal.SIGKILL)
