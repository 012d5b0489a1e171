"""`dexter-auto init`: commented starter specs, one per task."""

from __future__ import annotations

from importlib import resources

from pydantic import TypeAdapter, ValidationError

from dexter_autotrain.errors import UserError
from dexter_autotrain.spec.model import JobName


def scaffold_spec(task: str, name: str) -> str:
    """The starter spec for `task`, named `name`."""
    try:
        TypeAdapter(JobName).validate_python(name)
    except ValidationError:
        raise UserError(
            f"{name!r}: not a valid job name (use lowercase letters, digits and "
            "hyphens, at most 48 characters)"
        ) from None
    template = resources.files("dexter_autotrain.spec.scaffolds").joinpath(f"{task}.yaml")
    return template.read_text(encoding="utf-8").replace("__NAME__", name)
