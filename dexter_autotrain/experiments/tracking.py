"""Experiment tracking: every run logged to MLflow, read from its run directory.

What a run logs: its parameters (training settings, base model, backend, data fingerprints),
the validation metrics of every epoch (the trainer state's log history), the evaluation's
metrics, slices, fairness and gates, its spec hash and git commit, and its card, evaluation
report and plots as artifacts. By default into a SQLite store beside the runs
(`runs/mlflow.db`, artifacts under `runs/mlartifacts/<experiment>/`); `tracking.uri` names a
tracking server instead, and `tracking: false` logs nothing.

Logging never fails a run: `log_run` reports a failure in one line. Nothing from the
environment is logged (no token, no user name, no variables): only the run directory's files.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dexter_autotrain.policy.operator import OperatorPolicy
from dexter_autotrain.record import RunState
from dexter_autotrain.report_record import REPORT_FILE, EvaluationReport
from dexter_autotrain.runs import Run
from dexter_autotrain.spec import JobSpec

TRACKING_DB = "mlflow.db"
ARTIFACTS_DIR = "mlartifacts"
ARTIFACTS = {
    "README.md": "card",
    REPORT_FILE: "evaluation",
    "evaluation.md": "evaluation",
    "data-report.json": "data",
    "spec.yaml": "config",
    "autotrain.yml": "config",
}
"""Run files logged as artifacts, and the artifact folder each goes to."""
_UNSAFE = re.compile(r"[^\w.\- :/]")
_BATCH = 100  # MLflow takes at most 100 params or tags and 1000 metrics per batch
_SKIPPED_METRICS = ("runtime", "per_second", "epoch", "total_flos")
_SQLITE = "sqlite:///"
HTTP_LIMITS = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_TIMEOUT": "10"}
"""Bounds on a tracking server that is down (MLflow's defaults retry for minutes); an
operator's own values of these variables win."""


@dataclass(frozen=True)
class TrackingTarget:
    """Where a job's runs are logged."""

    uri: str
    experiment: str
    artifact_location: str | None
    """A folder URI for a local store's artifacts; None: the server decides."""


@dataclass
class RunRecord:
    """Everything logged for one run."""

    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    history: list[tuple[str, float, int]] = field(default_factory=list)
    """(metric, value, training step) for every logged training step and epoch."""
    tags: dict[str, str] = field(default_factory=dict)
    artifacts: list[tuple[Path, str]] = field(default_factory=list)


def tracking_target(spec: JobSpec, runs_root: Path) -> TrackingTarget | None:
    """The job's tracking store, or None with `tracking: false`.

    Example:
        ```python
        >>> tracking_target(spec, Path("runs")).uri
        'sqlite:////work/main/runs/mlflow.db'
        ```
    """
    settings = spec.tracking
    if not settings.enabled:
        return None
    experiment = settings.experiment or spec.name
    if settings.uri is not None:
        return TrackingTarget(settings.uri, experiment, None)
    root = runs_root.resolve()
    location = (root / ARTIFACTS_DIR / _safe(experiment)).as_uri()
    return TrackingTarget(f"{_SQLITE}{root / TRACKING_DB}", experiment, location)


def log_run(run: Run, spec: JobSpec) -> str:
    """Log `run` (again: a run logged before is updated in place) and say so in one line.

    Any failure (an unreachable server, a locked database) is that line, never an exception:
    tracking must not fail a training.

    Returns:
        `logged to MLflow run <id> (<uri>)`, `tracking is off (tracking: false)`, or
        `not logged to MLflow: <cause>`.
    """
    if spec.tracking.uri is not None and run.state().smoke:
        spec = spec.model_copy(update={"tracking": spec.tracking.model_copy(update={"uri": None})})
    target = tracking_target(spec, run.path.parent.parent)  # a smoke run: the local store only
    if target is None:
        return "tracking is off (tracking: false)"
    refused = OperatorPolicy.load().tracking_problem(spec.tracking.uri)
    if refused is not None:  # MLflow would send MLFLOW_TRACKING_TOKEN there
        return f"not logged to MLflow ({target.uri}): tracking.uri: {refused}"
    try:
        run_id = _log(run, target, collect(run, spec))
    except Exception as error:  # any failure of the tracker is reported, never raised
        cause = str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
        return f"not logged to MLflow ({target.uri}): {type(error).__name__}: {cause}"
    return f"logged to MLflow run {run_id} ({target.uri}, experiment {target.experiment})"


def collect(run: Run, spec: JobSpec) -> RunRecord:
    """What the run directory holds to log: params, metrics, history, tags, artifacts."""
    state = run.state()
    report = run.evaluation_if_any()
    data_report = read_json(run.path / "data-report.json")
    record = RunRecord(params=run_params(spec, state, data_report), tags=_tags(run, state))
    record.history = _history(run.path / (state.model_dir or spec.name) / "trainer_state.json")
    if state.training is not None:
        record.metrics["train/seconds"] = float(state.training.seconds)
        record.metrics["train/steps"] = float(state.training.steps)
    if report is not None:
        record.metrics |= evaluation_metrics(report)
        record.tags |= _gate_tags(report)
    record.artifacts = [
        (run.path / name, folder)
        for name, folder in ARTIFACTS.items()
        if (run.path / name).is_file()
    ]
    for plot in report.plots if report else []:
        if (run.path / "plots" / plot).is_file():
            record.artifacts.append((run.path / "plots" / plot, "evaluation/plots"))
    return record


def _base_model(spec: JobSpec, state: RunState) -> str:
    base = spec.base_model
    if base is None:
        return "none (linear family)"
    if state.smoke:
        return "tiny random model (smoke)"
    return f"{base.id}@{base.revision}" if base.id else str(base.path)


def run_params(
    spec: JobSpec, state: RunState, data_report: dict[str, Any] | None
) -> dict[str, str]:
    """The settings that made the run: model, backend, training, data and its fingerprints."""
    params = {
        "task": spec.task,
        "model_family": spec.model.family,
        "base_model": _base_model(spec, state),
        "backend": spec.compute.backend,
        "hardware": spec.compute.hardware or "local",
        "smoke": str(state.smoke),
        "languages": ",".join(spec.languages),
        "evaluation.split": spec.evaluation.split,
        "primary_metric": spec.primary_metric,
        "data.max_rows_per_split": str(spec.data.max_rows_per_split),
    }
    params |= _flat("training", spec.training.model_dump(mode="json"))
    if state.git is not None:
        params["commit"] = state.git.commit[:12] + (" (spec modified)" * state.git.dirty)
    for output in (data_report or {}).get("outputs", []):
        split = Path(output["path"]).stem
        params[f"data.{split}.sha256"] = output["sha256"]
        params[f"data.{split}.rows"] = str(output.get("rows"))
    return {_safe(key): value for key, value in params.items()}


def _flat(prefix: str, values: dict[str, Any]) -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in values.items():
        if isinstance(value, dict):
            flat |= _flat(f"{prefix}.{key}", value)
        else:
            flat[f"{prefix}.{key}"] = str(value)
    return flat


def evaluation_metrics(report: EvaluationReport) -> dict[str, float]:
    """`<split>/<metric>` overall, `<split>/<metric>/<slice>.<group>` per slice, fairness,
    baseline and the lifts, and `gates/passed` (1 or 0)."""
    split = _safe(report.split).replace(" ", "_")
    metrics = _numbers(f"{split}", report.overall.metrics)
    for slice_name, groups in report.slices.items():
        for group, scored in groups.items():
            for name, value in _numbers(split, scored.metrics).items():
                metrics[f"{name}/{_safe(slice_name)}.{_safe(group)}"] = value
    fairness, baseline, published = report.fairness, report.baseline, report.published
    if fairness is not None:
        metrics |= _numbers(f"{split}/fairness", {"gap": fairness.gap, "ratio": fairness.ratio})
    if baseline is not None:
        metrics |= _numbers(f"{split}/baseline", baseline.metrics)
        metrics |= _numbers(split, {"lift_over_baseline": baseline.lift})
    if published is not None:
        metrics |= _numbers(split, {"lift_over_published": published.lift})
    metrics["gates/passed"] = float(bool(report.gates.passed))
    return metrics


def _numbers(prefix: str, values: dict[str, Any]) -> dict[str, float]:
    return {
        f"{prefix}/{_safe(name)}": float(value)
        for name, value in values.items()
        if isinstance(value, int | float) and not isinstance(value, bool)
    }


def _history(trainer_state: Path) -> list[tuple[str, float, int]]:
    """Per-epoch validation metrics (`val/<metric>`) and the training loss (`train/loss`)
    from the trainer state's log history, at their training steps."""
    history = (read_json(trainer_state) or {}).get("log_history", [])
    rows: list[tuple[str, float, int]] = []
    for entry in history:
        step = int(entry.get("step", 0))
        for key, value in entry.items():
            if not isinstance(value, int | float) or key.endswith(_SKIPPED_METRICS):
                continue
            if key.startswith("eval_"):
                rows.append((f"val/{_safe(key.removeprefix('eval_'))}", float(value), step))
            elif key in ("loss", "learning_rate", "grad_norm"):
                rows.append((f"train/{key}", float(value), step))
    return rows


def _tags(run: Run, state: RunState) -> dict[str, str]:
    git, published = state.git, state.published
    tags = {
        "mlflow.runName": run.run_id,
        "mlflow.source.git.commit": git.commit if git else None,
        "dexter.git.spec": git.spec if git else None,
        "dexter.git.dirty": git.dirty if git else None,
        "dexter.job": run.job,
        "dexter.run_id": run.run_id,
        "dexter.run_dir": str(run.path),
        "dexter.state": state.state,
        "dexter.spec_sha256": state.spec_sha256,
        "dexter.config_sha256": state.config_sha256,
        "dexter.published.repo_id": published.repo_id if published else None,
        "dexter.published.commit": published.commit if published else None,
        "dexter.published.url": published.url if published else None,
        "dexter.published.tag": published.tag if published else None,
    }
    return {key: str(value) for key, value in tags.items() if value is not None}


def _gate_tags(report: EvaluationReport) -> dict[str, str]:
    """`dexter.gates` passed/failed, and one `gate.<name>` tag per gate with its verdict."""
    tags = {"dexter.gates": "passed" if report.gates.passed else "failed"}
    for row in report.gates.rows:
        value = "-" if row.value is None else f"{row.value:.4f}"
        verdict = "pass" if row.passed else "FAIL"
        tags[f"gate.{_safe(row.name)}"] = f"{verdict}: {value} {row.rule} {row.threshold}"
    return tags


def _log(run: Run, target: TrackingTarget, record: RunRecord) -> str:
    """Write `record` to the MLflow run recorded in the state (or a new one); its id."""
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.tracking import MlflowClient

    for name in ("mlflow", "alembic"):  # their INFO lines would interleave with ours
        logging.getLogger(name).setLevel(logging.WARNING)
    for variable, value in HTTP_LIMITS.items():
        os.environ.setdefault(variable, value)
    if target.uri.startswith(_SQLITE):
        _seed_store(Path(target.uri.removeprefix(_SQLITE)))
    client = MlflowClient(tracking_uri=target.uri)
    run_id, new = _mlflow_run(client, run, target)
    logged = client.get_run(run_id).data.params
    params = [Param(k, v) for k, v in record.params.items() if k not in logged]
    tags = [RunTag(k, v) for k, v in record.tags.items()]
    timestamp = int(time.time() * 1000)
    metrics = [Metric(k, v, timestamp, 0) for k, v in record.metrics.items()]
    if new:  # a run logged before has its training history already
        metrics += [Metric(k, v, timestamp, step) for k, v, step in record.history]
    for start in range(0, max(len(params), len(tags), len(metrics)), _BATCH):
        client.log_batch(
            run_id,
            metrics=metrics[start : start + _BATCH],
            params=params[start : start + _BATCH],
            tags=tags[start : start + _BATCH],
        )
    for path, folder in record.artifacts:
        client.log_artifact(run_id, str(path), folder)
    client.set_terminated(run_id, "FINISHED")
    return run_id


def _seed_store(database: Path) -> None:
    """Start a new SQLite store as a copy of an empty one kept in the user's cache: MLflow
    builds a store by running every one of its schema migrations (~2 s), once per version."""
    if database.exists():
        return
    from mlflow import __version__
    from mlflow.tracking import MlflowClient

    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "dexter-autotrain"
    empty = cache / f"mlflow-{__version__}-empty.db"
    if not empty.is_file():
        cache.mkdir(parents=True, exist_ok=True)
        partial = cache / f".{empty.name}.{os.getpid()}.partial"
        MlflowClient(tracking_uri=f"{_SQLITE}{partial}").search_experiments()
        os.replace(partial, empty)
    database.parent.mkdir(parents=True, exist_ok=True)
    partial = database.with_name(f".{database.name}.{os.getpid()}.partial")
    shutil.copyfile(empty, partial)
    os.replace(partial, database)


def _mlflow_run(client: Any, run: Run, target: TrackingTarget) -> tuple[str, bool]:
    """The MLflow run the state records for this store, or a new one (recorded in the
    state): its id, and whether it is new."""
    recorded = run.state().tracking
    if recorded is not None and recorded.uri == target.uri:
        return recorded.run_id, False
    experiment = client.get_experiment_by_name(target.experiment)
    experiment_id = (
        experiment.experiment_id
        if experiment
        else client.create_experiment(target.experiment, target.artifact_location)
    )
    run_id = client.create_run(experiment_id, run_name=run.run_id).info.run_id
    run.update(tracking={"uri": target.uri, "run_id": run_id, "experiment": experiment_id})
    return run_id, True


def _safe(name: str) -> str:
    """A name MLflow accepts as a metric, param or tag key."""
    return _UNSAFE.sub("_", name)


def read_json(path: Path) -> dict[str, Any] | None:
    """A run file's JSON, or None when it is missing or unreadable."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None
