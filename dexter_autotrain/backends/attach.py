"""Follow a run's training on any backend: start it (or re-attach), stream its log, poll it
until it ends, collect the model, and judge the result as local training is judged.

The handle goes to `state.json` (`training_handle`, with `training_since`) as soon as the
backend returns it, so that a later `status`, `logs -f`, `cancel` or `submit --resume` can
find the training again. A remote backend's log is mirrored into `logs/training.log`.
"""

from __future__ import annotations

import errno
import os
import queue
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from dexter_autotrain.backends.base import Backend, Handle, Poll
from dexter_autotrain.backends.local import scrub_tokens
from dexter_autotrain.errors import Terminated, ToolError, TrainingCancelled, TrainingDetached
from dexter_autotrain.policy.prices import timeout_seconds
from dexter_autotrain.runs import Run
from dexter_autotrain.training.log import Progress, failure_cause, log_reports_failure

LOCAL = "local"
POLL_SECONDS = 2.0
RESTART_SECONDS = 2.0
DRAIN_SECONDS = 30.0
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
FULL_DISK_BYTES = 1 << 20
"""Less free space than this where a training failed: the disk filled up."""
_END = object()


@dataclass(frozen=True)
class FollowOptions:
    """How `submit` follows a training.

    Attributes:
        detach: return as soon as the training started (or was found again), leaving it
            running (remote backends only).
        keep_running: asked on Ctrl-C during a remote training; True leaves the job
            running (the run stays `training`), False cancels it. None: always cancel.
        report: one line for people (the job started, re-attached, cancelled).
    """

    detach: bool = False
    keep_running: Callable[[Handle], bool] | None = None
    report: Callable[[str], None] = lambda line: None


DEFAULT_FOLLOW = FollowOptions()
"""Follow to the end; Ctrl-C cancels."""


def follow_training(
    backend: Backend,
    run: Run,
    on_progress: Callable[[Progress], None],
    options: FollowOptions = DEFAULT_FOLLOW,
) -> Progress:
    """Train the run's rendered config on `backend` and bring the model into the run.

    A run whose recorded handle names a job of this (remote) backend that is still going,
    or that completed, is re-attached instead of started again.

    Args:
        backend: where to train.
        run: a prepared run (its config rendered, `model_dir` set).
        on_progress: called with the progress whenever the log says something new.
        options: detach, the Ctrl-C question, one-line reports.

    Returns:
        The final progress (steps, epoch, validation metrics) read from the log.

    Raises:
        ToolError: training failed, timed out (`compute.timeout`) or left no model; the
            message holds the last lines of the log.
        TrainingCancelled: Ctrl-C or SIGTERM (the training was stopped), or the backend
            says it was cancelled.
        TrainingDetached: `options.detach`, or Ctrl-C answered with "leave it running".

    Example:
        >>> follow_training(get_backend("local"), run, print)  # doctest: +SKIP
    """
    handle: Handle | None = None
    try:  # one block from the start: a Ctrl-C just after the handle was recorded stops it too
        handle = _reattach(backend, run, options) or _start(backend, run, options)
        if options.detach:
            raise TrainingDetached(detached_message(handle, run), str(run.path))
        progress, poll = _follow(backend, handle, run, on_progress)
    except KeyboardInterrupt as interrupt:
        handle = handle or _recorded(backend, run)
        if handle is not None:  # None: interrupted before the training started
            _interrupted(backend, handle, run, options, interrupt)
        raise
    except TrainingDetached:
        raise
    except BaseException:
        if backend.name == LOCAL and handle is not None:  # never leave a local training behind
            backend.cancel(handle)
        raise
    _judge(backend, handle, run, poll)
    return progress


def _recorded(backend: Backend, run: Run) -> Handle | None:
    """The training this backend started for the run, as its state records it."""
    recorded = run.state().training_handle
    return Handle.from_record(recorded) if recorded and recorded.kind == backend.name else None


def detached_message(handle: Handle, run: Run) -> str:
    """How to follow, and later continue, a training that goes on without submit."""
    urls = "".join(f"\n  {name}: {url}" for name, url in handle.urls.items())
    return (
        f"training goes on on {handle.kind} as {handle.id}; follow it with `dexter-auto logs "
        f"-f {run.path}`, stop it with `dexter-auto cancel {run.path}`, and continue with "
        f"`dexter-auto submit --resume {run.path}` (it re-attaches, or collects the model "
        f"once the job finished){urls}"
    )


def _start(backend: Backend, run: Run, options: FollowOptions) -> Handle:
    """Start the training and record its handle, last: a Ctrl-C once the handle is on record
    (where `status` and `cancel` look) lands where `follow_training` stops the training, not
    in a report still being printed."""
    handle = backend.start(run)
    urls = " ".join(handle.urls.values())
    options.report(f"started on {backend.name}: {handle.id} {urls}".rstrip())
    run.update(training_handle=handle.to_dict(), training_since=time.time())
    return handle


def _reattach(backend: Backend, run: Run, options: FollowOptions) -> Handle | None:
    """The recorded remote training, when it is still going or completed; None when there
    is none, it is local (local training ends with its submit), or it failed or was
    cancelled (the stage then trains again)."""
    recorded = run.state().training_handle
    if recorded is None or backend.name == LOCAL or recorded.kind != backend.name:
        return None
    handle = Handle.from_record(recorded)
    poll = backend.poll(handle)
    if poll.phase in ("failed", "cancelled"):
        options.report(f"the earlier job {handle.id} is {poll.phase}: starting a new one")
        return None
    options.report(f"re-attached to {backend.name} job {handle.id} ({poll.phase})")
    return handle


def _follow(
    backend: Backend, handle: Handle, run: Run, on_progress: Callable[[Progress], None]
) -> tuple[Progress, Poll]:
    """Feed the log to the progress (and, for a remote backend, to the log mirror) while
    polling until the training ends or its time is up."""
    since = run.state().training_since or time.time()
    deadline = since + timeout_seconds(run.spec().compute.timeout)
    mirror = None if backend.name == LOCAL else run.log_file
    with _LogFeed(backend, handle, mirror, on_progress) as feed:
        poll, polled = Poll("starting"), 0.0
        while True:
            ended = feed.pump(wait=0.5)
            if ended or time.monotonic() - polled >= POLL_SECONDS:
                poll, polled = backend.poll(handle), time.monotonic()
                if poll.finished:
                    break
                if ended:
                    feed.restart()
            if time.time() > deadline:
                backend.cancel(handle)
                raise ToolError(
                    f"training timed out after {run.spec().compute.timeout} (compute.timeout); "
                    f"the {backend.name} training was stopped" + _last_lines(run.log_file)
                )
        feed.finish()
    return feed.progress, poll


def _interrupted(
    backend: Backend, handle: Handle, run: Run, options: FollowOptions, interrupt: BaseException
) -> None:
    """Ctrl-C: a remote job may be left running when whoever pressed it says so (SIGTERM
    never asks); otherwise the training is stopped."""
    asked = backend.name != LOCAL and options.keep_running is not None
    if asked and not isinstance(interrupt, Terminated) and options.keep_running(handle):
        raise TrainingDetached(detached_message(handle, run), str(run.path)) from None
    backend.cancel(handle)
    options.report(f"stopped the {backend.name} training {handle.id}")
    raise TrainingCancelled() from None


def _judge(backend: Backend, handle: Handle, run: Run, poll: Poll) -> None:
    """Success as local training is judged: the model's weights and config there and no
    failure in the log, never an exit code."""
    if poll.phase == "cancelled":
        raise TrainingCancelled()
    if poll.phase == "failed":
        raise ToolError(
            f"training failed on {backend.name}: {poll.message or 'no reason given'}"
            + _last_lines(run.log_file)
        )
    backend.collect(handle, run)
    model_dir = run.model_folder()
    scrub_tokens(model_dir)
    if log_reports_failure(run.log_file) or not _has_weights(model_dir):
        if shutil.disk_usage(run.path).free < FULL_DISK_BYTES:  # the log itself is cut short
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        cause = failure_cause(run.log_file) or ["no traceback in the log"]
        raise ToolError(
            f"training failed: {cause[-1].strip()} (judged from the log and the model "
            "folder: AutoTrain exits 0 even when training fails)\n"
            + "\n".join(cause)
            + f"\nfull log: {run.log_file}"
        )


def _has_weights(model_dir: Path) -> bool:
    return (model_dir / "config.json").is_file() and any(
        (model_dir / name).is_file() for name in WEIGHT_FILES
    )


def _last_lines(log: Path, count: int = 20) -> str:
    cause = failure_cause(log)
    if not cause and log.is_file():
        cause = log.read_text(encoding="utf-8", errors="replace").splitlines()[-count:]
    return "".join(f"\n{line}" for line in cause) + f"\nfull log: {log}"


class _LogFeed:
    """A backend's log, followed in a thread: each line to the progress and to the mirror
    file. A follow that ends while the training goes on is started again, skipping the lines
    already seen (a re-connected follower gets the whole log again, in the same order)."""

    def __init__(
        self,
        backend: Backend,
        handle: Handle,
        mirror: Path | None,
        on_progress: Callable[[Progress], None],
    ):
        self.backend, self.handle, self.on_progress = backend, handle, on_progress
        self.mirror_path = mirror
        self.mirror: IO[str] | None = None
        self.progress = Progress()
        self.seen = 0
        self.lines: queue.Queue = queue.Queue()
        self.running = False
        self.started = 0.0
        self.error: Exception | None = None

    def __enter__(self) -> _LogFeed:
        if self.mirror_path is not None:
            self.mirror_path.parent.mkdir(parents=True, exist_ok=True)
            self.mirror = self.mirror_path.open("w", encoding="utf-8")
        self.restart()
        return self

    def __exit__(self, *_: object) -> None:
        if self.mirror is not None:
            self.mirror.close()

    def restart(self) -> None:
        """Follow the log (again) in a thread, unless one runs or one started just now."""
        if self.running or time.monotonic() - self.started < RESTART_SECONDS:
            return
        self.running, self.started = True, time.monotonic()
        reader = threading.Thread(target=self._read, args=(True, self.seen, self.lines))
        reader.daemon = True
        reader.start()

    def _read(self, follow: bool, skip: int, lines: queue.Queue) -> None:
        try:
            for index, line in enumerate(self.backend.logs(self.handle, follow)):
                if index >= skip:
                    lines.put(line)
        except Exception as error:  # a broken stream: the polling goes on
            lines.put(error)
        finally:
            lines.put(_END)

    def pump(self, wait: float) -> bool:
        """Take what arrived (waiting up to `wait` for the first line); True when the
        follow ended."""
        try:
            item = self.lines.get(timeout=wait)
        except queue.Empty:
            return False
        while True:
            if item is _END:
                self.running = False
                return True
            if isinstance(item, Exception):
                self.error = item
            else:
                self._take(item)
            try:
                item = self.lines.get_nowait()
            except queue.Empty:
                return False

    def _take(self, line: str) -> None:
        self.seen += 1
        if self.mirror is not None:
            self.mirror.write(line.rstrip("\n") + "\n")
            self.mirror.flush()
        if self.progress.read(line):
            self.on_progress(self.progress)

    def finish(self) -> None:
        """After the training ended: the rest of the log (the follow ends with the
        training); read once more without following when the follow broke or hangs."""
        deadline = time.monotonic() + DRAIN_SECONDS
        while self.running and time.monotonic() < deadline:
            self.pump(wait=0.5)
        if self.running or self.error is not None:
            self.running, self.lines = False, queue.Queue()  # a hung reader keeps the old one
            self._read(False, self.seen, self.lines)
            while not self.pump(wait=0):
                pass
