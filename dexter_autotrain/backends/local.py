"""Train on this machine: AutoTrain's trainer in the runner environment, from the run dir.

The handle is the training's process group and its start time. The group is led by the
watchdog (watchdog.py), whose stdin is a pipe only the `submit` that started it holds: when
that process dies, so does the training. The output goes straight to `logs/training.log`.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from dexter_autotrain.backends.base import Handle, Poll
from dexter_autotrain.errors import ToolError
from dexter_autotrain.runs import Run
from dexter_autotrain.system.files import write_atomically
from dexter_autotrain.system.processes import group_alive, start_time
from dexter_autotrain.system.versions import TRAINING_SCRIPT
from dexter_autotrain.training.render import CONFIG_FILE_NAME, OPTIONS_FILE_NAME
from dexter_autotrain.training.runner_env import RunnerEnv, default_runner

STOP_GRACE_SECONDS = 10
FOLLOW_INTERVAL_SECONDS = 0.2
WATCHDOG = Path(__file__).with_name("watchdog.py")
TRAIN_SCRIPT = Path(__file__).parents[1] / "runner_scripts" / "train.py"
TOKEN_KEYS = ("token", "hub_token")
"""Keys under which AutoTrain writes a Hub token into the JSON files of the model folder."""
SCRUB_MAX_BYTES = 1 << 22


class LocalBackend:
    """Training as a process group on this machine, tied to the `submit` that starts it."""

    name = "local"

    def __init__(self, runner: RunnerEnv | None = None):
        self.runner = runner or default_runner()
        self._watchdogs: dict[str, subprocess.Popen] = {}
        """The watchdogs this process started, by group id: holding them holds their pipes."""

    def start(self, run: Run) -> Handle:
        """Start the runner's training script (AutoTrain's trainer, in-process: see
        runner_scripts/train.py) under the watchdog, in a new session and process group.

        Raises:
            ToolError: the runner environment is not installed.
        """
        if not self.runner.is_installed():
            raise ToolError(
                "the AutoTrain runner is not installed: run `dexter-auto runner install`"
            )
        run.update(training_frameworks=self.runner.versions() | TRAINING_SCRIPT)  # for the card
        run.log_file.parent.mkdir(parents=True, exist_ok=True)
        with run.log_file.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-I", str(WATCHDOG), *training_command(self.runner)],
                cwd=run.path,
                env=self.runner.environ(),
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._watchdogs[str(process.pid)] = process
        details = {"started": start_time(process.pid), "log": str(run.log_file)}
        return Handle(self.name, str(process.pid), details=details)

    def poll(self, handle: Handle) -> Poll:
        """`running` while a process of the group lives, else `completed` (the files decide
        whether training succeeded)."""
        watchdog = self._watchdogs.get(handle.id)
        if watchdog is not None:
            watchdog.poll()  # reap it, so that a finished leader reads as gone
        if _alive(handle):
            return Poll("running", f"process group {handle.id}")
        self._release(handle)
        return Poll("completed", "the training processes ended")

    def logs(self, handle: Handle, follow: bool) -> Iterator[str]:
        """`logs/training.log`'s lines; with `follow`, until the process group has ended."""
        return follow_file(Path(handle.details["log"]), lambda: follow and _alive(handle))

    def cancel(self, handle: Handle) -> None:
        """End the whole process group (the trainer and any worker): SIGTERM, then SIGKILL."""
        pgid = int(handle.id)
        for sig, wait in ((signal.SIGTERM, STOP_GRACE_SECONDS), (signal.SIGKILL, 5)):
            if not _alive(handle):
                break
            try:
                os.killpg(pgid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and self.poll(handle).phase == "running":
                time.sleep(0.2)
        self._release(handle)

    def collect(self, handle: Handle, run: Run) -> None:
        """Nothing to bring: the model is already in the run directory. Refuses while the
        training still runs."""
        if _alive(handle):
            raise ToolError(f"{run.path}: training (process group {handle.id}) is still running")
        self._release(handle)

    def _release(self, handle: Handle) -> None:
        """Close the pipe of a watchdog this process started, and reap it."""
        watchdog = self._watchdogs.pop(handle.id, None)
        if watchdog is not None:
            assert watchdog.stdin is not None
            watchdog.stdin.close()
            watchdog.wait()


def training_command(runner: RunnerEnv) -> list[str]:
    """The runner's training script on the run directory's config and options (to be run
    from the run directory, or a copy of it)."""
    return [str(runner.python), str(TRAIN_SCRIPT), CONFIG_FILE_NAME, OPTIONS_FILE_NAME]


def _alive(handle: Handle) -> bool:
    return group_alive(int(handle.id), handle.details.get("started"))


def follow_file(path: Path, writing: Callable[[], bool]) -> Iterator[str]:
    """A log file's lines from its start, split at newlines and at tqdm's carriage returns
    (empty ones left out); while `writing()` holds, wait for more.

    Args:
        path: the file (it may not exist yet).
        writing: whether more may come; asked before each read, so that what was written
            before it turned false is still read.

    Example:
        >>> for line in follow_file(Path("logs/training.log"), lambda: False): ...
    """
    pending, position = b"", 0
    while True:
        more = writing()
        chunk = read_from(path, position)
        position += len(chunk)
        *lines, pending = (pending + chunk).replace(b"\r", b"\n").split(b"\n")
        yield from (line.decode("utf-8", errors="replace") for line in lines if line)
        if not more:
            break
        if not chunk:
            time.sleep(FOLLOW_INTERVAL_SECONDS)
    if pending:
        yield pending.decode("utf-8", errors="replace")


def read_from(path: Path, position: int) -> bytes:
    """The file's bytes from `position` on; none when it does not exist (yet, or any more)."""
    try:
        with path.open("rb") as handle:
            handle.seek(position)
            return handle.read()
    except FileNotFoundError:
        return b""


def scrub_tokens(folder: Path) -> None:
    """Null any Hub token AutoTrain wrote into the folder's JSON files (training_params.json
    holds its `token`), so the model folder never carries a secret to a publish."""
    for path in folder.rglob("*.json") if folder.is_dir() else ():
        try:
            if path.stat().st_size > SCRUB_MAX_BYTES:
                continue
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and any(data.get(key) is not None for key in TOKEN_KEYS):
            scrubbed = data | {key: None for key in TOKEN_KEYS if key in data}
            write_atomically(path, json.dumps(scrubbed, indent=4) + "\n")
