"""Benchmark: a smoke sweep of 5 trials beside 5 separate smoke submits of the same
configurations, in one process (both through the Python API, the real AutoTrain runner).

Target (issue 18): the sweep's time per trial is at most 10% above a separate submit's time
to train the same configuration (prepare + train: a trial is not evaluated on the test
split; the submits are stopped when they reach `evaluate`). The sweep searches the
parameters a smoke run keeps (warmup ratio, weight decay) with the random sampler and no
pruner, so every trial trains all its epochs, as the submits do.

    flock /tmp/dexter-heavy.lock .venv/bin/python bench/bench_sweep.py [--trials 5]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET_OVERHEAD = 0.10
SPEC = """\
name: bench-sweep
task: text-classification
base_model:
  id: FacebookAI/xlm-roberta-base
  revision: e73636d4f797dec63c3081bb6ed5c7b0bb3f2089
languages: [hau, pcm]
data:
  sources:
    - path: {repo}/data/samples/naijasenti/{{language}}
      format: tsv
  labels: [negative, neutral, positive]
  min_examples_per_label: 5
"""
SWEEP = """\
sweep:
  n_trials: {trials}
  metric: loss
  sampler: random
  seed: 0
  pruner: none
  space:
    warmup_ratio: {{type: uniform, low: 0.0, high: 0.3}}
    weight_decay: {{type: uniform, low: 0.0, high: 0.1}}
"""


class _ReachedEvaluate(Exception):
    """A submit timed up to its evaluation, which a sweep trial does not have."""


@dataclass
class _Reporter:
    """Stage lines kept with their time; `stop_at` ends the run when that stage starts."""

    stop_at: str | None = None
    lines: list[tuple[float, str, str]] = field(default_factory=list)

    def stage(self, name: str, detail: str) -> None:
        self.lines.append((time.monotonic(), name, detail))
        if name == self.stop_at:
            raise _ReachedEvaluate

    def progress(self, progress: object) -> None:
        pass


def _sweep(folder: Path, trials: int) -> tuple[float, list]:
    from dexter_autotrain.spec import load_spec
    from dexter_autotrain.sweeps import SweepOptions, run_sweep

    path = folder / "bench-sweep.yaml"
    path.write_text(SPEC.format(repo=REPO) + SWEEP.format(trials=trials))
    options = SweepOptions(folder / "runs", promote=False, smoke_trials=trials)
    started = time.monotonic()
    result = run_sweep(load_spec(path), True, _Reporter(), options)
    return time.monotonic() - started, result.rows


def _submit(folder: Path, number: int, params: dict) -> tuple[float, float]:
    """One smoke submit of a trial's configuration: seconds to reach `evaluate`, and the
    training stage's own seconds."""
    from dexter_autotrain.pipeline import submit
    from dexter_autotrain.spec import load_spec

    path = folder / f"bench-submit-{number}.yaml"
    training = "".join(f"  {name}: {value!r}\n" for name, value in params.items())
    path.write_text(
        SPEC.format(repo=REPO).replace("bench-sweep", f"bench-submit-{number}")
        + "training:\n"
        + training
    )
    started = time.monotonic()
    with contextlib.suppress(_ReachedEvaluate):
        submit(load_spec(path), True, _Reporter(stop_at="evaluate"), folder / "runs")
    seconds = time.monotonic() - started
    state_file = next((folder / "runs" / f"bench-submit-{number}").glob("*/state.json"))
    return seconds, json.loads(state_file.read_text())["training"]["seconds"]


def _trial_training_seconds(rows: list) -> list[float]:
    return [
        json.loads((Path(row.run) / "state.json").read_text())["training"]["seconds"]
        for row in rows
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("DEXTER_DATA_ROOTS", str(REPO / "data"))
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as tmp:
        folder = Path(tmp)
        sweep_seconds, rows = _sweep(folder, args.trials)
        submits = [_submit(folder, row.number, row.params) for row in rows]
        trial_training = _trial_training_seconds(rows)
    _table(rows, trial_training, submits)
    _verdict(sweep_seconds, rows, submits)


def _table(rows: list, trial_training: list[float], submits: list[tuple[float, float]]) -> None:
    print(
        f"{'config':>6}  {'warmup':>7}  {'decay':>7}  {'trial s':>8}  {'trial train s':>13}  "
        f"{'submit s (to evaluate)':>22}  {'submit train s':>14}"
    )
    for row, training, (seconds, submit_training) in zip(
        rows, trial_training, submits, strict=True
    ):
        print(
            f"{row.number:>6}  {row.params['warmup_ratio']:>7.3f}  "
            f"{row.params['weight_decay']:>7.3f}  {row.seconds:>8.1f}  {training:>13.1f}  "
            f"{seconds:>22.1f}  {submit_training:>14.1f}"
        )


def _verdict(sweep_seconds: float, rows: list, submits: list[tuple[float, float]]) -> None:
    """Per trial: the sweep's time outside its trials (the shared prepare, the study) spread
    over them, plus the median trial; against the median submit. Medians, as the machine is
    shared and one training now and then runs twice as long."""
    outside = (sweep_seconds - sum(row.seconds for row in rows)) / len(rows)
    per_trial = outside + statistics.median(row.seconds for row in rows)
    per_submit = statistics.median(seconds for seconds, _ in submits)
    mean_overhead = (sweep_seconds / len(rows)) / statistics.mean(s for s, _ in submits) - 1
    print(
        f"sweep of {len(rows)} trials: {sweep_seconds:.1f} s wall; per trial {per_trial:.1f} s "
        f"(median trial {per_trial - outside:.1f} s + {outside:.1f} s of shared prepare and "
        "study bookkeeping)"
    )
    print(
        f"separate submits: median {per_submit:.1f} s per run (prepare + train, each its own "
        "data and tiny model)"
    )
    overhead = per_trial / per_submit - 1
    verdict = "PASS" if overhead <= TARGET_OVERHEAD else "FAIL"
    print(
        f"sweep overhead per trial: {overhead:+.1%} on medians ({mean_overhead:+.1%} on means) "
        f"(target <= +{TARGET_OVERHEAD:.0%}): {verdict}"
    )


if __name__ == "__main__":
    main()
