"""A sweep's search space: the spec's `sweep.space` asked of an Optuna trial, and the
training parameters a trial's parameters make."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from dexter_autotrain.errors import UserError
from dexter_autotrain.spec import JobSpec
from dexter_autotrain.spec.model import SearchRange, SearchSpace


def ranges(space: SearchSpace) -> dict[str, SearchRange]:
    """The parameters the space varies, in the spec's order."""
    return {name: search for name, search in space if search is not None}


def suggest(trial: Any, space: SearchSpace) -> dict[str, Any]:
    """One value per searched parameter, chosen by the trial's sampler (or fixed by an
    enqueued trial).

    Args:
        trial: an `optuna.Trial`.
        space: the spec's `sweep.space`.

    Returns:
        The trial's parameters, e.g. `{"learning_rate": 3.1e-05, "batch_size": 16}`.

    Example:
        >>> suggest(study.ask(), spec.sweep.space)  # doctest: +SKIP
    """
    params: dict[str, Any] = {}
    for name, search in ranges(space).items():
        if search.type == "choice":
            params[name] = trial.suggest_categorical(name, search.values)
        elif search.type == "int":
            params[name] = trial.suggest_int(name, search.low, search.high, step=search.step or 1)
        else:
            log = search.type == "log_uniform"
            params[name] = trial.suggest_float(name, search.low, search.high, log=log)
    return params


def with_params(spec: JobSpec, params: dict[str, Any]) -> JobSpec:
    """`spec` trained with a trial's parameters, validated as the spec's `training` is.

    Raises:
        UserError: a parameter set (from `first_trials`) that training refuses.
    """
    training = spec.training.model_dump() | params
    try:
        validated = type(spec.training).model_validate(training)
    except ValidationError as error:
        detail = error.errors()[0]
        raise UserError(
            f"sweep: parameters {params} make an invalid training section: "
            f"{'.'.join(map(str, detail['loc']))}: {detail['msg']}"
        ) from None
    return spec.model_copy(update={"training": validated})


def describe(search: SearchRange) -> str:
    """One range as the card and the terminal show it: `log-uniform 1e-05 to 0.001`."""
    if search.type == "choice":
        return "one of " + ", ".join(str(value) for value in search.values or [])
    step = f" every {search.step}" if search.step and search.step > 1 else ""
    kind = {"log_uniform": "log-uniform", "uniform": "uniform", "int": "integers"}[search.type]
    return f"{kind} {search.low:g} to {search.high:g}{step}"
