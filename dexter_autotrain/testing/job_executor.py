"""Running a job's or a Space's command for real, as a local process group, for the Hub test server.

A bin directory stands in for the Docker image (`image_bin`): it goes first on PATH, so
`python` or `autotrain` in the command is that environment's (by default AutoTrain's runner).
The process gets a clean environment, like a container: PATH, HOME and a few basics, then
what the caller passes (the job's env and secrets, the Hub's variables for a Space). Its
stdout and stderr, merged, become the log line by line.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .log_stream import LogBook

KILL_GRACE_S = 3.0  # SIGTERM, then SIGKILL this much later (Docker's stop does the same)
BASE_PATH = ("/usr/local/bin", "/usr/bin", "/bin")


@dataclass(frozen=True)
class Outcome:
    """How a process ended: on its own (with its exit code), timed out, or killed on request."""

    reason: Literal["exited", "timeout", "killed"]
    exit_code: int | None


def image_bin(image: str, images: Mapping[str, Path], default: Path | None) -> Path:
    """The bin directory standing in for `image`: its own mapping, else `default`, else the
    AutoTrain runner's (when installed), else this interpreter's."""
    if image in images:
        return images[image]
    if default is not None:
        return default
    from dexter_autotrain.training.runner_env import default_runner

    runner = default_runner()
    return runner.bin if runner.python.exists() else Path(sys.executable).parent


def container_env(bin_dir: Path, home: Path, extra: Mapping[str, str]) -> dict[str, str]:
    """A clean environment: `bin_dir` first on PATH, HOME, UTF-8, unbuffered Python, `extra`."""
    return {
        "PATH": os.pathsep.join((str(bin_dir), *BASE_PATH)),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",  # lines reach the log as they are printed
        **extra,
    }


class ProcessRun:
    """One command in its own process group; `on_end` runs once it ended, then the log closes.

    Example::

        run = ProcessRun(["python", "-c", "print(1)"], env, cwd, log, timeout=60, on_end=done)
        run.start()      # raises OSError when the command cannot be started
        run.kill()       # cancel: SIGTERM to the group, SIGKILL after KILL_GRACE_S
    """

    def __init__(
        self,
        argv: list[str],
        env: dict[str, str],
        cwd: Path,
        log: LogBook,
        timeout: float | None,
        on_end: Callable[[Outcome], None],
    ) -> None:
        self.argv = argv
        self.env = env
        self.cwd = cwd
        self.log = log
        self.timeout = timeout
        self.on_end = on_end
        self._process: subprocess.Popen[bytes] | None = None
        self._why: Literal["timeout", "killed"] | None = None
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        self.cwd.mkdir(parents=True, exist_ok=True)
        self._process = subprocess.Popen(
            self.argv,
            env=self.env,
            cwd=self.cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        threading.Thread(target=self._pump, name=f"run-{self._process.pid}", daemon=True).start()
        if self.timeout:
            self._timer = threading.Timer(self.timeout, self._stop, args=("timeout",))
            self._timer.daemon = True
            self._timer.start()

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def kill(self) -> None:
        self._stop("killed")

    def _stop(self, why: Literal["timeout", "killed"]) -> None:
        with self._lock:
            process = self._process
            if process is None or process.poll() is not None or self._why is not None:
                return
            self._why = why
        _signal_group(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(KILL_GRACE_S)
        # as a container is stopped: whatever is left of the group after the grace, even once
        # its first process is gone (a child that ignores SIGTERM would hold the log open)
        _signal_group(process.pid, signal.SIGKILL)

    def _pump(self) -> None:
        process = self._process
        assert process is not None and process.stdout is not None
        for raw in process.stdout:
            self.log.append(raw.decode("utf-8", "replace").rstrip("\r\n"))
        code = process.wait()
        if self._timer is not None:
            self._timer.cancel()
        _signal_group(process.pid, signal.SIGKILL)  # whatever it left behind in its group
        with self._lock:
            why = self._why
        try:
            self.on_end(Outcome(why or "exited", code))
        finally:
            self.log.close()


def _signal_group(pgid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)
