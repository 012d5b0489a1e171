"""The backend seam: where training runs, as a small protocol over a persisted handle.

A backend starts a run's training somewhere (this machine, an HF Job, an AutoTrain Space)
and returns a `Handle` that `submit` writes to `state.json` before it does anything else.
Everything after that works from the handle alone, so a later process (`status`, `logs -f`,
`cancel`, `submit --resume` after the laptop closed) can poll, follow, cancel or collect a
run it did not start. Success is never the backend's word: the collected model folder
(weights, config, trainer state) and the log decide, as they do locally.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

from dexter_autotrain.record import HandleRecord
from dexter_autotrain.runs import Run
from dexter_autotrain.training.log import Progress

Phase = Literal["starting", "running", "completed", "failed", "cancelled"]
FINISHED_PHASES: tuple[Phase, ...] = ("completed", "failed", "cancelled")


@dataclass(frozen=True)
class Handle:
    """Where a run's training lives; everything needed to find it again, and no secret.

    Attributes:
        kind: the backend's name (`local`, `hf-jobs`, `autotrain-spaces`).
        id: the backend's own id (local: the process group id; hf-jobs: the job id;
            autotrain-spaces: the Space's repo id).
        urls: links a person can open (the job page, the Space, the staging repo).
        details: whatever else the backend needs to find the run again (a start time,
            a namespace, a staging commit); plain JSON values only.
    """

    kind: str
    id: str
    urls: dict[str, str] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_record(cls, record: HandleRecord) -> Handle:
        """The handle a run's state records (`training_handle`)."""
        return cls(record.kind, record.id, dict(record.urls), dict(record.details))


@dataclass(frozen=True)
class Poll:
    """What a backend says about a run right now.

    Attributes:
        phase: one of `Phase`; `completed` means only that the backend stopped without an
            error of its own: the collected files still decide success.
        message: one line for people (the remote stage, an error message).
        progress: training progress when the backend knows it (from its log).
    """

    phase: Phase
    message: str = ""
    progress: Progress | None = None

    @property
    def finished(self) -> bool:
        return self.phase in FINISHED_PHASES


class Backend(Protocol):
    """Where training runs. All methods but `start` work from a handle read back from
    `state.json`, in a process other than the one that started the run."""

    name: str

    def start(self, run: Run) -> Handle:
        """Start training the run's rendered config; return at once with the handle."""
        ...

    def poll(self, handle: Handle) -> Poll:
        """The run's phase now."""
        ...

    def logs(self, handle: Handle, follow: bool) -> Iterator[str]:
        """The training log's lines from the start; with `follow`, until the run ends."""
        ...

    def cancel(self, handle: Handle) -> None:
        """Stop the run (a no-op when it already ended)."""
        ...

    def collect(self, handle: Handle, run: Run) -> None:
        """Bring the trained model folder into the run directory (`state.model_dir`)."""
        ...
