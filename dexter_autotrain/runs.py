"""Run directories: one folder per run holding everything it read and wrote, and its state.

`runs/<job>/<run-id>/state.json` is rewritten atomically at every transition, so a killed
process leaves a run that `status` can explain and `submit --resume` can continue. States:
pending -> preparing -> prepared -> training -> trained -> evaluating -> evaluated -> carding
-> carded -> publishing -> published -> deploying -> deployed, or failed / cancelled with the
reason.
While training, `training_handle` says where the training runs (backends/base.py's Handle)
and `training_since` when it started (Unix time).
"""

from __future__ import annotations

import datetime as dt
import glob
import json
import os
import secrets
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from filelock import FileLock, Timeout

from dexter_autotrain.errors import ToolError, UserError
from dexter_autotrain.record import SCHEMA_VERSION, RunState
from dexter_autotrain.report_record import REPORT_FILE, EvaluationReport
from dexter_autotrain.spec import JobSpec
from dexter_autotrain.system.files import write_atomically
from dexter_autotrain.system.processes import group_alive, is_running, start_time

BUSY_STATES = (
    "pending",
    "preparing",
    "training",
    "evaluating",
    "carding",
    "publishing",
    "deploying",
)
"""States in which a live process is working on the run."""
RUNS_ROOT = Path("runs")
STATE_FILE = "state.json"
"""A run's state, in its folder; read and written only through `Run` (`record.RunState`)."""


def with_resolved(spec: JobSpec, resolved: dict[str, Any]) -> JobSpec:
    """`spec` with the training settings a run chose for itself (`max_seq_length: auto`)."""
    if not resolved:
        return spec
    return spec.model_copy(update={"training": spec.training.model_copy(update=resolved)})


def now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _moved_to_actions(name: str) -> Callable[..., Any]:
    """A deprecated `Run` method, now the function `dexter_autotrain.<name>(run, ...)`."""

    def method(self: Run, *args: Any, **kwargs: Any) -> Any:
        from dexter_autotrain.api import actions  # the shim's upward import (see pyproject)

        warnings.warn(
            f"Run.{name}() is deprecated and will be removed in the next minor version: "
            f"use dexter_autotrain.{name}(run, ...)",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(actions, name)(self, *args, **kwargs)

    method.__doc__ = f"Deprecated: `dexter_autotrain.{name}(run, ...)` (see `actions.{name}`)."
    return method


@dataclass(frozen=True)
class Run:
    """One run directory and its state file. What can be done with a run (evaluate, card,
    publish, deploy, cancel) is in `actions`, exported as `dexter_autotrain.evaluate(run)`..."""

    path: Path

    evaluate = _moved_to_actions("evaluate")
    card = _moved_to_actions("card")
    publish = _moved_to_actions("publish")
    require = _moved_to_actions("require")

    @property
    def run_id(self) -> str:
        return self.path.name

    @property
    def job(self) -> str:
        return self.path.parent.name

    @property
    def state_file(self) -> Path:
        return self.path / STATE_FILE

    @property
    def log_file(self) -> Path:
        return self.path / "logs" / "training.log"

    def model_folder(self, state: RunState | None = None) -> Path:
        """Where the run's trained model is (or will be): `<run>/<state's model_dir>`, read
        from `state` when the caller has just read it.

        Raises:
            ToolError: the state records no model folder (a run that never prepared).
        """
        state = self.state() if state is None else state
        if not state.model_dir:
            raise ToolError(f"{self.state_file}: no model folder recorded (`model_dir`)")
        return self.path / state.model_dir

    def spec_folder(self, state: RunState | None = None) -> Path:
        """The folder of the spec file the run read: a card template, a baseline file and
        relative data paths are found from there.

        Raises:
            ToolError: the run recorded no spec (it failed before reading one).
        """
        state = self.state() if state is None else state
        if state.spec_path is None:
            raise ToolError(f"{self.state_file}: no spec recorded (`spec_path`)")
        return Path(state.spec_path).parent

    def spec(self, state: RunState | None = None) -> JobSpec:
        """The spec this run was started with (spec.yaml: resolved, defaults filled in), with
        the values submit chose for its `auto` settings (from `state`, when the caller has
        just read it)."""
        spec = JobSpec.model_validate(yaml.safe_load((self.path / "spec.yaml").read_text()))
        return with_resolved(spec, (self.state() if state is None else state).resolved)

    def state(self) -> RunState:
        """The state file as a typed record (`record.RunState`).

        Raises:
            ToolError: the file is missing, unreadable or not a run record.
        """
        return RunState.check(self._read(), str(self.state_file))

    def evaluation(self) -> EvaluationReport:
        """The run's own evaluation report (`evaluation.json`, the card's), typed.

        Raises:
            ToolError: the run has not been evaluated, or its report is unreadable or not an
                evaluation report.
        """
        return EvaluationReport.read(self.path)

    def evaluation_if_any(self) -> EvaluationReport | None:
        """`evaluation()`, or None before the run is evaluated."""
        return self.evaluation() if (self.path / REPORT_FILE).is_file() else None

    def _read(self) -> dict[str, Any]:
        try:
            state = json.loads(self.state_file.read_text())
        except (OSError, ValueError) as error:
            raise ToolError(f"{self.state_file}: unreadable: {_cause(error)}") from None
        if not isinstance(state, dict) or not isinstance(state.get("state"), str):
            raise ToolError(f"{self.state_file}: not a run state (no `state` field)")
        return state

    def update(self, **changes: Any) -> RunState:
        """Merge `changes` into the state, check the result is a run record (`RunState`),
        and write it atomically (never recreating a run directory that was deleted).

        Raises:
            ToolError: the run directory is gone, or the change would not be a run record
                (a misspelt key, a value of the wrong type: a bug, named here).
        """
        if not self.path.is_dir():
            raise ToolError(f"{self.path}: the run directory is gone (deleted while in use?)")
        state = self._read() if self.state_file.exists() else {}
        state |= changes | {"updated": now()}
        record = RunState.check(state, f"{self.state_file} (changing {', '.join(changes)})")
        write_atomically(self.state_file, json.dumps(state, indent=2) + "\n")
        return record

    def complete(self, stage: str, **changes: Any) -> None:
        """Record `stage` as completed (once, however often it ran), with `changes`."""
        completed = [name for name in self.state().completed if name != stage]
        self.update(completed=[*completed, stage], **changes)

    def describe(self) -> RunStatus:
        """The record, and whether a run that claims to be busy is really still running; a
        run whose state cannot be read is `corrupt`, with the cause."""
        try:
            state = self.state()
        except ToolError as error:
            reason = "state.json " + str(error).removeprefix(f"{self.state_file}: ")
            return RunStatus(self, None, explanation=reason)
        if state.state not in BUSY_STATES or is_running(state.pid, state.pid_started):
            return RunStatus(self, state)
        if self.remote_training(state):
            return RunStatus(self, state, detached=True, explanation=self._detached(state))
        explanation = (
            f"interrupted while {state.state}: the process that ran it is gone; continue "
            f"with `dexter-auto submit --resume {self.path}`"
        )
        return RunStatus(self, state, interrupted=True, explanation=explanation)

    def _detached(self, state: RunState) -> str:
        kind = state.training_handle.kind if state.training_handle else "a remote backend"
        return (
            f"training on {kind} with no submit following it: `dexter-auto status` asks "
            f"{kind} how it goes, `dexter-auto logs -f` follows it, `dexter-auto submit "
            f"--resume {self.path}` re-attaches (or collects the model once it finished)"
        )

    @staticmethod
    def remote_training(state: RunState) -> bool:
        """Whether the state is of a run training on a remote backend, which goes on
        without a local process."""
        handle = state.training_handle
        return state.state == "training" and handle is not None and handle.kind != "local"

    def training_alive(self) -> bool:
        """Whether the local training processes started for this run are still running."""
        handle = self.state().training_handle
        if handle is None or handle.kind != "local":
            return False
        started = handle.details.get("started")
        return group_alive(int(handle.id), started if isinstance(started, int) else None)


@dataclass(frozen=True)
class RunStatus:
    """A run as `status`, `runs` and `cancel` see it: its record (None: the state file is
    unreadable, the run `corrupt`), and whether a run that claims to be busy still is."""

    run: Run
    record: RunState | None
    interrupted: bool = False
    detached: bool = False
    explanation: str | None = None
    """Why the run is not what its record says (or why it is corrupt), in one line."""

    @property
    def state(self) -> str:
        return self.record.state if self.record else "corrupt"

    def to_json(self) -> dict[str, Any]:
        """The state file's keys as written, with `interrupted` or `detached` and the
        explanation where they apply (`corrupt`: the job, run id and reason)."""
        if self.record is None:
            run = self.run
            return {
                "job": run.job,
                "run_id": run.run_id,
                "state": "corrupt",
                "reason": self.explanation,
            }
        shown = self.record.to_json()
        if self.interrupted:
            shown["interrupted"] = True
        if self.detached:
            shown["detached"] = True
        return shown | ({"explanation": self.explanation} if self.explanation else {})


def _cause(error: Exception) -> str:
    return error.strerror if isinstance(error, OSError) and error.strerror else str(error)


def owner() -> dict[str, int | None]:
    """This process, as a run's state records who works on it."""
    return {"pid": os.getpid(), "pid_started": start_time(os.getpid())}


def new_run_id() -> str:
    """A run's (or a sweep's) id: its UTC start time and 4 random hex digits."""
    return dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(2)


def create_run(job: str, root: Path = RUNS_ROOT) -> Run:
    run_id = new_run_id()
    run = Run(root.resolve() / job / run_id)  # AutoTrain runs from inside it: no relative paths
    run.path.mkdir(parents=True)
    return start_record(run, job, run_id)


def start_record(run: Run, job: str, run_id: str, created: str | None = None) -> Run:
    """Write a new run's first state, in its existing folder: pending, nothing completed,
    worked on by this process, created now (or at `created`)."""
    run.update(
        schema_version=SCHEMA_VERSION,
        job=job,
        run_id=run_id,
        state="pending",
        created=now() if created is None else created,
        completed=[],
        **owner(),
    )
    return run


def find_run(reference: str, root: Path = RUNS_ROOT) -> Run:
    """A run by path, `job/run-id`, run id, or job name (its latest run); its path absolute,
    as AutoTrain runs from inside it."""
    return Run(_find_run_path(reference, root).resolve())


def _find_run_path(reference: str, root: Path) -> Path:
    for candidate in (Path(reference), root / reference):
        if (candidate / STATE_FILE).is_file():
            return candidate
        if candidate.is_dir() and candidate.parent == root:
            runs = list_runs(root, job=candidate.name)
            if runs:
                return runs[0].path
    pattern = f"*/{glob.escape(reference)}/state.json"
    matches = list(root.glob(pattern)) if root.is_dir() and reference else []
    if len(matches) == 1:
        return matches[0].parent
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
    """Hold the job's lock: a second submit of the same job fails at once instead of colliding.
    The holder's pid is kept beside the lock (filelock truncates the lock file itself)."""
    folder = root / job
    folder.mkdir(parents=True, exist_ok=True)
    holder = folder / ".lock-holder"
    lock = FileLock(folder / ".lock", timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise ToolError(
            f"job `{job}` is already being submitted by {_lock_holder(holder)}; wait for it "
            "to finish, or stop it"
        ) from None
    try:
        holder.write_text(f"pid {os.getpid()}")
        yield
    finally:
        holder.unlink(missing_ok=True)
        lock.release()


def _lock_holder(holder: Path) -> str:
    try:
        return holder.read_text().strip() or "another process"
    except OSError:
        return "another process"
