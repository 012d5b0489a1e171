"""Hyperparameter sweeps: an Optuna study over a spec's `sweep.space`, then the best trial
promoted through evaluation, gates, card and publishing.

Example:
    ```python
    >>> from dexter_autotrain import api
    >>> result = api.sweep("jobs/narrative.yaml", smoke=True)
    >>> result.best().trial, result.promoted.state().state
    (2, 'carded')
    ```
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from dexter_autotrain.api.runs import QuietReporter, install_runner
from dexter_autotrain.runs import RUNS_ROOT
from dexter_autotrain.sweeps import SweepResult

if TYPE_CHECKING:
    from dexter_autotrain.backends.base import Handle
    from dexter_autotrain.pipeline import Reporter
    from dexter_autotrain.sweeps import SweepOptions

__all__ = ["SweepResult", "resume_sweep", "sweep"]


def sweep(
    spec_path: str | Path,
    *,
    smoke: bool = False,
    promote: bool = True,
    backend: str | None = None,
    runs_dir: str | Path = RUNS_ROOT,
    cards_dir: str | Path | None = None,
    reporter: Reporter | None = None,
    keep_running: Callable[[Handle], bool] | None = None,
) -> SweepResult:
    """Search the spec's `sweep.space`: each trial a run of the job, trained on data prepared
    once and scored on the validation split; then the best trial goes on as a normal run
    (evaluated on the test split, gated, carded, published) unless `promote` is False.

    Args:
        spec_path: a job spec with a `sweep:` section.
        smoke: a tiny model, few rows and at most 3 trials (CI).
        promote: go on with the best trial; False stops after the trials.
        backend: as for `submit`.
        runs_dir: as for `submit`.
        cards_dir: as for `submit`.
        reporter: as for `submit`.
        keep_running: as for `submit`.

    Returns:
        `SweepResult`: its folder, every trial (`rows`), `best()` and the promoted run.

    Raises:
        [`UserError`]: a bad spec or one without a sweep.
        [`ToolError`]: no trial completed.
        [`GatesFailed`]: the promoted model failed a gate.
    """
    from dexter_autotrain.spec import load_spec
    from dexter_autotrain.sweeps import run_sweep

    loaded = load_spec(Path(spec_path))
    shown = reporter or QuietReporter()
    install_runner(lambda text: shown.stage("runner", text))
    options = _options(runs_dir, cards_dir, keep_running, promote, backend)
    return run_sweep(loaded, smoke, shown, options)


def resume_sweep(
    reference: str | Path,
    *,
    promote: bool = True,
    runs_dir: str | Path = RUNS_ROOT,
    cards_dir: str | Path | None = None,
    reporter: Reporter | None = None,
    keep_running: Callable[[Handle], bool] | None = None,
) -> SweepResult:
    """Continue a killed sweep (its folder or id): finished trials are kept, an interrupted
    one is tried again, then the best is promoted.

    Raises:
        [`UserError`]: no such sweep, it is done, or its spec changed since.
    """
    from dexter_autotrain.sweeps import resume_sweep as resume

    shown = reporter or QuietReporter()
    install_runner(lambda text: shown.stage("runner", text))
    options = _options(runs_dir, cards_dir, keep_running, promote, None)
    return resume(str(reference), shown, options)


def _options(
    runs_dir: str | Path,
    cards_dir: str | Path | None,
    keep_running: Callable[[Handle], bool] | None,
    promote: bool,
    backend: str | None,
) -> SweepOptions:
    from dexter_autotrain.backends.attach import FollowOptions
    from dexter_autotrain.sweeps import SweepOptions

    follow = FollowOptions(keep_running=keep_running)
    cards = None if cards_dir is None else Path(cards_dir)
    return SweepOptions(Path(runs_dir), cards, follow, promote=promote, backend=backend)
