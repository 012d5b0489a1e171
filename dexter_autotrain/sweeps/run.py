"""`dexter-auto sweep`: prepare the data once, run the study's trials as runs of the job,
then promote the best trial. `resume_sweep` continues a killed sweep: finished trials are
kept, a trial the kill interrupted is marked failed and tried again."""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from dexter_autotrain.backends import get_backend
from dexter_autotrain.backends.attach import DEFAULT_FOLLOW, FollowOptions
from dexter_autotrain.errors import ToolError, UserError
from dexter_autotrain.pipeline import (
    Context,
    Reporter,
    record_stop,
    run_stages,
    smoke_backend,
    with_backend,
)
from dexter_autotrain.policy.cost_caps import require_within, shipped_flavor_price, sweep_breaches
from dexter_autotrain.policy.operator import OperatorPolicy
from dexter_autotrain.record import SweepRecord, TrialRow, plain
from dexter_autotrain.runs import Run, job_lock, owner
from dexter_autotrain.spec import LoadedSpec, load_spec
from dexter_autotrain.spec.model import Sweep
from dexter_autotrain.spec.smoke import smoke_spec
from dexter_autotrain.sweeps.folder import SweepDir, create_sweep_dir, find_sweep
from dexter_autotrain.sweeps.promote import best_row, promote, summary
from dexter_autotrain.sweeps.repeat import repeat_best
from dexter_autotrain.sweeps.space import suggest
from dexter_autotrain.sweeps.study import (
    counted,
    fail_interrupted,
    metric_and_direction,
    open_study,
    trial_rows,
)
from dexter_autotrain.sweeps.trial import TrialSetup, side_by_side, start_trial_run, train_trial

SMOKE_TRIALS = 3


@dataclass(frozen=True)
class SweepResult:
    """A finished sweep: its folder, every trial, and the promoted run (None: not asked)."""

    folder: SweepDir
    rows: list[TrialRow]
    promoted: Run | None

    def best(self) -> SweepRecord:
        """How the best trial was chosen (the promoted run's state records the same)."""
        best = self.folder.record().best
        if best is None:
            raise ToolError(f"{self.folder.path}: no trial completed")
        return best

    def to_json(self) -> dict[str, Any]:
        """What `sweep --json` prints: the sweep's state, trials, best and promoted run."""
        record = self.folder.record()
        promoted = self.promoted
        return {
            "sweep": str(self.folder.path),
            "state": record.state,
            "trials": [row.to_json() for row in self.rows],
            "best": plain(record.best),
            "promoted": None
            if promoted is None
            else {"run": str(promoted.path), **promoted.state().to_json()},
        }


@dataclass(frozen=True)
class SweepOptions:
    """Where a sweep writes and how it follows its trainings."""

    runs_root: Path
    cards_dir: Path | None = None
    follow: FollowOptions = DEFAULT_FOLLOW
    promote: bool = True
    backend: str | None = None
    """Where the trials train instead of `compute.backend` (`--backend`); a smoke sweep
    trains locally unless this names where, as `submit --smoke` does."""
    smoke_trials: int = SMOKE_TRIALS


def run_sweep(
    loaded: LoadedSpec, smoke: bool, reporter: Reporter, options: SweepOptions
) -> SweepResult:
    """Run the spec's sweep from the start, then promote its best trial.

    Args:
        loaded: a validated spec with a `sweep:` section.
        smoke: a tiny model, few rows and at most SMOKE_TRIALS trials (CI).
        reporter: stage lines and training progress.
        options: the runs folder, the cards folder, following, and whether to promote.

    Returns:
        The sweep's folder, its trials and the promoted run.

    Raises:
        UserError: the spec has no sweep.
        ToolError: no trial completed, or the storage failed.
        GatesFailed: the promoted model failed a gate.

    Example:
        >>> options = SweepOptions(Path("runs"))
        >>> run_sweep(load_spec("jobs/narrative.yaml"), True, reporter, options)  # doctest: +SKIP
    """
    spec_sha256 = loaded.sha256
    backend = smoke_backend(smoke, options.backend)
    loaded = _as_swept(loaded, smoke and options.smoke_trials, backend)
    sweep = _sweep_section(loaded)
    get_backend(loaded.spec.compute.backend)
    with job_lock(loaded.spec.name, options.runs_root):
        folder = create_sweep_dir(loaded.spec.name, options.runs_root)
        setup = _setup(folder, loaded, spec_sha256, smoke, reporter, options)
        folder.update(
            spec_path=str(loaded.path.resolve()),
            spec_sha256=spec_sha256,
            smoke=smoke,
            backend=loaded.spec.compute.backend,
            n_trials=sweep.n_trials,
        )
        reporter.stage("sweep", f"{folder.path} ({sweep.n_trials} trials)")
        _prepare_shared(setup, reporter)
        study = open_study(folder, sweep, setup.direction, create=True)
        folder.update(state="running", study=True)
        _run_trials(setup, study, sweep)
    return _finish(setup, study, sweep, options)


def resume_sweep(reference: str, reporter: Reporter, options: SweepOptions) -> SweepResult:
    """Continue a killed or failed sweep: the trials it finished are kept, one it left
    running is marked failed and tried again, and the best trial is promoted.

    Raises:
        UserError: no such sweep, it is done, or its spec changed since it started.
    """
    folder = find_sweep(reference, options.runs_root)
    record = folder.record()
    if record.state == "done":
        raise UserError(f"{folder.path}: the sweep is done; nothing to resume")
    loaded = load_spec(Path(record.spec_path or ""))
    if loaded.sha256 != record.spec_sha256:
        raise UserError(
            f"{record.spec_path}: the spec changed since sweep {folder.sweep_id} started; "
            "start a new sweep with `dexter-auto sweep`"
        )
    loaded = _as_swept(loaded, record.smoke and options.smoke_trials, record.backend)
    sweep = _sweep_section(loaded)
    setup = _setup(folder, loaded, loaded.sha256, record.smoke, reporter, options)
    with job_lock(loaded.spec.name, options.runs_root):
        folder.update(**owner(), state="preparing", reason=None)
        _prepare_shared(setup, reporter)
        study = open_study(folder, sweep, setup.direction, create=not record.study)
        folder.update(state="running", study=True)
        for trial in fail_interrupted(study):
            _mark_interrupted(trial.user_attrs.get("run"))
            reporter.stage("sweep", f"trial {trial.number} was interrupted: trying it again")
        _run_trials(setup, study, sweep)
    return _finish(setup, study, sweep, options)


def _as_swept(loaded: LoadedSpec, smoke_trials: int, backend: str | None) -> LoadedSpec:
    """The spec as the sweep trains it: on `backend`, and with `smoke_trials` (0: not a
    smoke sweep) shrunk to a smoke run of at most that many trials."""
    spec = with_backend(loaded.spec, backend)
    if smoke_trials:
        spec = smoke_spec(spec)
        if spec.sweep is not None:
            trials = min(spec.sweep.n_trials, smoke_trials)
            spec = spec.model_copy(
                update={"sweep": spec.sweep.model_copy(update={"n_trials": trials})}
            )
    return replace(loaded, spec=spec)


def _sweep_section(loaded: LoadedSpec) -> Sweep:
    """The spec's sweep, within the operator's caps on trials at once and on its cost."""
    if loaded.spec.sweep is None:
        raise UserError(
            f"{loaded.path}: the spec has no `sweep:` section; add one with a `space:`, e.g. "
            "`sweep: {space: {learning_rate: {type: log_uniform, low: 1.0e-5, high: 1.0e-4}}}`"
        )
    caps = OperatorPolicy.load().caps
    require_within(sweep_breaches(loaded.spec, caps, shipped_flavor_price))
    return loaded.spec.sweep


def _setup(
    folder: SweepDir,
    loaded: LoadedSpec,
    spec_sha256: str,
    smoke: bool,
    reporter: Reporter,
    options: SweepOptions,
) -> TrialSetup:
    assert loaded.spec.sweep is not None
    spec = loaded.spec
    metric, direction = metric_and_direction(spec.sweep, spec.task, spec.primary_metric)
    return TrialSetup(
        folder, loaded, spec_sha256, smoke, metric, direction, reporter, options.follow
    )


def _prepare_shared(setup: TrialSetup, reporter: Reporter) -> None:
    """Prepare the data (and, in a smoke sweep, the tiny model) once, for every trial."""
    prepared = setup.folder.prepared
    context = Context(prepared, setup.loaded, setup.loaded.spec, setup.smoke, reporter)
    run_stages(context, only={"prepare"})  # once: a resumed sweep's is completed


def _run_trials(setup: TrialSetup, study: Any, sweep: Sweep) -> None:
    """Trials until `n_trials` count: one after another on the local backend, up to
    `sweep.parallel` at once on a remote one."""
    budget = [sweep.n_trials - counted(study)]
    lock = threading.Lock()
    local = setup.loaded.spec.compute.backend == "local"
    if local and sweep.parallel > 1:
        setup.reporter.stage("sweep", "local trials run one after another (parallel: remote)")

    def work() -> None:
        while True:
            with lock:
                if budget[0] <= 0:
                    return
                budget[0] -= 1
                trial = study.ask()
            _one_trial(setup, study, trial, sweep)

    slots = max(1, min(sweep.parallel, budget[0]))  # each slot asks for trials until none is left
    side_by_side(setup, sweep.parallel, [work] * slots)


def _one_trial(setup: TrialSetup, study: Any, trial: Any, sweep: Sweep) -> None:
    import optuna
    from optuna.trial import TrialState

    params = suggest(trial, sweep.space)
    run = start_trial_run(setup, trial.number, params)
    trial.set_user_attr("run", str(run.path))
    shown = ", ".join(
        f"{name} {value:g}" if isinstance(value, float) else f"{name} {value}"
        for name, value in params.items()
    )
    setup.reporter.stage("sweep", f"trial {trial.number}: {shown} ({run.run_id})")
    try:
        value = train_trial(setup, trial, run)
    except optuna.TrialPruned as pruned:
        study.tell(trial, state=TrialState.PRUNED)
        setup.reporter.stage("sweep", f"trial {trial.number}: {pruned}")
        return
    except ToolError as error:
        study.tell(trial, state=TrialState.FAIL)
        setup.reporter.stage("sweep", f"trial {trial.number} failed: {str(error).splitlines()[0]}")
        return
    study.tell(trial, value)
    setup.reporter.stage("sweep", f"trial {trial.number}: validation {setup.metric} {value:.4f}")


def _mark_interrupted(run_path: str | None) -> None:
    if run_path and Run(Path(run_path)).state_file.is_file():
        record_stop(Run(Path(run_path)), "failed", "interrupted: the sweep was stopped during it")


def _finish(setup: TrialSetup, study: Any, sweep: Sweep, options: SweepOptions) -> SweepResult:
    folder = setup.folder
    rows = trial_rows(study)
    best = best_row(rows, setup.direction)
    folder.update(state="trained", trials=[row.to_json() for row in rows])
    if best is None:
        folder.update(state="failed", reason="no trial completed")
        raise ToolError(
            f"sweep {folder.sweep_id}: no trial completed ({len(rows)} pruned or failed); "
            f"see {folder.path / 'sweep.json'}"
        )
    chosen = summary(folder, sweep, rows, best, (setup.metric, setup.direction))
    folder.update(best=chosen.to_json())
    if not options.promote:
        return SweepResult(folder, rows, None)
    best_run = Run(Path(best.run))
    if sweep.repeat_seeds > 1:
        best_run = repeat_best(setup, best, sweep.repeat_seeds, sweep.parallel)
    run = promote(folder, best_run, chosen, rows, setup.reporter, options.cards_dir, options.follow)
    return SweepResult(folder, rows, run)
