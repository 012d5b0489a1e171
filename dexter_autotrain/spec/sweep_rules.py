"""Rules for a spec's `sweep:` section, checked on the raw merged data beside the others.

A sweep chooses among trials on the validation split only: the test split stays unseen
until the one promoted model is evaluated on it, so its scores are not flattered by the
choice.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pydantic import ValidationError

from dexter_autotrain.spec.model import SearchSpace, Training
from dexter_autotrain.spec.yaml_source import FieldPath
from dexter_autotrain.tasks import get_task

RuleProblem = tuple[FieldPath, str, str]
RANGE_TYPES = {
    "learning_rate": ("log_uniform", "uniform", "choice"),
    "warmup_ratio": ("uniform", "choice"),
    "weight_decay": ("uniform", "log_uniform", "choice"),
    "max_grad_norm": ("uniform", "log_uniform", "choice"),
    "batch_size": ("int", "choice"),
    "epochs": ("int", "choice"),
    "gradient_accumulation": ("int", "choice"),
    "scheduler": ("choice",),
}
"""The kinds of range each searchable parameter may take."""
TEST_WORDS = ("test", "test_", "test/", "test-")
VALIDATION_ONLY = (
    "sweeps score trials on the validation split only; the test split is kept for the "
    "promoted model's evaluation"
)


def sweep_metrics(task: str) -> tuple[str, ...]:
    """The validation metrics a sweep may optimise for `task` (training reports them every
    epoch)."""
    kind = get_task(task)
    return ("loss", *(m for m in kind.metrics if kind.metric(m).per_epoch))


def check_sweep(data: dict[str, Any], task: str | None) -> Iterator[RuleProblem]:
    """Every problem in `data["sweep"]` (nothing when there is no sweep)."""
    sweep = data.get("sweep")
    if not isinstance(sweep, dict):
        return
    if sweep.get("split") == "test":
        yield ("sweep", "split"), "cannot be `test`", VALIDATION_ONLY
    evaluation = data.get("evaluation")
    if isinstance(evaluation, dict) and evaluation.get("split") == "validation":
        yield (
            ("evaluation", "split"),
            "is `validation`, which the sweep chooses on",
            "evaluate the promoted model on `test` (a score on the split it was chosen by "
            "flatters it)",
        )
    yield from _metric(sweep, task)
    space = sweep.get("space")
    if isinstance(space, dict):
        if not space:
            yield ("sweep", "space"), "is empty", "add a parameter, e.g. learning_rate"
        for name, search in space.items():
            if isinstance(search, dict) and name in RANGE_TYPES:
                yield from _range(name, search)
    yield from _first_trials(sweep, space if isinstance(space, dict) else {})


def _metric(sweep: dict[str, Any], task: str | None) -> Iterator[RuleProblem]:
    metric = sweep.get("metric")
    where = ("sweep", "metric")
    if isinstance(metric, str) and metric.lower().startswith(TEST_WORDS):
        yield where, f"`{metric}` is a test-split metric", VALIDATION_ONLY
    elif isinstance(metric, str) and task is not None and metric not in sweep_metrics(task):
        yield (
            where,
            f"`{metric}` is not a validation metric of {task}",
            ("use one of: " + ", ".join(sweep_metrics(task))),
        )
    direction = sweep.get("direction")
    if isinstance(metric, str) and task is not None and metric in sweep_metrics(task):
        natural = get_task(task).metric(metric)
        if direction in ("maximize", "minimize") and direction != natural.direction:
            better = "higher" if natural.higher_is_better else "lower"
            yield (
                ("sweep", "direction"),
                f"{direction[:-1]}es {metric}, which is better {better}",
                f"use `{natural.direction}` (or leave it out)",
            )


def _range(name: str, search: dict[str, Any]) -> Iterator[RuleProblem]:
    where = ("sweep", "space", name)
    kind = search.get("type")
    if kind not in RANGE_TYPES[name]:
        if isinstance(kind, str) and kind in ("log_uniform", "uniform", "int", "choice"):
            yield (
                (*where, "type"),
                f"`{kind}` does not fit {name}",
                ("use one of: " + ", ".join(RANGE_TYPES[name])),
            )
        return
    needed, unused = (
        (("values",), ("low", "high", "step"))
        if kind == "choice"
        else (
            ("low", "high"),
            ("values",) if kind == "int" else ("values", "step"),
        )
    )
    for key in needed:
        if search.get(key) is None:
            yield where, f"a `{kind}` range needs `{key}`", f"add `{key}:`"
    for key in unused:
        if search.get(key) is not None:
            yield (*where, key), f"not used by this `{kind}` range", "remove it"
    yield from _bounds(name, search, kind)


def _bounds(name: str, search: dict[str, Any], kind: str) -> Iterator[RuleProblem]:
    """Every value the range can give must be a valid `training.<name>`."""
    where = ("sweep", "space", name)
    low, high = search.get("low"), search.get("high")
    if kind != "choice" and _number(low) and _number(high):
        if low >= high:
            yield where, f"`low` ({low}) is not below `high` ({high})", "swap or widen them"
        if kind == "log_uniform" and low <= 0:
            yield (*where, "low"), "must be above 0 for `log_uniform`", "use `uniform`, or low > 0"
        if kind == "int" and not (isinstance(low, int) and isinstance(high, int)):
            yield where, "an `int` range needs whole `low` and `high`", "drop the decimals"
    keys = ("values",) if kind == "choice" else ("low", "high")
    for key in keys:
        values = search.get(key)
        for index, value in enumerate(values if isinstance(values, list) else [values]):
            problem = _training_problem(name, value)
            if kind == "log_uniform" and _number(value) and value <= 0:
                continue  # reported above
            if problem is not None and value is not None:
                at = (*where, key, index) if key == "values" else (*where, key)
                yield at, f"`{value}` is not a valid training.{name}: {problem}", "change it"


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _training_problem(name: str, value: Any) -> str | None:
    if not isinstance(value, int | float | str):
        return None  # pydantic reports the type
    try:
        Training.model_validate({name: value})
    except ValidationError as error:
        return error.errors()[0]["msg"]
    return None


def _first_trials(sweep: dict[str, Any], space: dict[str, Any]) -> Iterator[RuleProblem]:
    trials = sweep.get("first_trials")
    for index, trial in enumerate(trials if isinstance(trials, list) else []):
        if not isinstance(trial, dict):
            continue
        for name, value in trial.items():
            where = ("sweep", "first_trials", index, name)
            known = [key for key in space if key in SearchSpace.model_fields]
            if name not in known:
                yield (
                    where,
                    f"`{name}` is not in `sweep.space`",
                    ("the space's parameters: " + ", ".join(known) if known else "add it to space"),
                )
            elif (problem := _training_problem(name, value)) is not None:
                yield where, f"`{value}` is not a valid training.{name}: {problem}", "change it"
