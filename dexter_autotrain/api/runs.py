"""Runs: start one (`submit`), continue one (`resume`), find and list them, and the AutoTrain
runner they train with.

Example:
    ```python
    >>> from dexter_autotrain import api
    >>> run = api.submit("jobs/narrative.yaml", smoke=True)
    >>> run.state().state
    'carded'
    >>> [status.state for status in api.describe_runs(job="narrative")]
    ['carded']
    ```
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from dexter_autotrain.errors import UserError
from dexter_autotrain.runs import RUNS_ROOT, STATE_FILE, Run, RunStatus, find_run, list_runs
from dexter_autotrain.spec import LoadedSpec
from dexter_autotrain.spec.members import DETERMINISTIC, members, with_seeds

if TYPE_CHECKING:
    from dexter_autotrain.backends.attach import FollowOptions
    from dexter_autotrain.backends.base import Handle
    from dexter_autotrain.pipeline import Reporter
    from dexter_autotrain.training.log import Progress

MAX_SEEDS = 10
"""The most seeds a job trains (`training.seeds` has the same limit)."""

__all__ = [
    "STATE_FILE",
    "PrintReporter",
    "QuietReporter",
    "Run",
    "RunStatus",
    "RunnerStatus",
    "describe_runs",
    "find_run",
    "install_runner",
    "list_runs",
    "resume",
    "runner_status",
    "submit",
]


class QuietReporter:
    """A reporter that shows nothing (the API's default); pass `PrintReporter()` to see
    each stage, or your own object with `stage(name, detail)` and `progress(progress)`."""

    def stage(self, name: str, detail: str) -> None:
        return None

    def progress(self, progress: Progress) -> None:
        return None


class PrintReporter(QuietReporter):
    """One printed line per stage (progress bars are the CLI's)."""

    def stage(self, name: str, detail: str) -> None:
        print(f"{name}: {detail}")


def submit(
    spec_path: str | Path,
    *,
    smoke: bool = False,
    backend: str | None = None,
    detach: bool = False,
    runs_dir: str | Path = RUNS_ROOT,
    cards_dir: str | Path | None = None,
    reporter: Reporter | None = None,
    keep_running: Callable[[Handle], bool] | None = None,
    seeds: int | None = None,
) -> Run:
    """Run a job spec through every stage: prepare, train, evaluate, card, gates, publish.

    A job with candidates (`model.candidates`) or seeds (`training.seeds`, or `seeds`)
    trains and evaluates each of its models as a run of its own, then takes the winner on.

    Args:
        spec_path (`str` or `Path`): the job spec (YAML).
        smoke (`bool`, *optional*): a tiny model on capped data, about a minute on a CPU.
        backend (`str`, *optional*): train on this backend instead of `compute.backend`.
        detach (`bool`, *optional*): remote backends: return once the training started.
        runs_dir (`str` or `Path`, *optional*): where run directories go (default `runs`).
        cards_dir (`str` or `Path`, *optional*): where review copies of cards go.
        reporter (*optional*): receives stage lines and training progress (default quiet).
        keep_running (*optional*): asked on Ctrl-C during a remote training; True leaves
            the job running. Default: cancel it.
        seeds (`int`, *optional*): train once per seed, from `training.seed` on (2-10).

    Returns:
        `Run`: the run directory, its state (`run.state()`) and its methods; with candidates
        or seeds, the winner's (`state.repeats`: every model's figures and why it won).

    Raises:
        [`UserError`]: a bad spec, data or argument (nothing trained).
        [`ToolError`]: training or a remote service failed.
        [`GatesFailed`]: the model missed a gate (the card is written; nothing published).
        [`TrainingCancelled`] / [`TrainingDetached`]: cancelled, or left running remotely.

    Example:
        ```python
        >>> run = submit("jobs/narrative.yaml", smoke=True, reporter=PrintReporter())
        prepare: reading, checking and splitting data
        ...
        ```
    """
    from dexter_autotrain.pipeline import smoke_backend
    from dexter_autotrain.pipeline import submit as submit_loaded
    from dexter_autotrain.spec import load_spec

    as_read = load_spec(Path(spec_path))
    loaded = _with_seeds(as_read, seeds)
    shown, follow = _before_training(
        lambda: smoke_backend(smoke, backend) or loaded.spec.compute.backend,
        detach,
        reporter,
        keep_running,
    )
    cards = None if cards_dir is None else Path(cards_dir)
    if len(members(loaded.spec)) > 1:
        from dexter_autotrain.repeats import Group, submit_group

        root = Path(runs_dir)
        group = Group(loaded, smoke, shown, root, cards, backend, follow, "", as_read.sha256)
        return submit_group(group)
    return submit_loaded(loaded, smoke, shown, Path(runs_dir), cards, backend, follow)


def _with_seeds(loaded: LoadedSpec, seeds: int | None) -> LoadedSpec:
    """`submit --seeds N`: the job repeated over N seeds from its own."""
    if seeds is None:
        return loaded
    if not 1 <= seeds <= MAX_SEEDS:
        raise UserError(f"--seeds {seeds}: give 1 to {MAX_SEEDS} seeds")
    if loaded.spec.sweep is not None and seeds > 1:
        raise UserError("--seeds: a sweep varies one model; run it without --seeds")
    if seeds > 1 and all(member.family in DETERMINISTIC for member in members(loaded.spec)):
        raise UserError(
            f"--seeds {seeds}: the job's only model is of the linear family, which fits the "
            "same model whatever the seed; run it without --seeds"
        )
    return replace(loaded, spec=with_seeds(loaded.spec, seeds))


def resume(
    run: Run | str,
    *,
    detach: bool = False,
    runs_dir: str | Path = RUNS_ROOT,
    cards_dir: str | Path | None = None,
    reporter: Reporter | None = None,
    keep_running: Callable[[Handle], bool] | None = None,
) -> Run:
    """Continue a killed or failed run from its first unfinished stage; a remote training
    still going (or finished) is re-attached, never started twice. A model of a job with
    candidates or seeds resumes the whole job: every member not yet evaluated, then the
    winner's card, publishing and deployment.

    Args:
        run (`Run` or `str`): the run, or a reference `find_run` understands.
        detach: as for `submit`.
        runs_dir: as for `submit`.
        cards_dir: as for `submit`.
        reporter: as for `submit`.
        keep_running: as for `submit`.

    Returns:
        `Run`: the same run, further along.

    Raises:
        UserError: as for `submit`, and when there is nothing left to do.
        ToolError: as for `submit`.

    Example:
        ```python
        >>> resume("narrative").state().state
        'published'
        ```
    """
    from dexter_autotrain.pipeline import resume as resume_run
    from dexter_autotrain.repeats import resume_group

    found = run if isinstance(run, Run) else find_run(run, Path(runs_dir))
    shown, follow = _before_training(
        lambda: found.spec().compute.backend, detach, reporter, keep_running
    )
    cards = None if cards_dir is None else Path(cards_dir)
    if found.state().member is not None:  # one model of a job with candidates or seeds
        return resume_group(found, shown, cards, follow)
    return resume_run(found, shown, cards, follow)


def refuse_local_detach(backend: str) -> None:
    """A local training cannot be detached from: it ends with the process following it.

    Raises:
        [`UserError`]: `backend` is local.
    """
    from dexter_autotrain.backends.attach import LOCAL

    if backend == LOCAL:
        raise UserError(
            "--detach: a local training ends with the submit that follows it; detach from "
            "a remote one (compute.backend hf-jobs or autotrain-spaces, or --backend)"
        )


def _before_training(
    backend: Callable[[], str],
    detach: bool,
    reporter: Reporter | None,
    keep_running: Callable[[Handle], bool] | None,
) -> tuple[Reporter, FollowOptions]:
    """Checks and set-up shared by `submit` and `resume`: a local training cannot be
    detached from (`backend` says where the run trains; read only then); the runner is
    installed on first use. Returns the reporter to use and how to follow the training."""
    from dexter_autotrain.backends.attach import FollowOptions

    if detach:
        refuse_local_detach(backend())
    shown = reporter or QuietReporter()
    install_runner(lambda text: shown.stage("runner", text))
    return shown, FollowOptions(detach=detach, keep_running=keep_running)


def describe_runs(runs_dir: str | Path = RUNS_ROOT, job: str | None = None) -> list[RunStatus]:
    """Every run (or `job`'s), newest first, described: its record, or why it cannot be
    read (`corrupt`), and whether a busy one is still alive.

    Example:
        ```python
        >>> [(s.run.run_id, s.state) for s in describe_runs(job="narrative")]
        [('20261126-101500-ab12', 'published')]
        ```
    """
    described = [run.describe() for run in list_runs(Path(runs_dir), job)]
    return [status for status in described if status.run.path.is_dir()]  # not deleted since


@dataclass(frozen=True)
class RunnerStatus:
    """AutoTrain's own environment, where training runs (installed on first use).

    Attributes:
        path: its folder ($DEXTER_RUNNER_DIR, else the user's cache).
        installed: whether it is complete.
        installed_with: what the install recorded (`autotrain`, `torch`, `removed`,
            `python`); empty when not installed.
        versions: the training packages' versions there (empty when not installed).
    """

    path: Path
    installed: bool
    installed_with: dict[str, str]
    versions: dict[str, str] = field(default_factory=dict)
    """autotrain-advanced, transformers and torch as installed there: what trains."""

    def to_json(self) -> dict[str, object]:
        """What `runner status --json` prints."""
        shown = {"path": str(self.path), "installed": self.installed, **self.installed_with}
        return shown | {"versions": self.versions}


def runner_status() -> RunnerStatus:
    """Whether the AutoTrain runner is installed, where, and with what."""
    from dexter_autotrain.training.runner_env import default_runner

    runner = default_runner()
    installed = runner.is_installed()
    return RunnerStatus(
        runner.root, installed, runner.describe(), runner.versions() if installed else {}
    )


def install_runner(progress: Callable[[str], None] = lambda _: None) -> RunnerStatus:
    """Create the AutoTrain runner if it is missing (idempotent; `submit` does it on first
    use). About three minutes; `progress` gets one line per step.

    Raises:
        [`RunnerInstallError`]: pip failed (its log is named).
    """
    from dexter_autotrain.training.runner_env import default_runner, install

    runner = default_runner()
    if not runner.is_installed():
        install(runner, progress, runner.root.with_name(runner.root.name + ".install.log"))
    return runner_status()
