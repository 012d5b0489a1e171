"""The spec reference: every field of a job spec, its type, default and meaning, as markdown
(the docs site's reference page is built from it, so it cannot fall behind the model)."""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from dexter_autotrain.spec.model import JobSpec


@dataclass(frozen=True)
class FieldRow:
    """One field: its dotted path (`data.sources[].path`), type, default and description."""

    path: str
    type: str
    default: str
    description: str


def field_rows(model: type[BaseModel] = JobSpec, prefix: str = "") -> Iterator[FieldRow]:
    """Every field of `model` and of the sections inside it, depth first, in spec order.

    Example:
        ```python
        >>> next(row.path for row in field_rows() if row.path.startswith("data.sources"))
        'data.sources[].path'
        ```
    """
    for name, info in model.model_fields.items():
        path = f"{prefix}{info.alias or name}"
        section, many = _section(info.annotation)
        yield _row(path, info)
        if section is not None:
            yield from field_rows(section, f"{path}{'[]' if many else ''}.")


def spec_reference_markdown() -> str:
    """The reference as markdown: the top-level fields in one table, then a table per
    section (`data`, `training`, ...) with every field inside it."""
    header = ["| field | type | default | what it is |", "|---|---|---|---|"]
    lines = ["## Top level", "", *header]
    sections = []
    for name, info in JobSpec.model_fields.items():
        key, (section, _) = info.alias or name, _section(info.annotation)
        if section is None:
            lines.append(_line(_row(key, info)))
        else:
            sections.append((key, info, section))
    for key, info, section in sections:
        about = _about(section) or info.description or ""
        lines += ["", f"## `{key}`", "", about, "", *header]
        lines += [_line(row) for row in field_rows(section, f"{key}.")]
    return "\n".join(lines).strip() + "\n"


def _row(path: str, info: FieldInfo) -> FieldRow:
    return FieldRow(path, _type_name(info.annotation), _default(info), info.description or "")


def _about(section: type[BaseModel]) -> str:
    """The section's own docstring (not one inherited from pydantic's base)."""
    return " ".join((section.__doc__ or "").split()) if "__doc__" in vars(section) else ""


def _line(row: FieldRow) -> str:
    cells = (f"`{row.path}`", row.type, row.default, row.description)
    return "| " + " | ".join(_cell(cell) for cell in cells) + " |"


def _section(annotation: object) -> tuple[type[BaseModel] | None, bool]:
    """The section model a field holds (directly, optionally or as a list) and whether it
    is a list of them."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _section(args[0])
    if origin in (typing.Union, types.UnionType):
        found = [_section(arg) for arg in args if arg is not type(None)]
        return next((item for item in found if item[0] is not None), (None, False))
    if origin is list and args:
        inner, _ = _section(args[0])
        return inner, inner is not None
    return None, False


def _type_name(annotation: object) -> str:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return _type_name(args[0])
    if origin is typing.Literal:
        return " | ".join(f"`{arg}`" for arg in args)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(arg) for arg in args)
    if origin in (list, dict):
        return f"{origin.__name__} of " + ", ".join(_type_name(arg) for arg in args)
    if annotation is type(None):
        return "null"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "section"
    return getattr(annotation, "__name__", str(annotation))


def _default(info: FieldInfo) -> str:
    if info.default_factory is not None:
        value = info.default_factory()  # type: ignore[call-arg]
        return "" if isinstance(value, BaseModel) else f"`{value!r}`"
    if info.default is PydanticUndefined:
        return "required"
    return "" if isinstance(info.default, BaseModel) else f"`{info.default!r}`"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")
