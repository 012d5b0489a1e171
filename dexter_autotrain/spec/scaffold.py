"""`dexter-auto init`: commented starter specs, one per task."""

from __future__ import annotations

from importlib import resources

from pydantic import TypeAdapter, ValidationError

from dexter_autotrain.errors import Problem, UserError
from dexter_autotrain.policy.spec_paths import printable
from dexter_autotrain.spec.model import JobName
from dexter_autotrain.spec.rules import did_you_mean


def scaffold_spec(task: str, name: str) -> str:
    """The starter spec for `task`, named `name`."""
    try:
        TypeAdapter(JobName).validate_python(name)
    except ValidationError:
        raise UserError(
            f"{name!r}: not a valid job name (use lowercase letters, digits and "
            "hyphens, at most 48 characters)"
        ) from None
    scaffolds = resources.files("dexter_autotrain.spec.scaffolds")
    tasks = sorted(
        item.name.removesuffix(".yaml")
        for item in scaffolds.iterdir()
        if item.name.endswith(".yaml")
    )
    if task not in tasks:
        raise UserError(
            [
                Problem(
                    printable(task), None, None, "TASK", "no such task", did_you_mean(task, tasks)
                )
            ]
        )
    return scaffolds.joinpath(f"{task}.yaml").read_text(encoding="utf-8").replace("__NAME__", name)
