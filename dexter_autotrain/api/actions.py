"""What can be done with a run beside `submit`: ask its status, read its log, evaluate it
again (or a published model on its data), write its card, publish it, deploy it or change
its deployment, cancel it, serve it, compare it with others.

The CLI and the Python API both come here. Each function checks the stage it needs, calls
the library, and has the pipeline record the stage it ran (the pipeline owns a run's
transitions). Each imports its machinery only when called: a card needs neither the Hub nor
torch.

Example:
    ```python
    >>> import dexter_autotrain as dx
    >>> run = dx.find_run("narrative")
    >>> dx.evaluate(run, split="validation").primary_metric
    'f1_macro'
    >>> dx.card(run)
    [PosixPath('runs/narrative/20261125-001830-fc69/README.md'), ...]
    ```
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from dexter_autotrain.errors import UserError
from dexter_autotrain.record import RunState, ServeProcess
from dexter_autotrain.runs import BUSY_STATES, RUNS_ROOT, Run, RunStatus, list_runs

if TYPE_CHECKING:
    from dexter_autotrain.backends.cancel import Cancelled
    from dexter_autotrain.experiments.compare import Comparison
    from dexter_autotrain.hub.deployment import Deployment
    from dexter_autotrain.hub.publish import PublishResult
    from dexter_autotrain.hub.retry import Report
    from dexter_autotrain.hub.rollback import RolledBack
    from dexter_autotrain.report_record import EvaluationReport

CANCEL_REASON = "cancelled with `dexter-auto cancel`"


def _quiet(line: str) -> None:
    return None


def status(run: Run) -> RunStatus:
    """The run's record, and whether a run that claims to be busy still is (what
    `dexter-auto status` shows).

    Example:
        ```python
        >>> status(find_run("narrative")).state
        'carded'
        ```
    """
    return run.describe()


@dataclass(frozen=True)
class TrainingJob:
    """A training in progress, as its backend sees it now.

    Attributes:
        kind / id / urls / details: the run's handle (`backends.Handle`).
        phase: the backend's word for it (`running`, `completed`, ...; `unknown` when the
            backend could not be asked); message: its detail.
    """

    kind: str
    id: str
    urls: dict[str, str] = field(default_factory=dict)
    details: dict[str, object] = field(default_factory=dict)
    phase: str = "unknown"
    message: str = ""

    def to_json(self) -> dict[str, object]:
        return asdict(self)


def training_job(state: RunState) -> TrainingJob | None:
    """What the run's backend says about its training now (local: whether the process group
    lives; remote: the job's stage), or None when the run is not training. A backend that
    cannot be asked gives phase `unknown` and the reason, not an error."""
    from dexter_autotrain.backends import Handle, get_backend
    from dexter_autotrain.errors import ToolError

    if state.training_handle is None or state.state != "training":
        return None
    handle = Handle.from_record(state.training_handle)
    job = TrainingJob(handle.kind, handle.id, handle.urls, handle.details)
    try:
        poll = get_backend(handle.kind).poll(handle)
    except (ToolError, UserError) as error:
        return replace(job, message=f"cannot ask: {error}")
    return replace(job, phase=poll.phase, message=poll.message)


def logs(run: Run, follow: bool = False) -> Iterator[str]:
    """The run's training log, piece by piece: a remote training's from its backend (an HF
    Job's, a Space's), a local one's from `logs/training.log`. With `follow`, until the run
    stops.

    Example:
        ```python
        >>> print("".join(logs(find_run("narrative")))[-200:])  # doctest: +SKIP
        ```
    """
    from dexter_autotrain.backends import Handle, get_backend
    from dexter_autotrain.backends.local import read_from

    record = run.describe().record
    if record is not None and record.training_handle and Run.remote_training(record):
        handle = Handle.from_record(record.training_handle)
        yield from (f"{line}\n" for line in get_backend(handle.kind).logs(handle, follow))
        return
    position, running = 0, True
    while running:
        status = run.describe()
        running = follow and status.state in BUSY_STATES
        running = running and not status.interrupted and not status.detached
        chunk = read_from(run.log_file, position)  # after the check: nothing written is lost
        position += len(chunk)
        if chunk:
            yield chunk.decode("utf-8", errors="replace")
        if running:
            time.sleep(0.5)


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
) -> EvaluationReport:
    """Evaluate the run's model again, on its evaluation split (replacing the card's report
    and the verdict its state records), another `split`, or other `data`.

    Args:
        run (`Run`): a trained run.
        split (`str`, *optional*): `train`, `validation` or `test` instead of the spec's.
        data (`Path`, *optional*): a data file or folder instead of the run's own splits.
        language (`str`, *optional*): the language of `data` when it does not say.
        report (`Callable[[str], None]`, *optional*): progress lines.

    Returns:
        `EvaluationReport`: the report (`evaluation.json`, typed; reading it as a dict,
        `report["split"]`, still works for one minor version, with a DeprecationWarning).

    Raises:
        [`UserError`]: the run has not trained yet, or bad data.

    Example:
        ```python
        >>> evaluate(find_run("narrative"), split="validation").primary_metric
        'f1_macro'
        ```
    """
    from dexter_autotrain.evaluation.evaluate import evaluate_run
    from dexter_autotrain.system.threads import single_threaded_blas

    state = require(run, "train", "finish it with `dexter-auto submit --resume`")
    model_dir = run.model_folder(state)
    with single_threaded_blas():  # as in the pipeline's stages
        result = evaluate_run(run.path, run.spec(state), model_dir, split, data, language, report)
    if split is None and data is None and "evaluate" in state.completed:
        run.update(evaluation=result.verdict().to_json())  # the card's report was replaced
    return result


def is_published_model(reference: str) -> bool:
    """Whether `reference` names a published model (`hub:ORG/NAME@REV`), not a run."""
    from dexter_autotrain.hub.pull import HUB_PREFIX

    return reference.startswith(HUB_PREFIX)


def evaluate_published(
    reference: str,
    on: Run | None = None,
    split: str | None = None,
    data: Path | None = None,
    language: str | None = None,
    runs_dir: Path = RUNS_ROOT,
    report: Report = _quiet,
) -> EvaluationReport:
    """Evaluate a published model, `hub:ORG/NAME@REV` (pinned to the commit REV names),
    exactly as a run's own model is scored, on a run's data, into that run's
    `evaluations/hub-<name>-<commit>/`.

    Args:
        reference: `hub:ORG/NAME@REV` (a branch, tag or commit).
        on: the run whose data and evaluation settings to use (default: the latest run of
            the job named like the repository).
        split: as for `evaluate`.
        data: as for `evaluate`.
        language: as for `evaluate`.
        runs_dir: where to find that latest run.
        report: as for `evaluate`.

    Raises:
        [`UserError`]: a bad reference, no such run, or the run is not prepared.
        [`HubAccessError`] / [`HubUnavailable`]: see `hub.pull`.

    Example:
        ```python
        >>> evaluate_published("hub:dexter-ng/narrative@main").model.commit[:7]
        '3f2a9c1'
        ```
    """
    from dexter_autotrain.evaluation.evaluate import evaluate_published as evaluate_pulled
    from dexter_autotrain.hub.pull import HubModelRef
    from dexter_autotrain.runs import find_run

    ref = HubModelRef.parse(reference)
    found = on or find_run(ref.repo_id.split("/")[1], runs_dir)
    require(found, "prepare", "pick a run with --on")
    return evaluate_pulled(found.path, found.spec(), ref, split, data, language, report)


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
    run: Run,
    force: str | None = None,
    report: Report = _quiet,
    tracked: Report = _quiet,
    review: bool | None = None,
) -> PublishResult:
    """Publish the carded run to its spec's `hub.repo_id` (see `hub.publish.publish_run`):
    a tagged commit on `hub.branch`, or with `review` (default: the spec's `hub.review`) a
    Hub pull request against it. Record the stage, and log the published commit to the run's
    tracking (its outcome, one line, goes to `tracked`).

    Raises:
        [`UserError`] / [`PublishRefused`] / [`HubAccessError`] / [`HubUnavailable`]: see
            `publish_run`.

    Example:
        ```python
        >>> publish(find_run("narrative"), review=True).published.review.url
        'https://huggingface.co/dexter-ng/narrative/discussions/4'
        ```
    """
    from dexter_autotrain.experiments.tracking import log_run
    from dexter_autotrain.hub.publish import publish_run
    from dexter_autotrain.pipeline import mark_stage

    result = publish_run(run, force=force, review=review, report=report)
    mark_stage(run, "publish")
    tracked(f"track: {log_run(run, run.spec())}")
    return result


def merge_published(run: Run, force: str | None = None, report: Report = _quiet) -> PublishResult:
    """Merge the run's review pull request on the Hub and tag the merged commit (see
    `hub.publish.merge_published`); merging a merged one only checks the tag.

    Raises:
        [`UserError`]: not published for review, closed, or the branch moved since.
        [`PublishRefused`]: the run failed its gates and no `force` reason was given.
    """
    from dexter_autotrain.hub.publish import merge_published as merge

    return merge(run, force=force, report=report)


def close_published(run: Run, reason: str, report: Report = _quiet) -> PublishResult:
    """Close the run's review pull request on the Hub, saying why (recorded in the run).

    Raises:
        [`UserError`]: no reason, not published for review, or merged already.
    """
    from dexter_autotrain.hub.publish import close_published as close

    return close(run, reason, report)


@dataclass(frozen=True)
class Rollback:
    """A rollback and its redeployment.

    Attributes:
        rolled_back: the branch put back to the tag's files (`hub.rollback.RolledBack`).
        redeployed: the deployment serving it again (None: the job does not deploy, or no
            run here was published as that tag; `note` says which).
        note: why it was not redeployed, or "".
    """

    rolled_back: RolledBack
    redeployed: Deployment | None
    note: str = ""


def rollback(run: Run, tag: str, force: str | None = None, report: Report = _quiet) -> Rollback:
    """Put the job's `hub.branch` back to the files of its released `tag` in one commit (see
    `hub.rollback.rollback`), then deploy the run published as that tag again where the job
    deploys.

    Args:
        run: a run of the job (its spec names the repo, branch and deployment).
        tag: a tag the job published.
        force: the reason to roll back to a tag whose gates failed.

    Raises:
        [`UserError`]: no such tag. [`PublishRefused`]: failed gates without `force`.

    Example:
        ```python
        >>> rollback(find_run("narrative"), "narrative-20261125-001830-fc69").rolled_back.tag
        'narrative-20261125-001830-fc69-rollback-20261207-101500'
        ```
    """
    from dexter_autotrain.hub.rollback import rollback as roll_back

    spec = run.spec()
    rolled_back = roll_back(spec, tag, force, report)
    if not spec.deploy.enabled:
        return Rollback(rolled_back, None, "the job does not deploy (deploy.enabled is false)")
    released = [
        other
        for other in list_runs(run.path.parent.parent, run.job)
        if (state := other.describe().record) and state.published and state.published.tag == tag
    ]
    if not released:
        return Rollback(rolled_back, None, f"no run here was published as {tag}: deploy it")
    return Rollback(rolled_back, deploy(released[0], report))


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


@dataclass(frozen=True)
class LocalServer:
    """A `dexter-auto serve` started by `start_server`, in its own process group: `url` takes
    Inference Endpoints requests. A context manager that stops it."""

    url: str
    process: ServeProcess

    def stop(self) -> None:
        """Stop the server (SIGTERM to its group, SIGKILL after a grace period)."""
        from dexter_autotrain.hub.local_deploy import stop_local

        stop_local(self.process)

    def __enter__(self) -> LocalServer:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def start_server(
    model: Run | Path | str, log_dir: Path | None = None, report: Report = _quiet
) -> LocalServer:
    """Serve a run's model (or a model folder, or `hub:ORG/NAME@REV`) in the background, as
    `dexter-auto serve` does, on a free local port.

    Args:
        model: a trained run, a model folder, or a published model reference.
        log_dir: where the server's output goes (default: a new temporary folder).
        report: progress lines.

    Returns:
        `LocalServer`: its URL; stop it with `.stop()` or a `with` block.

    Raises:
        [`UserError`]: the run is not trained yet.
        [`ToolError`]: the server exited first or printed no URL in time.

    Example:
        ```python
        >>> with start_server(find_run("narrative")) as server:
        ...     InferenceClient(server.url).text_classification("Wetin dey happen?")
        ```
    """
    from dexter_autotrain.hub.local_deploy import start_serve

    if isinstance(model, Run):  # served as a run: its max_seq_length, its revision
        require(model, "train", "finish it with `dexter-auto submit --resume`")
        source = str(model.path)
    else:
        source = str(model)
    folder = log_dir or Path(tempfile.mkdtemp(prefix="dexter-serve-"))
    url, process = start_serve(source, folder, report)
    return LocalServer(url, process)


def serve(
    model: str,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    workers: int = 1,
    max_batch_size: int = 32,
    batch_timeout: float = 0.01,
    batching: bool = True,
    max_queue: int = 256,
    body_timeout: float = 10.0,
    log_dir: Path | None = None,
    runs_dir: Path = RUNS_ROOT,
    report: Report = _quiet,
    ready_json: bool = False,
) -> None:
    """Serve a model over HTTP as an Inference Endpoint does, in this process, until SIGTERM
    or SIGINT (`start_server` runs one in the background instead). Its URL is the first line
    of stdout, once it is ready. With `$DEXTER_SERVE_TOKEN` set, requests need it as a bearer
    token (and only then may `host` be every interface).

    Args:
        model: a run (path, JOB/RUN-ID, run id or job name), a model folder, or
            `hub:ORG/NAME@REV` (downloaded into `runs_dir/.hub-models/`, pinned).
        host: the address to listen on.
        port: the port (0: a free one).
        workers: inference workers, each with its own model.
        max_batch_size: the most requests batched together.
        batch_timeout: seconds a request waits for others to batch with.
        batching: False answers each request alone.
        max_queue: requests in flight before 503.
        body_timeout: seconds a request body may take to arrive.
        log_dir: log each input and its prediction as JSONL here.
        runs_dir: where runs (and downloaded Hub models) live.
        report: progress lines (a download, what is served).
        ready_json: the ready line as JSON (url, name, revision, task, path) for scripts.

    Raises:
        [`UserError`]: no such model, a privileged port, or every interface without a token.
    """
    from dexter_autotrain.serve.app import ServeOptions, build_server
    from dexter_autotrain.serve.model import resolve_model
    from dexter_autotrain.serve.prediction_log import prepare_log_folder
    from dexter_autotrain.serve.process import TOKEN_VARIABLE, checked_host, free_port, run_server

    if 0 < port < 1024:
        raise UserError(f"--port {port}: use 0 (a free port) or 1024-65535")
    token = os.environ.get(TOKEN_VARIABLE) or None
    bound = checked_host(host, token)
    served = resolve_model(model, runs_dir, report)
    if log_dir is not None:
        prepare_log_folder(log_dir)
    options = ServeOptions(
        host=bound,
        port=port or free_port(bound),
        workers=workers,
        max_batch_size=max_batch_size,
        batch_timeout=batch_timeout,
        batching=batching,
        log_dir=log_dir,
        max_queue=max_queue,
        body_timeout=body_timeout,
        token=token,
    )
    report(f"serving {served.name} ({served.task}) from {served.path}")
    run_server(build_server(served, options), served, options.host, options.port, ready_json)


def compare_runs(*runs: Run | str, root: Path = RUNS_ROOT) -> Comparison:
    """Runs side by side (what `dexter-auto runs compare` shows): metrics overall and per
    language, gates, the settings that differ, and data that changed.

    Args:
        runs: two or more runs, or references to them (paths, JOB/RUN-ID, run ids, jobs).
        root: the runs folder references are found in.

    Raises:
        [`UserError`]: fewer than two runs, or a reference that names no run.
    """
    from dexter_autotrain.experiments import compare

    references = [str(run.path) if isinstance(run, Run) else run for run in runs]
    return compare.compare_runs(references, root)
