"""Train on this machine: AutoTrain's trainer in the runner environment, from the run dir."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from dexter_autotrain.errors import ToolError
from dexter_autotrain.paths import write_atomically
from dexter_autotrain.processes import start_time
from dexter_autotrain.render import CONFIG_FILE_NAME, OPTIONS_FILE_NAME
from dexter_autotrain.runner_env import RunnerEnv, default_runner
from dexter_autotrain.runs import Run
from dexter_autotrain.training_log import Progress, failure_cause, log_reports_failure

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
STOP_GRACE_SECONDS = 10
WATCHDOG = Path(__file__).with_name("watchdog.py")
TRAIN_SCRIPT = Path(__file__).parents[1] / "runner_scripts" / "train.py"
TOKEN_KEYS = ("token", "hub_token")
"""Keys under which AutoTrain writes a Hub token into the JSON files of the model folder."""
SCRUB_MAX_BYTES = 1 << 22


class TrainingCancelled(Exception):
    """Ctrl-C or SIGTERM during training; the child processes have been stopped."""


class LocalBackend:
    def __init__(self, runner: RunnerEnv | None = None):
        self.runner = runner or default_runner()

    def train(self, run: Run, on_progress: Callable[[Progress], None]) -> Progress:
        if not self.runner.is_installed():
            raise ToolError(
                "the AutoTrain runner is not installed: run `dexter-auto runner install`"
            )
        model_dir = run.path / run.state()["model_dir"]
        run.update(training_frameworks=self.runner.versions())  # for the model card
        run.log_file.parent.mkdir(parents=True, exist_ok=True)
        progress = Progress()
        with run.log_file.open("wb") as log:
            process = self._start(run)
            try:
                run.update(training_pid=process.pid, training_started=start_time(process.pid))
                _stream(process, log, progress, on_progress)
            except (KeyboardInterrupt, TrainingCancelled):
                _stop(process)
                raise TrainingCancelled() from None
            except BaseException:
                _stop(process)
                raise
            finally:
                assert process.stdin is not None
                process.stdin.close()
                scrub_tokens(model_dir)
        if log_reports_failure(run.log_file) or not _has_weights(model_dir):
            cause = failure_cause(run.log_file) or ["no traceback in the log"]
            raise ToolError(
                f"training failed: {cause[-1].strip()} (AutoTrain exited "
                f"{process.returncode}, as it does even on failure)\n"
                + "\n".join(cause)
                + f"\nfull log: {run.log_file}"
            )
        return progress

    def _start(self, run: Run) -> subprocess.Popen:
        """The runner's training script (AutoTrain's trainer, in-process: see
        runner_scripts/train.py) under the watchdog, which leads a new session and process
        group and ends it when `submit` dies; its stdin is the pipe only `submit` holds."""
        return subprocess.Popen(
            [
                sys.executable,
                "-I",
                str(WATCHDOG),
                str(self.runner.python),
                str(TRAIN_SCRIPT),
                CONFIG_FILE_NAME,
                OPTIONS_FILE_NAME,
            ],
            cwd=run.path,
            env=self.runner.environ(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


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


def _stream(
    process: subprocess.Popen, log, progress: Progress, on_progress: Callable[[Progress], None]
) -> None:
    """Copy the child's output to the log, feeding each line (tqdm's \\r too) to progress."""
    assert process.stdout is not None
    pending = b""
    while chunk := process.stdout.read1(65536):
        log.write(chunk)
        log.flush()
        pending += chunk
        *lines, pending = pending.replace(b"\r", b"\n").split(b"\n")
        for line in lines:
            if progress.read(line.decode("utf-8", errors="replace")):
                on_progress(progress)
    process.wait()


def _stop(process: subprocess.Popen) -> None:
    """End the whole process group: autotrain, accelerate launch and its workers."""
    for sig, wait in ((signal.SIGTERM, STOP_GRACE_SECONDS), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if process.poll() is not None and not _group_alive(process.pid):
                return
            time.sleep(0.2)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _has_weights(model_dir: Path) -> bool:
    return (model_dir / "config.json").is_file() and any(
        (model_dir / name).is_file() for name in WEIGHT_FILES
    )
