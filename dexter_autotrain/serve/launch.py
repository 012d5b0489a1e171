"""Start `dexter-auto serve` as a process and wait until it is ready: for tests, benches, the
Hub test server's endpoints and `deploy.target: local`."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from dexter_autotrain.errors import ToolError

DEXTER_AUTO = Path(sys.executable).parent / "dexter-auto"


@dataclass
class ServeProcess:
    """A running `dexter-auto serve`.

    Attributes:
        process: the server's process (its own process group).
        url: the URL it printed once ready.
        log: the file its stderr goes to.
    """

    process: subprocess.Popen
    url: str
    log: Path

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM (a graceful shutdown), then SIGKILL to its process group if it hangs;
        returns its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            return self.process.wait()


def start_serve(
    model: str | Path,
    *options: str,
    env: dict[str, str] | None = None,
    log: Path | None = None,
    ready_timeout: float = 120.0,
) -> ServeProcess:
    """Run `dexter-auto serve MODEL OPTIONS...` and return once it printed its URL.

    Args:
        model: a run, a model folder or `hub:ORG/NAME@REV`.
        options: more command-line options (`--no-batching`, `--workers 2`).
        env: the environment (this process's by default).
        log: where its stderr goes (a temporary file by default).
        ready_timeout: seconds to wait for the URL.

    Raises:
        [`ToolError`]: it exited or stayed silent instead; the message holds its stderr's end.

    Example:
        ```python
        >>> served = start_serve("runs/narrative/20261126-101500-ab12", "--max-batch-size", "16")
        >>> InferenceClient(base_url=served.url).text_classification("Na wa o")[0].label
        'neutral'
        >>> served.stop()
        0
        ```
    """
    if log is None:
        handle, name = tempfile.mkstemp(prefix="dexter-serve-", suffix=".log")
        os.close(handle)
        log = Path(name)
    with log.open("ab") as stderr:
        process = subprocess.Popen(
            [str(DEXTER_AUTO), "serve", str(model), *options],
            stdout=subprocess.PIPE,
            stderr=stderr,
            env=env,
            start_new_session=True,
        )
    url = first_line(process, ready_timeout)
    if not url:
        ServeProcess(process, "", log).stop(5)
        tail = log.read_text(errors="replace")[-2000:]
        raise ToolError(f"dexter-auto serve {model} did not start (exit {process.poll()}):\n{tail}")
    return ServeProcess(process, url, log)


def first_line(process: subprocess.Popen, timeout: float) -> str:
    """The first line of the process's stdout, or "" if it exits or `timeout` passes."""
    assert process.stdout is not None
    deadline, line = time.monotonic() + timeout, b""
    while not line.endswith(b"\n") and time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.2)
        if ready:
            chunk = os.read(process.stdout.fileno(), 1)
            if not chunk:
                return ""
            line += chunk
        elif process.poll() is not None:
            return ""
    return line.decode().strip() if line.endswith(b"\n") else ""
