"""Show a run's progress: a live rich view on a terminal, plain lines otherwise."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

if TYPE_CHECKING:
    from dexter_autotrain.training.log import Progress as TrainingProgress


class RichReporter:
    """Stage lines, then a progress bar with epoch, loss and AutoTrain's ETA."""

    def __init__(self, console: Console):
        self.console = console
        self.bar: Progress | None = None
        self.task = None

    def stage(self, name: str, detail: str) -> None:
        self.console.print(f"[bold]{name}[/bold]: {detail}")

    def progress(self, progress: TrainingProgress) -> None:
        if self.bar is None:
            self.bar = Progress(
                TextColumn("training"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total} steps"),
                TextColumn("{task.description}"),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task("", total=progress.total_steps or None)
        loss = f"loss {progress.loss:.4f}" if progress.loss is not None else ""
        self.bar.update(
            self.task,
            completed=progress.step,
            total=progress.total_steps or None,
            description=f"epoch {progress.epoch:.2f} {loss} eta {progress.eta}",
        )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


class PlainReporter:
    """A line per stage, per evaluation, and per tenth of training or `every` seconds,
    whichever comes first (a three-hour training logs at least twice a minute), for logs
    and CI."""

    def __init__(self, console: Console, every: float = 30.0):
        self.console, self.every = console, every
        self.next_step = 0
        self.next_time = time.monotonic() + every
        self.last_eval: dict[str, float] = {}

    def stage(self, name: str, detail: str) -> None:
        self.console.print(f"{name}: {detail}")

    def progress(self, progress: TrainingProgress) -> None:
        new_eval = progress.eval_metrics != self.last_eval
        due = time.monotonic() >= self.next_time
        if progress.step < self.next_step and not new_eval and not due:
            return
        self.next_step = progress.step + max(1, progress.total_steps // 10)
        self.next_time = time.monotonic() + self.every
        self.last_eval = progress.eval_metrics
        line = f"train: step {progress.step}/{progress.total_steps} epoch {progress.epoch:.2f}"
        if progress.loss is not None:
            line += f" loss {progress.loss:.4f}"
        if new_eval:
            line += " | validation " + " ".join(
                f"{k} {v:.4f}"
                for k, v in progress.eval_metrics.items()
                if k in ("loss", "f1_macro", "f1", "accuracy")
            )
        self.console.print(line)

    def close(self) -> None:
        return None
