"""A stand-in for remote compute: each training runs as a process of its own, in a folder of
its own (a copy of the run's inputs, as a job gets its staged inputs), not tied to the
`submit` that started it, so that it outlives a killed submit as an HF Job does.

Imported, it registers itself as the `hf-jobs` backend: name it in $DEXTER_BACKEND_PLUGINS
(with tests/ on PYTHONPATH) and set $DEXTER_TEST_REMOTE_ROOT to the folder its "jobs" live
in. Every start is counted in `starts.log` there.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import yaml
from detached_jobs import ROOT_ENV, starts

from dexter_autotrain.backends import register_backend
from dexter_autotrain.backends.base import Handle, Poll
from dexter_autotrain.backends.local import follow_file, training_command
from dexter_autotrain.runs import Run
from dexter_autotrain.system.processes import group_alive, is_running, start_time
from dexter_autotrain.training.render import CONFIG_FILE_NAME, OPTIONS_FILE_NAME
from dexter_autotrain.training.runner_env import default_runner

NAME = "hf-jobs"


class DetachedBackend:
    name = NAME

    def __init__(self) -> None:
        self.root = Path(os.environ[ROOT_ENV])

    def start(self, run: Run) -> Handle:
        job = self.root / f"{run.run_id}-{len(starts(self.root)) + 1}"
        job.mkdir(parents=True)
        config = yaml.safe_load((run.path / CONFIG_FILE_NAME).read_text())
        config["hub"]["push_to_hub"] = False  # this "job" keeps its model for collect
        (job / CONFIG_FILE_NAME).write_text(yaml.safe_dump(config))
        shutil.copy(run.path / OPTIONS_FILE_NAME, job / OPTIONS_FILE_NAME)
        shutil.copytree(run.path / "data", job / "data")
        runner = default_runner()
        with (job / "job.log").open("wb") as log:
            process = subprocess.Popen(
                training_command(runner),
                cwd=job,
                env=runner.environ(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        with (self.root / "starts.log").open("a") as counted:
            counted.write(run.run_id + "\n")
        details = {"pid": process.pid, "started": start_time(process.pid)}
        details["model_dir"] = run.model_folder().name
        return Handle(self.name, job.name, {"job": job.as_uri()}, details)

    def poll(self, handle: Handle) -> Poll:
        if (self._job(handle) / "cancelled").exists():
            return Poll("cancelled", "cancelled")
        if self._running(handle):
            return Poll("running", "RUNNING")
        return Poll("completed", "COMPLETED")

    def logs(self, handle: Handle, follow: bool) -> Iterator[str]:
        return follow_file(self._job(handle) / "job.log", lambda: follow and self._running(handle))

    def cancel(self, handle: Handle) -> None:
        """SIGTERM to the job's process group, then SIGKILL to whatever of it is left (the
        training's grandchildren ignore SIGTERM, as AutoTrain's do)."""
        (self._job(handle) / "cancelled").touch()
        pgid, started = handle.details["pid"], handle.details["started"]
        leader = (signal.SIGTERM, lambda: self._running(handle))  # its graceful exit
        rest = (signal.SIGKILL, lambda: group_alive(pgid, started))
        for sig, alive in (leader, rest):
            if group_alive(pgid, started):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(pgid, sig)
            deadline = time.monotonic() + 10
            while alive() and time.monotonic() < deadline:
                time.sleep(0.1)

    def collect(self, handle: Handle, run: Run) -> None:
        model_dir = handle.details["model_dir"]
        shutil.copytree(self._job(handle) / model_dir, run.path / model_dir, dirs_exist_ok=True)

    def _job(self, handle: Handle) -> Path:
        return self.root / handle.id

    @staticmethod
    def _running(handle: Handle) -> bool:
        return is_running(handle.details["pid"], handle.details["started"])


register_backend(NAME, DetachedBackend)
