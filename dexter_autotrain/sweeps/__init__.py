"""Hyperparameter sweeps (`dexter-auto sweep`): an Optuna study over a spec's `sweep.space`.

Each trial is a run of the job, trained through the job's backend on data prepared once for
the whole sweep and scored on the validation split; the pruner stops poor trials from the
validation scores training streams. The best trial is then promoted: evaluated on the test
split (the only model that ever sees it), gated, carded and published as a normal run.

- `folder`: the sweep's folder and record; `study`: the Optuna study, its sampler and pruner
- `space`: the search space; `trial`: one trial's run; `promote`: the best trial goes on
- `plot`: the trial-score plot for the card; `run`: `run_sweep` and `resume_sweep`
"""

from dexter_autotrain.sweeps.run import SweepOptions, SweepResult, resume_sweep, run_sweep

__all__ = ["SweepOptions", "SweepResult", "resume_sweep", "run_sweep"]
