"""Where training runs. Each backend turns a prepared run directory into a trained model."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from dexter_autotrain.errors import UserError
from dexter_autotrain.runs import Run
from dexter_autotrain.training_log import Progress


class Backend(Protocol):
    def train(self, run: Run, on_progress: Callable[[Progress], None]) -> Progress:
        """Train the run's rendered config and return the final progress (steps, epoch,
        validation metrics); raise ToolError with the cause if it fails."""
        ...


def get_backend(name: str) -> Backend:
    if name == "local":
        from dexter_autotrain.backends.local import LocalBackend

        return LocalBackend()
    raise UserError(
        f"compute.backend: `{name}` is not available in this version yet "
        "(use `local`, or `submit --smoke`, which always trains locally)"
    )
