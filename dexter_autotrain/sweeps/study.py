"""The sweep's Optuna study: created or loaded from its storage, its sampler and pruner as
the spec says, and the trials a killed sweep left running."""

from __future__ import annotations

from typing import Any

from dexter_autotrain.errors import ToolError
from dexter_autotrain.policy.operator import OperatorPolicy, require
from dexter_autotrain.record import TrialRow
from dexter_autotrain.spec.model import Sweep
from dexter_autotrain.sweeps.folder import SweepDir
from dexter_autotrain.tasks import get_task

INTERRUPTED = "interrupted"
"""User attribute of a trial the sweep was killed during: it failed, and is tried again."""


def metric_and_direction(sweep: Sweep, task: str, primary_metric: str) -> tuple[str, str]:
    """The validation metric trials are scored by (the primary metric where training reports
    it every epoch, else the loss), and whether more is better (the metric's own way)."""
    kind = get_task(task)
    primary = kind.metric(primary_metric)
    metric = kind.metric(sweep.metric or (primary.name if primary.per_epoch else "loss"))
    return metric.name, sweep.direction or metric.direction


def open_study(folder: SweepDir, sweep: Sweep, direction: str, create: bool) -> Any:
    """The sweep's study in its storage (`sweep.storage`, or SQLite in the sweep folder).

    Args:
        folder: the sweep's folder; the study is named after its job and sweep id.
        sweep: the spec's `sweep` section (sampler, seed, pruner).
        direction: `maximize` or `minimize`.
        create: a new study (its `first_trials` enqueued), else load the existing one.

    Returns:
        An `optuna.Study`.

    Raises:
        ToolError: the storage cannot be opened, or holds no such study.

    Example:
        >>> open_study(folder, spec.sweep, "maximize", create=True)  # doctest: +SKIP
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    name = f"{folder.path.parent.parent.name}-{folder.sweep_id}"
    try:
        require("sweep.storage", OperatorPolicy.load().storage_problem(sweep.storage))
        storage = optuna.storages.RDBStorage(folder.storage_url(sweep.storage))
        kwargs = {"study_name": name, "storage": storage, "sampler": _sampler(sweep)}
        kwargs["pruner"] = _pruner(sweep)
        if not create:
            return optuna.load_study(**kwargs)
        study = optuna.create_study(direction=direction, **kwargs)
    except (KeyError, ImportError, optuna.exceptions.OptunaError, ValueError) as error:
        raise ToolError(f"sweep storage {sweep.storage or 'study.db'}: {error}") from None
    for params in sweep.first_trials:
        study.enqueue_trial(params)
    return study


def _sampler(sweep: Sweep) -> Any:
    import optuna

    if sweep.sampler == "random":
        return optuna.samplers.RandomSampler(seed=sweep.seed)
    return optuna.samplers.TPESampler(seed=sweep.seed)


def _pruner(sweep: Sweep) -> Any:
    import optuna

    if sweep.pruner == "none":
        return optuna.pruners.NopPruner()
    return optuna.pruners.MedianPruner(
        n_startup_trials=sweep.prune_after_trials, n_warmup_steps=sweep.prune_from_epoch - 1
    )


def fail_interrupted(study: Any) -> list[Any]:
    """Mark the trials a killed sweep left running as failed (`interrupted`), and enqueue
    their parameters so that they are tried again; returns those trials."""
    from optuna.trial import TrialState

    interrupted = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    for trial in interrupted:
        study._storage.set_trial_user_attr(trial._trial_id, INTERRUPTED, True)
        study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)
        study.enqueue_trial(trial.params, skip_if_exists=False)
    return interrupted


def counted(study: Any) -> int:
    """Trials that count towards `n_trials`: all but the interrupted (they are tried again)."""
    return sum(1 for t in study.get_trials(deepcopy=False) if _counts(t))


def _counts(trial: Any) -> bool:
    from optuna.trial import TrialState

    if trial.state == TrialState.WAITING:
        return False
    return not (trial.state == TrialState.FAIL and trial.user_attrs.get(INTERRUPTED))


def trial_rows(study: Any) -> list[TrialRow]:
    """Every started trial, in order."""
    from optuna.trial import TrialState

    names = {TrialState.COMPLETE: "complete", TrialState.PRUNED: "pruned"}
    names |= {TrialState.FAIL: "failed", TrialState.RUNNING: "running"}
    rows = []
    for trial in study.get_trials(deepcopy=False):
        if trial.state == TrialState.WAITING:
            continue
        state = names[trial.state]
        if trial.user_attrs.get(INTERRUPTED):
            state = INTERRUPTED
        value = trial.value
        if value is None and trial.intermediate_values:
            value = trial.intermediate_values[max(trial.intermediate_values)]
        seconds = None
        if trial.datetime_complete and trial.datetime_start:
            seconds = round((trial.datetime_complete - trial.datetime_start).total_seconds(), 1)
        rows.append(
            TrialRow(
                number=trial.number,
                state=state,
                value=value,
                epochs=len(trial.intermediate_values),
                params=dict(trial.params),
                run=trial.user_attrs.get("run"),
                seconds=seconds,
            )
        )
    return rows
