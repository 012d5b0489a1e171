"""Run directories: one folder per run holding everything it read and wrote, and its state.

`runs/<job>/<run-id>/state.json` is rewritten atomically at every transition, so a killed
process leaves a run that `status` can explain and `submit --resume` can continue. States:
pending -> preparing -> training -> trained -> evaluating -> evaluated -> carding -> carded
(publishing and deployment follow), or failed / cancelled with the reason.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from dexter_autotrain.errors import ToolError, UserError
from dexter_autotrain.paths import write_atomically
from dexter_autotrain.spec import JobSpec

BUSY_STATES = ("pending", "preparing", "training", "evaluating", "carding")
"""States in which a live process is working on the run."""
RUNS_ROOT = Path("runs")


def now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Run:
    """One run directory and its state file."""

    path: Path

    @property
    def run_id(self) -> str:
        return self.path.name

    @property
    def job(self) -> str:
        return self.path.parent.name

    @property
    def state_file(self) -> Path:
        return self.path / "state.json"

    @property
    def log_file(self) -> Path:
        return self.path / "logs" / "training.log"

    def spec(self) -> JobSpec:
        """The spec this run was started with (spec.yaml: resolved, defaults filled in)."""
        return JobSpec.model_validate(yaml.safe_load((self.path / "spec.yaml").read_text()))

    def state(self) -> dict[str, Any]:
        return json.loads(self.state_file.read_text())

    def update(self, **changes: Any) -> dict[str, Any]:
        """Merge `changes` into the state and write it atomically."""
        state = self.state() if self.state_file.exists() else {}
        state |= changes | {"updated": now()}
        write_atomically(self.state_file, json.dumps(state, indent=2) + "\n")
        return state

    def complete(self, stage: str, **changes: Any) -> None:
        completed = [*self.state().get("completed", []), stage]
        self.update(completed=completed, **changes)

    def describe(self) -> dict[str, Any]:
        """The state, plus whether a run that claims to be busy is really still running."""
        state = self.state()
        if state["state"] in BUSY_STATES and not _alive(state.get("pid")):
            state["interrupted"] = True
            state["explanation"] = (
                f"interrupted while {state['state']}: the process that ran "
                "it is gone; continue with `dexter-auto submit --resume "
                f"{self.path}`"
            )
        return state


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(") ")[-1].startswith("Z"))


def create_run(job: str, root: Path = RUNS_ROOT) -> Run:
    run_id = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)
    run = Run(root.resolve() / job / run_id)  # AutoTrain runs from inside it: no relative paths
    run.path.mkdir(parents=True)
    run.update(
        job=job, run_id=run_id, state="pending", created=now(), completed=[], pid=os.getpid()
    )
    return run


def find_run(reference: str, root: Path = RUNS_ROOT) -> Run:
    """A run by path, `job/run-id`, run id, or job name (its latest run)."""
    for candidate in (Path(reference), root / reference):
        if (candidate / "state.json").is_file():
            return Run(candidate)
        if candidate.is_dir() and candidate.parent == root:
            runs = list_runs(root, job=candidate.name)
            if runs:
                return runs[0]
    matches = list(root.glob(f"*/{reference}/state.json")) if root.is_dir() else []
    if len(matches) == 1:
        return Run(matches[0].parent)
    raise UserError(f"{reference}: no such run (see `dexter-auto runs`)")


def list_runs(root: Path = RUNS_ROOT, job: str | None = None) -> list[Run]:
    """Runs, newest first."""
    if not root.is_dir():
        return []
    pattern = f"{job or '*'}/*/state.json"
    return [
        Run(p.parent) for p in sorted(root.glob(pattern), key=lambda p: p.parent.name, reverse=True)
    ]


@contextmanager
def job_lock(job: str, root: Path = RUNS_ROOT) -> Iterator[None]:
    """Hold the job's lock: a second submit of the same job fails at once instead of colliding."""
    lock_path = root / job / ".lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise ToolError(
                f"job `{job}` is already being submitted by {holder}; wait for it "
                "to finish, or stop it"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        try:
            yield
        finally:
            handle.seek(0)
            handle.truncate()
            fcntl.flock(handle, fcntl.LOCK_UN)
