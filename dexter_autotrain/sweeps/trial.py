"""One sweep trial: a run of the job built from the data prepared once for the sweep, with
the trial's training parameters, trained through the job's backend and scored on the
validation split. Its validation scores, as training streams them, feed the pruner: a trial
pruned mid-training has its training cancelled through the backend."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from dexter_autotrain.backends.attach import FollowOptions
from dexter_autotrain.backends.cancel import cancel_recorded
from dexter_autotrain.errors import ToolError
from dexter_autotrain.pipeline import (
    Context,
    Reporter,
    record_spec,
    run_stages,
    share_preparation,
)
from dexter_autotrain.runs import Run, create_run
from dexter_autotrain.spec import LoadedSpec
from dexter_autotrain.sweeps.folder import SweepDir
from dexter_autotrain.sweeps.space import with_params
from dexter_autotrain.training.log import Progress
from dexter_autotrain.training.render import write_training_files

TEST_PREFIX = "test"
"""Prepared files and folders of the test split (`test.jsonl`, `test/`): a trial never gets
them; the promoted run gets them when it is evaluated."""


@dataclass(frozen=True)
class TrialSetup:
    """What every trial of one sweep shares.

    Attributes:
        folder: the sweep's folder (its `prepared/` run holds the shared data).
        loaded: the job's spec as the sweep trains it (smoke and backend applied).
        spec_sha256: the hash of the spec file as read (a trial's run records it, so that
            `submit --resume` of the promoted trial accepts the unchanged file).
        smoke: a smoke sweep (tiny model, few rows).
        metric: the validation metric trials are scored by.
        direction: `minimize` or `maximize` it.
        reporter: where stage lines and training progress go.
        follow: how trainings are followed (Ctrl-C asks about remote ones).
    """

    folder: SweepDir
    loaded: LoadedSpec
    spec_sha256: str
    smoke: bool
    metric: str
    direction: str
    reporter: Reporter
    follow: FollowOptions


def start_trial_run(setup: TrialSetup, number: int, params: dict[str, Any]) -> Run:
    """A new run of the job for trial `number`, prepared (from the shared data) and ready
    to train with `params`.

    Example:
        >>> start_trial_run(setup, 0, {"learning_rate": 3e-5})  # doctest: +SKIP
    """
    prepared = setup.folder.prepared.state()
    if prepared.base_model is None:
        raise ToolError(f"{setup.folder.prepared.state_file}: the shared data is not prepared")
    resolved = prepared.resolved | params
    spec = with_params(setup.loaded.spec, resolved)
    run = create_run(spec.name, setup.folder.runs_root)
    record_spec(run, replace(setup.loaded, spec=spec), setup.spec_sha256)
    share_data(setup.folder.prepared.path, run.path, test=False)
    spec_dir = setup.loaded.path.parent
    rendered = write_training_files(run.path, spec, spec_dir, prepared.base_model)
    share_preparation(
        run,
        smoke=setup.smoke,
        model_dir=spec.name,
        backend=spec.compute.backend,
        base_model=prepared.base_model,
        data_outputs=[output.model_dump() for output in prepared.data_outputs],
        config_sha256=rendered.sha256,
        resolved=resolved,
        sweep={"id": setup.folder.sweep_id, "folder": str(setup.folder.path), "trial": number},
    )
    return run


def share_data(prepared: Path, run: Path, test: bool) -> None:
    """Hard-link the prepared data into a run (a copy where links cannot be made): the
    training and validation splits and the data report, or with `test`, the test split."""
    source = prepared / "data"
    names = [p.name for p in source.iterdir() if p.name.startswith(TEST_PREFIX) == test]
    for name in names:
        _link_tree(source / name, run / "data" / name)
    if not test:
        shutil.copyfile(prepared / "data-report.json", run / "data-report.json")


def _link_tree(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target, copy_function=_link, dirs_exist_ok=True)
    else:
        _link(str(source), str(target))


def _link(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def side_by_side(setup: TrialSetup, parallel: int, tasks: list[Callable[[], None]]) -> None:
    """Run `tasks` (trainings, or loops that train): one after another on the local backend,
    in this thread, where Ctrl-C and SIGTERM arrive; up to `parallel` at once on a remote one.

    Raises:
        The first task's error, once every task has ended.
    """
    local = setup.loaded.spec.compute.backend == "local"
    workers = 1 if local else max(1, min(parallel, len(tasks)))
    if workers == 1:
        for task in tasks:
            task()
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for future in [pool.submit(task) for task in tasks]:
            future.result()


def train_trial(setup: TrialSetup, trial: Any, run: Run) -> float:
    """Train the trial's run, reporting each epoch's validation score to the pruner.

    Returns:
        The trial's score: the metric of the checkpoint training kept.

    Raises:
        optuna.TrialPruned: the pruner stopped it (its training was cancelled).
        ToolError: training failed, or reported no such validation metric.
        TrainingCancelled: Ctrl-C or SIGTERM.
    """
    import optuna

    label = f"trial {trial.number}"
    reporter = _PruningReporter(setup.reporter, trial, setup.metric, label)
    spec = run.spec()  # the baseline is fitted once, for the promoted run only
    spec = spec.model_copy(
        update={"evaluation": spec.evaluation.model_copy(update={"baseline": False})}
    )
    context = Context(run, setup.loaded, spec, setup.smoke, reporter, follow=setup.follow)
    try:
        run_stages(context, only={"train"}, stops=(optuna.TrialPruned,))
    except optuna.TrialPruned:
        _cancel_remote(run)
        raise
    except ToolError as error:
        reason = str(error).splitlines()[0].removeprefix("train: ")
        raise ToolError(f"{label}: {reason}") from None
    return kept_score(run.model_folder(), setup.metric)


def _cancel_remote(run: Run) -> None:
    """A local training ends with its follower; a remote one is cancelled here."""
    recorded = run.state().training_handle
    if recorded is not None and recorded.kind != "local":
        cancel_recorded(recorded)


def kept_score(model_dir: Path, metric: str) -> float:
    """The validation `metric` of the checkpoint training kept (the best one by the
    checkpoint metric; the last evaluation when it kept none), from its trainer state."""
    state = json.loads((model_dir / "trainer_state.json").read_text())
    key = f"eval_{metric}"
    evaluations = [entry for entry in state.get("log_history", []) if key in entry]
    if not evaluations:
        raise ToolError(f"training reported no validation {metric} ({model_dir})")
    best = state.get("best_model_checkpoint")
    if best:
        step = int(str(best).rstrip("/").rsplit("-", 1)[1])
        kept = [entry for entry in evaluations if entry.get("step") == step]
        evaluations = kept or evaluations
    return float(evaluations[-1][key])


class _PruningReporter:
    """The sweep's reporter for one trial: lines labelled with the trial, and each new
    validation evaluation reported to the trial, which may prune it."""

    def __init__(self, reporter: Reporter, trial: Any, metric: str, label: str):
        self.reporter, self.trial, self.metric, self.label = reporter, trial, metric, label
        self.last: tuple[dict[str, float], float] | None = None
        self.epochs = 0

    def stage(self, name: str, detail: str) -> None:
        self.reporter.stage(name, f"{self.label}: {detail}")

    def progress(self, progress: Progress) -> None:
        import optuna

        self.reporter.progress(progress)
        metrics, last = progress.eval_metrics, self.last
        if not metrics or (last is not None and metrics is last[0]):
            return  # no evaluation since the last call
        self.last = metrics, progress.epoch
        if last is not None and progress.epoch == last[1]:
            return  # the same evaluation again (the log prints each twice)
        if self.metric not in metrics:
            raise ToolError(
                f"training reports no validation {self.metric} (it reports "
                f"{', '.join(sorted(metrics))}); choose one of them as sweep.metric"
            )
        self.epochs += 1
        self.trial.report(metrics[self.metric], self.epochs)
        if self.trial.should_prune():
            raise optuna.TrialPruned(
                f"pruned at epoch {self.epochs}: validation {self.metric} "
                f"{metrics[self.metric]:.4f} is worse than the median of earlier trials"
            )
