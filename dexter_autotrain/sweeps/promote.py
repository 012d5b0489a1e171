"""Promotion: the sweep's best trial goes on through the normal path (evaluation on the
test split, gates, card, publish, deploy) by resuming its run; it alone gets the test split.
Its card says how it was chosen (the `sweep` record in its state, the trial plot)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from dexter_autotrain.backends.attach import FollowOptions
from dexter_autotrain.pipeline import Reporter, resume
from dexter_autotrain.record import SweepRecord, TrialCounts, TrialRow
from dexter_autotrain.runs import Run
from dexter_autotrain.spec.model import Sweep
from dexter_autotrain.sweeps.folder import SweepDir
from dexter_autotrain.sweeps.plot import PLOT_FILE, trial_plot
from dexter_autotrain.sweeps.space import describe, ranges
from dexter_autotrain.sweeps.trial import share_data


def best_row(rows: list[TrialRow], direction: str) -> TrialRow | None:
    """The completed trial with the best score (the first of equals), if any completed."""
    scored = [row for row in rows if row.state == "complete" and row.value is not None]
    if not scored:
        return None
    sign = 1 if direction == "maximize" else -1
    return max(scored, key=lambda row: (sign * row.value, -row.number))


def summary(
    folder: SweepDir, sweep: Sweep, rows: list[TrialRow], best: TrialRow, scoring: tuple[str, str]
) -> SweepRecord:
    """How the promoted model was chosen, as its run's state and card record it."""
    counts = Counter(row.state for row in rows)
    metric, direction = scoring
    return SweepRecord(
        id=folder.sweep_id,
        folder=str(folder.path),
        trial=best.number,
        metric=metric,
        direction=direction,
        sampler=sweep.sampler,
        pruner=sweep.pruner,
        trials=TrialCounts(
            total=len(rows),
            complete=counts["complete"],
            pruned=counts["pruned"],
            failed=counts["failed"] + counts["interrupted"],
        ),
        space={name: describe(search) for name, search in ranges(sweep.space).items()},
        best_params=best.params,
        best_value=best.value,
        plot=PLOT_FILE,
    )


def promote(
    folder: SweepDir,
    run: Run,
    chosen: SweepRecord,
    rows: list[TrialRow],
    reporter: Reporter,
    cards_dir: Path | None,
    follow: FollowOptions,
) -> Run:
    """Take `run`, the best trial's, on from `train`: the test split linked in, the plot drawn,
    the sweep recorded in its state, then the pipeline's remaining stages (`resume`).

    Raises:
        GatesFailed: the promoted model failed a gate (its card is still written).
    """
    folder.update(state="promoting", promoted=str(run.path))
    if "evaluate" not in run.state().completed:
        share_data(folder.prepared.path, run.path, test=True)
    if "card" not in run.state().completed:  # a seed of the best settings: evaluated already
        plot = run.path / "plots" / PLOT_FILE
        trial_plot(rows, chosen.metric or "", chosen.direction or "", chosen.trial, plot)
        run.update(sweep=chosen.to_json())
    reporter.stage("sweep", f"promoting trial {chosen.trial} ({run.run_id})")
    resume(run, reporter, cards_dir, follow)
    folder.update(state="done")
    return run
