"""Read AutoTrain's log: progress for the live view, and the real cause when it fails.

AutoTrain exits 0 even when training fails (its trainers catch every exception and log it),
so the log and the files it wrote are the only honest signals.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

_STEPS = re.compile(r"(\d+)/(\d+) \[[\d:]+<([\d:?]+), *[\d.?]+ ?(?:it/s|s/it)\]")
"""tqdm's training bar (`12/30 [00:01<00:02, 9.5it/s]`), not datasets' `examples/s` bars."""
_METRICS = re.compile(r"(\{'(?:loss|eval_loss|train_runtime)'.*?\})")
FAILURE_MARKERS = ("has failed due to an exception", "Traceback (most recent call last)")


@dataclass
class Progress:
    """What the latest log lines say about training."""

    step: int = 0
    total_steps: int = 0
    eta: str = ""
    epoch: float = 0.0
    loss: float | None = None
    eval_metrics: dict[str, float] = field(default_factory=dict)

    def read(self, line: str) -> bool:
        """Update from one log line; True when something changed."""
        changed = False
        for step, total, eta in _STEPS.findall(line):
            if int(total) >= self.total_steps:  # the training bar, not the shorter eval bar
                self.step, self.total_steps, self.eta = int(step), int(total), eta
                changed = True
        for text in _METRICS.findall(line):
            try:
                values = ast.literal_eval(text)
            except (ValueError, SyntaxError):
                continue
            self.epoch = float(values.get("epoch", self.epoch))
            if "loss" in values:
                self.loss = float(values["loss"])
            evals = {k[5:]: float(v) for k, v in values.items() if k.startswith("eval_")}
            if evals:
                self.eval_metrics = evals
            changed = True
        return changed


def failure_cause(log: Path, max_lines: int = 25) -> list[str]:
    """The last traceback in the log (its final lines), or the last error-looking lines."""
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines() if log.exists() else []
    starts = [i for i, line in enumerate(lines) if "Traceback (most recent call last)" in line]
    if starts:
        block = lines[starts[-1] :]
        end = next(
            (
                i
                for i, line in enumerate(block[1:], start=1)
                if line and not line.startswith((" ", "\t")) and ":" in line
            ),
            len(block) - 1,
        )
        return block[: end + 1][-max_lines:]
    errors = [line for line in lines if "ERROR" in line or "Error" in line]
    return errors[-max_lines:]


def log_reports_failure(log: Path) -> bool:
    text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
    return any(marker in text for marker in FAILURE_MARKERS)


def checkpoint_trainer_states(model_dir: Path) -> list[Path]:
    """The trainer states of AutoTrain's checkpoints under `model_dir`, earliest step first
    (the last one is the fallback when no final `trainer_state.json` was written)."""
    return sorted(
        model_dir.glob("checkpoint-*/trainer_state.json"),
        key=lambda path: int(path.parent.name.split("-")[1]),
    )
