"""The Python API: run a job from a notebook or a service without shelling out.

The CLI is a thin layer over these functions and those of `actions` (`evaluate`, `card`,
`publish`, `deploy`, `cancel`): it parses arguments, calls them, and formats what they
return.

Example:
    ```python
    >>> import dexter_autotrain as dx
    >>> run = dx.submit("jobs/narrative.yaml", smoke=True)
    >>> run.state().state
    'carded'
    >>> dx.evaluate(run, split="validation").overall.metrics["f1_macro"]
    0.41
    ```
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from dexter_autotrain.backends.attach import LOCAL, FollowOptions
from dexter_autotrain.backends.base import Handle
from dexter_autotrain.errors import UserError
from dexter_autotrain.pipeline import Reporter, smoke_backend
from dexter_autotrain.runs import RUNS_ROOT, Run, find_run
from dexter_autotrain.spec import load_spec
from dexter_autotrain.training_log import Progress


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
) -> Run:
    """Run a job spec through every stage: prepare, train, evaluate, card, gates, publish.

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

    Returns:
        `Run`: the run directory, its state (`run.state()`) and its methods.

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
    from dexter_autotrain.pipeline import submit as submit_loaded

    loaded = load_spec(Path(spec_path))
    shown, follow = _before_training(
        lambda: smoke_backend(smoke, backend) or loaded.spec.compute.backend,
        detach,
        reporter,
        keep_running,
    )
    return submit_loaded(
        loaded,
        smoke,
        shown,
        Path(runs_dir),
        None if cards_dir is None else Path(cards_dir),
        backend,
        follow,
    )


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
    still going (or finished) is re-attached, never started twice.

    Args:
        run (`Run` or `str`): the run, or a reference `find_run` understands.
        detach, runs_dir, cards_dir, reporter, keep_running: as for `submit`.

    Returns:
        `Run`: the same run, further along.

    Raises:
        As `submit`; [`UserError`] also when there is nothing left to do.

    Example:
        ```python
        >>> resume("narrative").state().state
        'published'
        ```
    """
    from dexter_autotrain.pipeline import resume as resume_run

    found = run if isinstance(run, Run) else find_run(run, Path(runs_dir))
    shown, follow = _before_training(
        lambda: found.spec().compute.backend, detach, reporter, keep_running
    )
    return resume_run(
        found,
        shown,
        None if cards_dir is None else Path(cards_dir),
        follow,
    )


def refuse_local_detach(backend: str) -> None:
    """A local training cannot be detached from: it ends with the process following it.

    Raises:
        [`UserError`]: `backend` is local.
    """
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
    if detach:
        refuse_local_detach(backend())
    shown = reporter or QuietReporter()
    _ensure_runner(shown)
    return shown, FollowOptions(detach=detach, keep_running=keep_running)


def _ensure_runner(reporter: Reporter) -> None:
    """Install the AutoTrain runner on first use, reporting its steps as stage lines."""
    from dexter_autotrain.runner_env import default_runner, install

    runner = default_runner()
    if not runner.is_installed():
        log = runner.root.with_name(runner.root.name + ".install.log")
        install(runner, lambda text: reporter.stage("runner", text), log)
