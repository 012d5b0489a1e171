"""A sweep's best settings trained again over seeds before promotion (`sweep.repeat_seeds`).

On a small data set one training is one draw: the trial that won may have won on its seed.
The best trial's settings are trained again with the next seeds (from the data prepared once
for the sweep, without the pruner), every seed's run is evaluated on the test split, and the
runs are set side by side as a job's seeds are (`repeats.choose_and_record`): the seed with the
best validation score is promoted, its gates judge the mean, its card shows the spread. The
seeds train one after another on the local backend and up to `sweep.parallel` at once on a
remote one, as trials do.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from dexter_autotrain.pipeline import Context, run_stages
from dexter_autotrain.record import TrialRow
from dexter_autotrain.repeats import choose_and_record
from dexter_autotrain.runs import Run, list_runs
from dexter_autotrain.spec.members import Member
from dexter_autotrain.sweeps.trial import TrialSetup, share_data, side_by_side, start_trial_run


def repeat_best(setup: TrialSetup, best: TrialRow, count: int, parallel: int) -> Run:
    """Train the best trial's settings with `count - 1` more seeds (`parallel` at once on a
    remote backend) and evaluate them all. A resumed sweep keeps the seeds' runs already
    trained.

    Returns:
        The seed to promote: evaluated, its `repeats` recorded, its later stages to run.

    Raises:
        ToolError: a seed's training or evaluation failed.
    """
    best_run = Run(Path(str(best.run)))
    first = best_run.spec().training.seed
    trained = {Member("autotrain", first): best_run}
    earlier = _earlier(setup, best.number)
    for seed in range(first + 1, first + count):
        run = earlier.get(seed)
        if run is None:
            run = start_trial_run(setup, best.number, best.params | {"seed": seed})
            where = f"trial {best.number}'s settings again with seed {seed} ({run.run_id})"
            setup.reporter.stage("sweep", where)
        trained[Member("autotrain", seed)] = run
    again = [run for run in trained.values() if run is not best_run]
    side_by_side(setup, parallel, [partial(_stage, setup, run, "train") for run in again])
    for run in trained.values():
        if "evaluate" not in run.state().completed:
            share_data(setup.folder.prepared.path, run.path, test=True)
            _stage(setup, run, "evaluate")
    return choose_and_record(best_run.spec(), trained, setup.folder.sweep_id, setup.reporter)


def _earlier(setup: TrialSetup, number: int) -> dict[int, Run]:
    """The runs a killed sweep started for trial `number`'s settings, by their seed."""
    found = {}
    for run in list_runs(setup.folder.runs_root, setup.loaded.spec.name):
        state = run.state()
        sweep, seed = state.sweep, state.resolved.get("seed")
        if sweep is not None and sweep.id == setup.folder.sweep_id and sweep.trial == number:
            found[seed] = run
    return found


def _stage(setup: TrialSetup, run: Run, name: str) -> None:
    """One stage of a seed's run (none once completed), with the spec it recorded."""
    context = Context(
        run, setup.loaded, run.spec(), setup.smoke, setup.reporter, follow=setup.follow
    )
    run_stages(context, only={name})
