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
from dataclasses import replace
from pathlib import Path
from typing import Any

from dexter_autotrain.errors import ToolError
from dexter_autotrain.hub.auth import find_token
from dexter_autotrain.hub.deployment import Deployment, parity_shortfall, run_parity
from dexter_autotrain.hub.retry import DEFAULT_POLICY, Report
from dexter_autotrain.processes import group_alive, is_running, start_time
from dexter_autotrain.record import RunState, plain
from dexter_autotrain.runs import Run
from dexter_autotrain.spec import JobSpec

START_TIMEOUT_S = 180.0
STOP_GRACE_S = 10.0


def deploy_local(run: Run, spec: JobSpec, report: Report) -> Deployment:
    """Serve the run's model on this machine (or find it served already), then check parity.

    Raises:
        [`ToolError`]: the server did not start, or failed the parity test (it is stopped).
    """
    state = run.state()
    repository, revision, source = _source(run, state)
    current = plain(state.deployed) or {}
    if current.get("target") == "local" and alive(current) and current.get("revision") == revision:
        report(f"already served at {current['url']} (pid {current['process']['pid']})")
        return replace(Deployment(**current), changed=False)
    stop_local(current)
    report(f"starting dexter-auto serve {source}")
    url, process = start_serve(source, run.path / "logs", report)
    deployment = Deployment("local", "serve", None, url, repository, revision, "running")
    parity = run_parity(run, spec, url, find_token(), report, DEFAULT_POLICY)
    if parity.share < spec.deploy.min_parity:
        stop_local({"process": process})
        raise ToolError(f"local server: {parity_shortfall(parity, spec)}; it was stopped")
    return replace(deployment, parity=parity.to_dict(), process=process)


def _source(run: Run, state: RunState) -> tuple[str | None, str | None, str]:
    """What to serve: the published commit, else the run's model folder."""
    if published := state.published:
        repository, commit = published.repo_id, published.commit
        return repository, commit, f"hub:{repository}@{commit}"
    return None, None, str(run.model_folder(state))


def start_serve(source: str, logs: Path, report: Report) -> tuple[str, dict[str, Any]]:
    """Start `dexter-auto serve SOURCE --port 0` in its own session and wait for its URL.

    Returns:
        `tuple[str, dict]`: the URL and `{"pid", "started"}`.

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
            return first.strip(), {"pid": child.pid, "started": start_time(child.pid)}
        if child.poll() is not None:
            lines = log.read_text(errors="replace").strip().splitlines() or ["no output"]
            raise ToolError(f"dexter-auto serve exited with code {child.returncode}: {lines[-1]}")
        time.sleep(0.2)
    stop_local({"process": {"pid": child.pid, "started": start_time(child.pid)}})
    raise ToolError(f"dexter-auto serve printed no URL within {START_TIMEOUT_S:g} s")


def alive(deployed: dict[str, Any]) -> bool:
    """Whether a recorded local server is still the process that was started."""
    process = deployed.get("process") or {}
    return is_running(process.get("pid"), process.get("started"))


def stop_local(deployed: dict[str, Any]) -> None:
    """Stop a recorded local server (SIGTERM to its group, SIGKILL after STOP_GRACE_S)."""
    if not alive(deployed):
        return
    pid = int(deployed["process"]["pid"])
    os.killpg(pid, signal.SIGTERM)
    started = deployed["process"]["started"]
    deadline = time.monotonic() + STOP_GRACE_S
    while group_alive(pid, started) and time.monotonic() < deadline:
        time.sleep(0.1)
    if group_alive(pid, started):
        os.killpg(pid, signal.SIGKILL)
