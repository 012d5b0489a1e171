"""What can be done with a run beside `submit`: evaluate it again, write its card, publish
it, deploy it or change its deployment, cancel it.

The CLI and the Python API both come here. Each function checks the stage it needs, calls
the library, and has the pipeline record the stage it ran (the pipeline owns a run's
transitions). Each imports its machinery only when called: a card needs neither the Hub nor
torch.

Example:
    ```python
    >>> import dexter_autotrain as dx
    >>> run = dx.find_run("narrative")
    >>> dx.evaluate(run, split="validation")["primary_metric"]
    'f1_macro'
    >>> dx.card(run)
    [PosixPath('runs/narrative/20261125-001830-fc69/README.md'), ...]
    ```
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from dexter_autotrain.errors import UserError
from dexter_autotrain.record import RunState
from dexter_autotrain.runs import BUSY_STATES, Run

if TYPE_CHECKING:
    from dexter_autotrain.backends.cancel import Cancelled
    from dexter_autotrain.hub.deployment import Deployment
    from dexter_autotrain.hub.publish import PublishResult
    from dexter_autotrain.hub.retry import Report

CANCEL_REASON = "cancelled with `dexter-auto cancel`"


def _quiet(line: str) -> None:
    return None


def require(run: Run, stage: str, hint: str) -> RunState:
    """The run's state, once `stage` has completed.

    Raises:
        [`UserError`]: `stage` has not run yet; the message ends with `hint`.
    """
    state = run.state()
    if stage not in state.completed:
        raise UserError(f"{run.path}: `{stage}` has not run yet (state {state.state}); {hint}")
    return state


def evaluate(
    run: Run,
    split: str | None = None,
    data: Path | None = None,
    language: str | None = None,
    report: Report = _quiet,
) -> dict[str, Any]:
    """Evaluate the run's model again, on its evaluation split (replacing the card's report
    and the verdict its state records), another `split`, or other `data`.

    Args:
        run (`Run`): a trained run.
        split (`str`, *optional*): `train`, `validation` or `test` instead of the spec's.
        data (`Path`, *optional*): a data file or folder instead of the run's own splits.
        language (`str`, *optional*): the language of `data` when it does not say.
        report (`Callable[[str], None]`, *optional*): progress lines.

    Returns:
        `dict`: the report (`evaluation.json`'s content).

    Raises:
        [`UserError`]: the run has not trained yet, or bad data.

    Example:
        ```python
        >>> evaluate(find_run("narrative"), split="validation")["primary_metric"]
        'f1_macro'
        ```
    """
    from dexter_autotrain.evaluation.evaluate import evaluate_run, evaluation_record

    state = require(run, "train", "finish it with `dexter-auto submit --resume`")
    model_dir = run.model_folder(state)
    result = evaluate_run(run.path, run.spec(state), model_dir, split, data, language, report)
    if split is None and data is None and "evaluate" in state.completed:
        run.update(evaluation=evaluation_record(result))  # the card's report was replaced
    return result


def card(run: Run, cards_dir: Path | None = None) -> list[Path]:
    """Write the run's model card: README.md and .eval_results/ in the run, and a review
    copy in `cards_dir`.

    Returns:
        `list[Path]`: the files written.

    Raises:
        [`UserError`]: the run is not evaluated yet, or its template is bad.
    """
    from dexter_autotrain.cards.write import write_card

    state = require(run, "evaluate", "run `dexter-auto evaluate` or `submit --resume` first")
    spec_dir = run.spec_folder(state)
    return write_card(run.path, run.spec(state), spec_dir, cards_dir, state.smoke)


def publish(
    run: Run, force: str | None = None, report: Report = _quiet, tracked: Report = _quiet
) -> PublishResult:
    """Publish the carded run to its spec's `hub.repo_id` (see `hub.publish.publish_run`),
    record the stage, and log the published commit to the run's tracking (its outcome, one
    line, goes to `tracked`).

    Raises:
        [`UserError`] / [`PublishRefused`] / [`HubAccessError`] / [`HubUnavailable`]: see
            `publish_run`.
    """
    from dexter_autotrain.hub.publish import publish_run
    from dexter_autotrain.pipeline import mark_stage
    from dexter_autotrain.tracking import log_run

    result = publish_run(run, force=force, report=report)
    mark_stage(run, "publish")
    tracked(f"track: {log_run(run, run.spec())}")
    return result


def deploy(run: Run, report: Report = _quiet) -> Deployment:
    """Deploy the run as its spec's `deploy:` section says (see `hub.deploy.deploy_run`) and
    record the stage."""
    from dexter_autotrain.hub.deploy import deploy_run
    from dexter_autotrain.pipeline import mark_stage

    deployment = deploy_run(run, report=report)
    mark_stage(run, "deploy")
    return deployment


def change_deployment(
    run: Run, action: Literal["pause", "resume", "delete"], report: Report = _quiet
) -> Deployment | None:
    """Pause, resume or delete the run's deployment (see `hub.deploy_actions`); a deleted
    one leaves the run's `deploy` stage undone."""
    from dexter_autotrain.hub.deploy_actions import change_deployment as change
    from dexter_autotrain.pipeline import mark_stage

    deployment = change(run, action, report=report)
    mark_stage(run, "deploy", done=deployment is not None)
    return deployment


def cancel(run: Run) -> Cancelled:
    """Cancel the run on any backend (see `backends.cancel.cancel_run`); recorded as
    cancelled by the submit that worked on it, or here when none did.

    Raises:
        [`UserError`]: the run is not running.
        [`ToolError`]: the backend could not cancel, or the submit did not stop in time.
    """
    from dexter_autotrain.backends.cancel import cancel_run
    from dexter_autotrain.pipeline import record_stop

    cancelled = cancel_run(run)
    if run.state().state in BUSY_STATES:  # no submit recorded it
        record_stop(run, "cancelled", CANCEL_REASON)
    return cancelled
