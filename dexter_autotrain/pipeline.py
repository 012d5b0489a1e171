"""`submit`: the stages of a run, in order, each recorded in the run's state.

Stages read and write the run directory only, so `submit --resume` can continue a killed or
failed run from its first unfinished stage. Later stages (evaluate, card, publish, deploy)
join the STAGES list. A stage may skip itself (a smoke run is never gated or published;
without a token, publishing waits for `dexter-auto publish`): it says why in one line and
stays out of `completed`, so `submit --resume` can still run it later.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import time
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import yaml

from dexter_autotrain.backends import get_backend
from dexter_autotrain.backends.attach import DEFAULT_FOLLOW, FollowOptions, follow_training
from dexter_autotrain.data import prepare_data
from dexter_autotrain.data.sources import source_problems
from dexter_autotrain.data.token_lengths import TokenLengths, measure_token_lengths
from dexter_autotrain.errors import (
    GatesFailed,
    ToolError,
    TrainingCancelled,
    TrainingDetached,
    UserError,
)
from dexter_autotrain.record import MemberRecord
from dexter_autotrain.runs import Run, create_run, job_lock, now, owner, with_resolved
from dexter_autotrain.spec import JobSpec, LoadedSpec, load_spec
from dexter_autotrain.spec.members import Member, member_spec
from dexter_autotrain.spec.smoke import SMOKE_MAX_SEQ_LENGTH, smoke_overrides, smoke_spec
from dexter_autotrain.system.files import write_atomically
from dexter_autotrain.system.threads import single_threaded_blas
from dexter_autotrain.tasks import get_task
from dexter_autotrain.training.base_models import build_tiny_model, resolve_base_model
from dexter_autotrain.training.log import Progress, checkpoint_trainer_states
from dexter_autotrain.training.render import write_training_files
from dexter_autotrain.training.runner_env import default_runner

REMOTE_DEFAULT_HARDWARE = "cpu-basic"
"""The hardware of a run moved to a remote backend by `submit --backend` when its spec
names none: the smallest of both HF Jobs and Spaces."""


class Reporter(Protocol):
    def stage(self, name: str, detail: str) -> None: ...
    def progress(self, progress: Progress) -> None: ...


@dataclass
class Context:
    run: Run
    loaded: LoadedSpec
    spec: JobSpec
    smoke: bool
    reporter: Reporter
    base_model: str | None = None
    cards_dir: Path | None = None
    follow: FollowOptions = DEFAULT_FOLLOW


def _never_skipped(_context: Context) -> str | None:
    return None


@dataclass(frozen=True)
class Stage:
    name: str
    running_state: str | None  # None: the state stays as it is while the stage runs
    done_state: str | None
    action: Callable[[Context], None]
    skip: Callable[[Context], str | None] = _never_skipped  # why the stage does not apply


def smoke_backend(smoke: bool, backend: str | None) -> str | None:
    """The backend override of a submit: a smoke run trains locally unless `--backend`
    names where (so every job smoke-tests offline from a fresh clone, and CI can still try
    a tiny remote run with `--backend hf-jobs`)."""
    return "local" if smoke and backend is None else backend


def with_backend(spec: JobSpec, backend: str | None) -> JobSpec:
    """`spec` trained on `backend` instead (`submit --backend`): on `local` without hardware,
    on a remote backend with the spec's hardware, or REMOTE_DEFAULT_HARDWARE."""
    if backend is None or backend == spec.compute.backend:
        return spec
    hardware = None if backend == "local" else spec.compute.hardware or REMOTE_DEFAULT_HARDWARE
    compute = spec.compute.model_copy(update={"backend": backend, "hardware": hardware})
    return spec.model_copy(update={"compute": compute})


def _prepare(context: Context) -> None:
    run, spec = context.run, context.spec
    context.reporter.stage("prepare", "reading, checking and splitting data")
    report = prepare_data(context.loaded, run.path / "data")
    split = spec.evaluation.split
    if not report.splits.get(split, {}).get("rows"):
        raise UserError(
            f"evaluation.split: the data has no {split} examples to evaluate on; "
            f"add {split} files, set data.split.{split} above 0, or choose "
            "another evaluation.split"
        )
    report_dict = report.to_dict()
    if spec.model.family == "linear":  # no base model, no AutoTrain config
        _write_data_report(run, report_dict)
        run.update(data_outputs=report.outputs)
        return
    if context.smoke:
        context.reporter.stage("prepare", "building a tiny model from scratch (smoke run)")
        base_model = build_tiny_model(
            default_runner(), spec.task, run.path / "data/train.jsonl", run.path / "base-model"
        )
    else:
        base_model = context.base_model or resolve_base_model(spec, context.loaded.path.parent)
    if spec.training.max_seq_length == "auto" and get_task(spec.task).uses_tokenizer:
        lengths = _choose_length(context, base_model)
        report_dict["token_lengths"] = lengths.to_dict()
        run.update(resolved={"max_seq_length": lengths.chosen})
        context.spec = spec = with_resolved(spec, {"max_seq_length": lengths.chosen})
    _write_data_report(run, report_dict)
    rendered = write_training_files(run.path, spec, context.loaded.path.parent, base_model)
    run.update(config_sha256=rendered.sha256, base_model=base_model, data_outputs=report.outputs)


def _write_data_report(run: Run, report: dict) -> None:
    text = json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    write_atomically(run.path / "data-report.json", text)


def _choose_length(context: Context, base_model: str) -> TokenLengths:
    """`max_seq_length: auto`: measured on the training split with the model's tokenizer."""
    lengths = measure_token_lengths(
        base_model,
        context.spec.task,
        context.run.path / "data/train.jsonl",
        cap=SMOKE_MAX_SEQ_LENGTH if context.smoke else None,
    )
    context.reporter.stage(
        "prepare",
        f"max_seq_length {lengths.chosen} (auto: 99th percentile of {lengths.examples} "
        f"training examples is {lengths.p99} tokens; model maximum {lengths.model_max})",
    )
    return lengths


def _train(context: Context) -> None:
    if context.spec.model.family == "linear":
        _train_linear(context)
        return
    run = context.run
    backend = get_backend(context.spec.compute.backend)
    model_dir = run.model_folder()
    shutil.rmtree(model_dir, ignore_errors=True)  # a resumed run trains (or collects) afresh
    context.reporter.stage("train", f"AutoTrain on {backend.name}")
    follow = replace(context.follow, report=lambda line: context.reporter.stage("train", line))
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            # the baseline needs only the train split: fit it while the model trains
            baseline = (
                pool.submit(_fit_baseline, context) if context.spec.evaluation.baseline else None
            )
            final = follow_training(backend, run, context.reporter.progress, follow)
            if baseline is not None:
                baseline.result()
    except TrainingDetached:
        raise
    except BaseException:
        # a resume retrains from scratch anyway; removing the partial output frees the space
        # a full disk needs to record the failure
        shutil.rmtree(model_dir, ignore_errors=True)
        raise
    _keep_trainer_state(model_dir)
    run.update(
        training={
            "hardware": _hardware(context),
            "seconds": round(time.time() - (run.state().training_since or time.time()), 1),
            "steps": final.step,
            "epoch": final.epoch,
            "validation": {
                k: v
                for k, v in final.eval_metrics.items()
                if not k.endswith(("runtime", "per_second"))
            },
        }
    )


def _train_linear(context: Context) -> None:
    """The linear family trains here, in this process: every setting of its grid on the
    train split, the best on the validation split kept (`linear/`)."""
    from dexter_autotrain.evaluation.examples import load_prepared
    from dexter_autotrain.linear import fit_linear
    from dexter_autotrain.linear.folder import KIND_NAMES

    run, spec = context.run, context.spec
    model_dir = run.model_folder()
    shutil.rmtree(model_dir, ignore_errors=True)  # a resumed run trains afresh
    began = time.time()
    train = load_prepared(run.path / "data", "train", spec.task)
    validation = load_prepared(run.path / "data", "validation", spec.task)
    if not validation.inputs:
        raise UserError(
            "data.split.validation: the linear family chooses its setting on the validation "
            "split, and it is empty; give validation files or set data.split.validation above 0"
        )
    if spec.evaluation.baseline:
        _fit_baseline(context)
    context.reporter.stage("train", "the linear family: tuning on the validation split")
    config = fit_linear(
        spec.task,
        (train.inputs, train.labels),
        (validation.inputs, validation.labels),
        spec.training.seed,
        model_dir,
    )
    context.reporter.stage(
        "train",
        f"{KIND_NAMES[config.kind]}: {config.chosen} won, validation {config.metric} "
        f"{config.best_score:.3f} (best of {len(config.trials)} settings)",
    )
    run.update(
        training={
            "hardware": _hardware(context),
            "seconds": round(time.time() - began, 1),
            "steps": len(config.trials),
            "epoch": 0.0,
            "validation": {config.metric: config.best_score},
            "family": "linear",
        },
        training_frameworks=config.versions,
    )


def _hardware(context: Context) -> str:
    """What the training ran on: this machine, or the remote backend's hardware."""
    from dexter_autotrain.system.machine import describe_machine

    compute = context.spec.compute
    if compute.backend == "local" or context.spec.model.family == "linear":
        return describe_machine()  # the linear family trains in this process
    return f"{compute.backend} {compute.hardware or 'cpu-basic'}"


def _fit_baseline(context: Context) -> None:
    from dexter_autotrain.evaluation.baseline import run_baseline

    spec = context.spec
    run_baseline(context.run.path, spec.task, spec.data.split.seed, spec.model.family)


def _keep_trainer_state(model_dir: Path) -> None:
    """Keep the trainer state next to the model and drop the checkpoints. The runner writes
    the final state (every epoch's evaluation) there; a checkpoint's, the fallback, stops at
    that checkpoint, and only the best checkpoint survives training."""
    states = checkpoint_trainer_states(model_dir)
    final = model_dir / "trainer_state.json"
    if not final.is_file() and not states:
        raise ToolError(f"training wrote no trainer state under {model_dir}")
    if not final.is_file():
        shutil.copyfile(states[-1], final)
    for checkpoint in model_dir.glob("checkpoint-*"):
        shutil.rmtree(checkpoint)
    shutil.rmtree(model_dir / "autotrain-data", ignore_errors=True)


def _evaluate(context: Context) -> None:
    from dexter_autotrain.evaluation.evaluate import evaluate_run

    run, spec = context.run, context.spec
    context.reporter.stage("evaluate", f"scoring the model on the {spec.evaluation.split} split")
    report = evaluate_run(
        run.path,
        spec,
        run.model_folder(),
        report=lambda line: context.reporter.stage("evaluate", line),
    )
    run.update(evaluation=report.verdict().to_json())
    if not report.gates.passed and context.smoke:
        context.reporter.stage(
            "evaluate", "gates failed; ignored in a smoke run, whose tiny model is never published"
        )


def _card(context: Context) -> None:
    from dexter_autotrain.cards.write import write_card

    context.reporter.stage("card", "writing the model card")
    written = write_card(
        context.run.path, context.spec, context.loaded.path.parent, context.cards_dir, context.smoke
    )
    context.run.update(card=[str(path) for path in written])
    _track(context)


def _track(context: Context) -> None:
    """Log the run to MLflow (experiments/tracking.py): its outcome in one line, never a failure."""
    from dexter_autotrain.experiments.tracking import log_run

    context.reporter.stage("track", log_run(context.run, context.spec))


def _gates(context: Context) -> None:
    """A failed gate lets the card be written (for review) but stops everything after it:
    nothing is published or deployed, and submit exits 3."""
    if not context.run.state().verdict().gates_passed:
        raise GatesFailed([row.to_json() for row in context.run.evaluation().gates.rows])


def _gates_skipped(context: Context) -> str | None:
    return "not enforced in a smoke run" if context.smoke else None


def _publish(context: Context) -> None:
    from dexter_autotrain.hub.publish import publish_run

    context.reporter.stage("publish", f"publishing to {context.spec.hub.repo_id}")
    result = publish_run(context.run, report=lambda line: context.reporter.stage("publish", line))
    context.reporter.stage("publish", f"{result.repo_id}@{result.commit[:12]} {result.url}")
    mark_stage(context.run, "publish")  # before tracking: its tags say `published`
    _track(context)  # the published commit joins the run's tags


def _publish_skipped(context: Context) -> str | None:
    from dexter_autotrain.hub.auth import LOGIN_HINT, find_token

    if context.smoke:
        return "skipped: smoke runs are never published"
    if context.spec.hub.repo_id is None:
        return "skipped: the spec sets no hub.repo_id"
    if find_token() is None:
        return (
            f"skipped: no Hugging Face token ({LOGIN_HINT}); publish later with "
            f"`dexter-auto publish {context.run.path}`"
        )
    return None


def _deploy(context: Context) -> None:
    from dexter_autotrain.hub.deploy import deploy_run

    target = context.spec.deploy.target
    context.reporter.stage("deploy", f"deploying ({target}: see deploy.target)")
    result = deploy_run(context.run, report=lambda line: context.reporter.stage("deploy", line))
    context.reporter.stage("deploy", f"{result.name} {result.status} at {result.url}")


def _deploy_skipped(context: Context) -> str | None:
    if not context.spec.deploy.enabled:
        return "skipped: deploy.enabled is false"
    if context.smoke:
        return "skipped: smoke runs are never deployed"
    published = context.run.state().published
    if published is not None and published.review and published.awaiting_merge:
        return (
            f"skipped: waiting for the review pull request ({published.review.url}); "
            f"`dexter-auto publish {context.run.path} --merge`, then `dexter-auto deploy`"
        )
    if context.spec.deploy.target == "endpoint" and not context.run.state().published:
        return (
            "skipped: an endpoint serves a published commit and the run is not published; "
            f"deploy later with `dexter-auto deploy {context.run.path}`"
        )
    return None


STAGES = (
    Stage("prepare", "preparing", "prepared", _prepare),
    Stage("train", "training", "trained", _train),
    Stage("evaluate", "evaluating", "evaluated", _evaluate),
    Stage("card", "carding", "carded", _card),
    Stage("gates", None, None, _gates, _gates_skipped),
    Stage("publish", "publishing", "published", _publish, _publish_skipped),
    Stage("deploy", "deploying", "deployed", _deploy, _deploy_skipped),
)


def unfinished(context: Context) -> list[Stage]:
    """The stages still to run: neither completed nor skipped."""
    completed = set(context.run.state().completed)
    return [s for s in STAGES if s.name not in completed and s.skip(context) is None]


def submit(
    loaded: LoadedSpec,
    smoke: bool,
    reporter: Reporter,
    runs_root: Path,
    cards_dir: Path | None = None,
    backend: str | None = None,
    follow: FollowOptions = DEFAULT_FOLLOW,
    member: MemberRecord | None = None,
    stages: Collection[str] | None = None,
    spec_sha256: str | None = None,
) -> Run:
    """Start a new run of a loaded (validated) spec and take it through every stage.

    `backend` overrides the spec's `compute.backend` for this run (recorded in the run's
    spec.yaml and state). With `follow.detach`, it returns once a remote training started,
    raising TrainingDetached. A `member` of a job with candidates or seeds (its spec already
    `member_spec`'s) is recorded as one, and runs only `stages` (see `run_stages`), with its
    job file's `spec_sha256` (what a resume compares the file with)."""
    spec_sha256 = spec_sha256 or loaded.sha256
    overrides = smoke_overrides(loaded.spec) if smoke else {}
    loaded = replace(loaded, spec=with_backend(loaded.spec, smoke_backend(smoke, backend)))
    if smoke:
        loaded = replace(loaded, spec=smoke_spec(loaded.spec))
    spec = loaded.spec
    linear = spec.model.family == "linear"
    if linear and backend not in (None, "local") and member is None:
        raise UserError(f"--backend {backend}: the linear family trains here, in this process")
    base_model = None if smoke or linear else resolve_base_model(spec, loaded.path.parent)
    if problems := source_problems(loaded):  # before a run exists: none is left behind
        raise UserError(problems)
    get_backend(spec.compute.backend)
    try:
        with job_lock(spec.name, runs_root):
            run = create_run(spec.name, runs_root)
            # before the spec: a run killed between the two cannot resume as a full run
            run.update(
                smoke=smoke,
                smoke_overrides=overrides,
                model_dir=spec.name,
                backend=spec.compute.backend,
                **({"member": member.model_dump()} if member else {}),
            )
            record_spec(run, loaded, spec_sha256)
            context = Context(run, loaded, spec, smoke, reporter, base_model, cards_dir, follow)
            run_stages(context, stages)
    except OSError as error:  # before the stages: the runs folder itself cannot be written
        raise ToolError(f"cannot write a run under {runs_root}: {os_cause(error)}") from None
    return run


def finish_member(
    run: Run,
    loaded: LoadedSpec,
    reporter: Reporter,
    cards_dir: Path | None = None,
    follow: FollowOptions = DEFAULT_FOLLOW,
) -> None:
    """Take the member a job with candidates or seeds publishes through its remaining
    stages (card, gates, publish, deploy), with the spec it was trained with."""
    state = run.state()
    spec = run.spec(state)
    loaded = replace(loaded, spec=spec)
    with job_lock(spec.name, run.path.parent.parent):
        run_stages(Context(run, loaded, spec, state.smoke, reporter, None, cards_dir, follow))


def record_spec(run: Run, loaded: LoadedSpec, spec_sha256: str) -> None:
    """Keep the spec as loaded (resolved, defaults filled in), its hash and its commit."""
    write_atomically(
        run.path / "spec.yaml",
        yaml.safe_dump(
            loaded.spec.model_dump(mode="json", exclude={"extends"}),
            sort_keys=False,
            allow_unicode=True,
        ),
    )
    write_atomically(run.path / "spec.sha256", spec_sha256 + "\n")
    run.update(
        spec_path=str(loaded.path.resolve()),
        spec_sha256=spec_sha256,
        git=_git_commit(loaded),
    )


def resume(
    run: Run,
    reporter: Reporter,
    cards_dir: Path | None = None,
    follow: FollowOptions = DEFAULT_FOLLOW,
    stages: Collection[str] | None = None,
) -> Run:
    """Continue a run from its first unfinished stage, on the backend it was started on
    (only `stages`, for a member of a job with candidates or seeds: see `run_stages`).

    A remote training that is still going (or completed) is re-attached, not started again.

    A spec that changed since is taken as long as nothing was built from the old one yet
    (the run failed in `prepare`, e.g. on a data folder an environment variable now fixes);
    after that, the prepared data and config belong to the old spec and a new run is needed.
    """
    state = run.state()
    if state.spec_path is None:
        raise UserError(f"{run.path}: the run recorded no spec (it failed before reading one)")
    loaded = load_spec(Path(state.spec_path))
    changed = loaded.sha256 != state.spec_sha256
    if changed and "prepare" in state.completed:
        raise UserError(
            f"{state.spec_path}: the spec changed since run {run.run_id} prepared its data; "
            "start a new run with `dexter-auto submit`"
        )
    spec_sha256 = loaded.sha256
    loaded = replace(loaded, spec=with_backend(loaded.spec, state.backend))
    if state.member:  # one model of a job with candidates or seeds
        own = Member(state.member.family, state.member.seed)
        loaded = replace(loaded, spec=member_spec(loaded.spec, own))
    if state.smoke:
        loaded = replace(loaded, spec=smoke_spec(loaded.spec))
    with job_lock(loaded.spec.name, run.path.parent.parent):
        _refuse_live_training(run)
        spec = with_resolved(loaded.spec, state.resolved)
        context = Context(run, loaded, spec, state.smoke, reporter, None, cards_dir, follow)
        if not unfinished(context):
            raise UserError(f"{run.path}: already {state.state}; nothing to resume")
        if changed:
            record_spec(run, loaded, spec_sha256)
        run.update(**owner(), reason=None)
        run_stages(context, stages)
    return run


def _refuse_live_training(run: Run) -> None:
    """Never two trainings in one run directory: an earlier attempt's AutoTrain group (its
    watchdog ends it within seconds of `submit` dying) must be gone first."""
    if run.training_alive():
        handle = run.state().training_handle
        pgid = handle.id if handle else "?"
        raise ToolError(
            f"{run.path}: AutoTrain from an earlier attempt is still running (process group "
            f"{pgid}); wait a few seconds for it to stop, or end it with `kill -- -{pgid}`, "
            "then resume again"
        )


def run_stages(
    context: Context,
    only: Collection[str] | None = None,
    stops: tuple[type[BaseException], ...] = (),
) -> None:
    """Run the context's run through its stages in order, as `submit` and `resume` do, then
    record it finished: each stage's running state while it runs, its completion after, and
    why it failed or was cancelled. A completed stage is not run again; a stage that does not
    apply says why in one line. The only code that moves a run from stage to stage.

    Args:
        context: the run, its spec and where its lines go.
        only: the stages to run (`{"prepare"}`, `{"train"}`: a sweep prepares its data once
            and trains each trial); None: every stage.
        stops: exceptions that end a stage early without failing it (a sweep's pruned
            trial): the run is recorded `cancelled` with the exception's message, and the
            exception raised again.

    Raises:
        GatesFailed: the gates refused the run (recorded with their reason).
        ToolError, UserError: a stage failed (recorded in the run as `failed`).
        TrainingCancelled: Ctrl-C or SIGTERM (recorded as `cancelled`).
        TrainingDetached: a remote training goes on without this process.

    Example:
        ```python
        >>> run_stages(Context(run, loaded, spec, True, reporter), {"prepare"})  # doctest: +SKIP
        ```
    """
    completed = set(context.run.state().completed)
    for stage in STAGES:
        if stage.name in completed or (only is not None and stage.name not in only):
            continue
        skipped = stage.skip(context)
        if skipped is not None:
            context.reporter.stage(stage.name, skipped)
            continue
        _run_one(context, stage, stops)
    context.run.update(finished=now(), stage=None)


def mark_stage(run: Run, name: str, done: bool = True) -> None:
    """Record a stage a command ran on its own (`publish`, `deploy`) as completed, or as no
    longer done (`deploy --delete`). The run's state becomes the done state of the furthest
    stage it has completed, so publishing a deployed run again leaves it `deployed`."""
    completed = [stage for stage in run.state().completed if stage != name]
    completed += [name] if done else []
    reached = [s.done_state for s in STAGES if s.name in completed and s.done_state]
    run.update(completed=completed, state=reached[-1] if reached else "pending")


def share_preparation(run: Run, **records: object) -> None:
    """Record a run whose data another run prepared (a sweep's trial, from the sweep's
    `prepared` run) as prepared, with the records that preparation made."""
    run.complete("prepare", state="prepared", **records)


def _run_one(context: Context, stage: Stage, stops: tuple[type[BaseException], ...] = ()) -> None:
    run = context.run
    try:
        running = {"state": stage.running_state} if stage.running_state else {}
        run.update(**running, stage=stage.name, stage_started=now())
        with single_threaded_blas():
            stage.action(context)
    except GatesFailed as failed:
        run.update(finished=now(), stage=None, reason=f"gates failed: {failed}")
        raise
    except TrainingDetached:
        raise  # the run stays in its stage, with the training's handle, for a resume
    except stops as stopped:
        record_stop(run, "cancelled", f"{stage.name}: {stopped}")
        raise
    except (TrainingCancelled, KeyboardInterrupt):
        record_stop(run, "cancelled", f"cancelled during {stage.name}")
        raise TrainingCancelled() from None
    except (ToolError, UserError, OSError) as error:
        failure = _stage_failure(run, stage.name, error)
        reason = str(failure).splitlines()[0]
        if failure is error:
            reason = f"{stage.name}: {reason}"
        record_stop(run, "failed", reason)
        raise failure from None
    run.complete(stage.name, **({"state": stage.done_state} if stage.done_state else {}))


def _stage_failure(
    run: Run, stage: str, error: ToolError | UserError | OSError
) -> ToolError | UserError:
    """The error to report: a full disk or a read-only or deleted run directory (an OSError
    here, or AutoTrain failing because of it) becomes one line naming the cause."""
    if not run.path.is_dir():
        return ToolError(f"{stage}: the run directory {run.path} was deleted while it ran")
    if isinstance(error, OSError):
        return ToolError(f"{stage}: {os_cause(error)}")
    return error


def record_stop(run: Run, state: str, reason: str) -> None:
    """Record that the run stopped (`failed` or `cancelled`) and why, if the run directory
    can still be written."""
    with contextlib.suppress(OSError, ToolError):
        run.update(state=state, stage=None, finished=now(), reason=reason)


def os_cause(error: OSError) -> str:
    """One line for a failed file operation: what the system said, and about which path."""
    where = f": {error.filename}" if error.filename else ""
    return f"{error.strerror or error}{where}"


def _git_commit(loaded: LoadedSpec) -> dict | None:
    """The commit the spec was read at, and whether the spec (or a file it extends) was
    committed unchanged, modified or not tracked by git at all."""
    folder = str(loaded.path.parent.resolve())

    def git(*args: str) -> str | None:
        done = subprocess.run(
            ["git", "-C", folder, *args], capture_output=True, text=True, check=False
        )
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    if commit is None:
        return None
    changes = (git("status", "--porcelain", "--", *map(str, loaded.files)) or "").splitlines()
    untracked = any(line.startswith("??") for line in changes)
    spec = "untracked" if untracked else ("modified" if changes else "committed")
    return {"commit": commit, "dirty": bool(changes), "spec": spec}
