"""Show a run's progress: a live rich view on a terminal, plain lines otherwise."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

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


class RowsBar:
    """`predict`'s progress on a terminal: a bar with rows done of all, rows/s and ETA."""

    def __init__(self, console: Console):
        self.bar = Progress(
            TextColumn("predict"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[speed]} rows/s"),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self.task = self.bar.add_task("", total=None, speed="-")

    def start(self, total: int | None, done: int) -> None:
        self.bar.update(self.task, total=total, completed=done)
        self.bar.start()

    def advance(self, rows: int) -> None:
        self.bar.advance(self.task, rows)
        speed = self.bar.tasks[0].speed
        self.bar.update(self.task, speed=f"{speed:,.0f}" if speed else "-")

    def close(self) -> None:
        self.bar.stop()


class RowsLines:
    """`predict`'s progress for logs and CI: a line every `every` seconds."""

    def __init__(self, console: Console, every: float = 30.0):
        self.console, self.every = console, every
        self.total: int | None = None
        self.done = self.new = 0
        self.started = self.next_time = time.monotonic()

    def start(self, total: int | None, done: int) -> None:
        self.total, self.done = total, done
        self.started = time.monotonic()
        self.next_time = self.started + self.every

    def advance(self, rows: int) -> None:
        self.done += rows
        self.new += rows
        now = time.monotonic()
        if now < self.next_time:
            return
        self.next_time = now + self.every
        speed = self.new / (now - self.started)
        of = f" of {self.total:,}" if self.total else ""
        left = (
            f", eta {_duration((self.total - self.done) / speed)}" if self.total and speed else ""
        )
        self.console.print(f"predict: {self.done:,}{of} rows, {speed:,.0f} rows/s{left}")

    def close(self) -> None:
        return None


def _duration(seconds: float) -> str:
    minutes, second = divmod(int(seconds), 60)
    hours, minute = divmod(minutes, 60)
    return f"{hours}h{minute:02d}m" if hours else f"{minute}m{second:02d}s"
