"""`dexter-auto cancel`: stop a run wherever its training runs.

A remote training is cancelled through its backend. A `submit` still working on the run
gets SIGTERM, which stops it as Ctrl-C does (a local training with it, never asking) and
records why; otherwise `actions.cancel` records the run as cancelled (the pipeline owns the
run's transitions).
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass

from dexter_autotrain.backends import get_backend
from dexter_autotrain.backends.base import Handle
from dexter_autotrain.errors import ToolError, UserError
from dexter_autotrain.record import HandleRecord
from dexter_autotrain.runs import BUSY_STATES, Run
from dexter_autotrain.system.processes import is_running

SUBMIT_EXIT_SECONDS = 60
"""How long the submit that works on the run may take to stop (a local training gets 10 s
after SIGTERM, then SIGKILL; a remote cancel is one request)."""


def cancel_recorded(recorded: HandleRecord) -> Handle:
    """Cancel, through its backend, the training a run's `training_handle` records."""
    handle = Handle.from_record(recorded)
    get_backend(handle.kind).cancel(handle)
    return handle


@dataclass(frozen=True)
class Cancelled:
    """What `cancel_run` stopped.

    Attributes:
        run: the run.
        stopped: what was stopped, in words (`hf-jobs job 6a1f...`, `submit (pid 4242)`).
    """

    run: Run
    stopped: list[str]


def cancel_run(run: Run) -> Cancelled:
    """Stop the run's training (any backend) and the submit following it (which records
    the run cancelled; without one, `actions.cancel` does).

    Args:
        run: a run that is still busy (preparing, training, evaluating, ...).

    Returns:
        What was stopped.

    Raises:
        UserError: the run is not running (it finished, failed or was cancelled).
        ToolError: the backend could not cancel, or the submit did not stop in time.

    Example:
        >>> cancel_run(find_run("narrative")).stopped  # doctest: +SKIP
        ['submit (pid 4242)']
    """
    status = run.describe()
    state = status.record
    if state is None or state.state not in BUSY_STATES:
        raise UserError(f"{run.path}: nothing to cancel: the run is {status.state}")
    stopped = []
    recorded = state.training_handle
    if Run.remote_training(state) and recorded is not None:
        handle = cancel_recorded(recorded)
        stopped.append(f"{handle.kind} job {handle.id}")
    if not status.interrupted and not status.detached and state.pid and state.pid_started:
        _stop_submit(state.pid, state.pid_started)
        stopped.append(f"submit (pid {state.pid})")
    elif run.training_alive() and recorded is not None:  # its submit died; its watchdog lags
        handle = cancel_recorded(recorded)
        stopped.append(f"local process group {handle.id}")
    return Cancelled(run, stopped)


def _stop_submit(pid: int, started: int) -> None:
    """SIGTERM to the submit working on the run; wait until it has stopped."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + SUBMIT_EXIT_SECONDS
    while is_running(pid, started):
        if time.monotonic() > deadline:
            raise ToolError(
                f"submit (pid {pid}) did not stop within {SUBMIT_EXIT_SECONDS} s of SIGTERM; "
                f"end it with `kill -9 {pid}`"
            )
        time.sleep(0.2)
