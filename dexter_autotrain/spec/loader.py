"""Load a job spec: read YAML, follow `extends:`, interpolate, validate, locate every problem."""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import typing
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from dexter_autotrain.errors import Problem, UserError
from dexter_autotrain.policy.cost_caps import cap_breaches, shipped_flavor_price
from dexter_autotrain.policy.operator import OperatorPolicy
from dexter_autotrain.policy.spec_paths import confine, printable
from dexter_autotrain.spec.interpolation import interpolate
from dexter_autotrain.spec.job_names import job_spec_path
from dexter_autotrain.spec.members import remote_trainings
from dexter_autotrain.spec.model import JobSpec
from dexter_autotrain.spec.rules import check_rules, did_you_mean
from dexter_autotrain.spec.yaml_source import (
    FieldPath,
    Mark,
    YamlDocument,
    dotted,
    load_yaml_mapping,
)
from dexter_autotrain.system.files import display_path

MAX_EXTENDS_DEPTH = 8
SAFE_FILE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,95}\.ya?ml$")
"""A job file's name: it becomes a job name, a step output and a line in CI logs, so nothing
that could break a line, quote or start a workflow command (`::error`)."""

_PATTERN_HINTS = {
    "name": "use lowercase letters, digits and hyphens, at most 48 characters",
    "revision": "use the full 40-character commit sha",
    "languages": "use an ISO 639 code such as eng, pcm, hau, yor, ibo",
    "language": "use an ISO 639 code such as eng, pcm, hau, yor, ibo",
    "timeout": "write a number and a unit, e.g. 90m or 2h",
}
_RANGE_WORDS = {
    "greater_than_equal": "of at least",
    "greater_than": "above",
    "less_than_equal": "of at most",
    "less_than": "below",
}
_TYPE_NAMES = {
    "int_type": "an integer",
    "float_type": "a number",
    "string_type": "a string",
    "bool_type": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "int_from_float": "a whole number",
}


@dataclass(frozen=True)
class LoadedSpec:
    """A validated spec, the data it was validated from, and where it came from."""

    spec: JobSpec
    path: Path
    data: dict[str, Any]
    files: tuple[Path, ...]
    marks: dict[FieldPath, Mark] = field(default_factory=dict, repr=False, compare=False)

    def located(self, where: FieldPath, message: str, hint: str) -> Problem:
        """A problem found later (in the data a field names, say) at that field's line."""
        return (
            _located(self.marks, where, message, hint)
            if self.marks
            else Problem(
                printable(display_path(self.path)), None, None, dotted(where), message, hint
            )
        )

    @property
    def sha256(self) -> str:
        """Hash of the resolved spec: equal specs hash equal, however they were written."""
        return spec_sha256(self.spec)


def spec_sha256(spec: JobSpec) -> str:
    canonical = json.dumps(
        spec.model_dump(mode="json", exclude={"extends"}),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def is_partial(path: Path) -> bool:
    """Files named `_*.yaml` hold shared defaults for other specs to extend."""
    return path.name.startswith("_")


def load_spec(path: str | Path, environ: Mapping[str, str] | None = None) -> LoadedSpec:
    """Load and validate the spec at `path`, or raise UserError with every problem in it."""
    path = job_spec_path(path)
    spec, document, files = _load(path, os.environ if environ is None else environ, False)
    assert spec is not None
    return LoadedSpec(spec=spec, path=path, data=document.data, files=files, marks=document.marks)


def check_partial(path: str | Path, environ: Mapping[str, str] | None = None) -> None:
    """Validate a shared-defaults file: everything but the fields it may leave out."""
    _load(job_spec_path(path), os.environ if environ is None else environ, True)


def _load(
    path: Path, environ: Mapping[str, str], partial: bool
) -> tuple[JobSpec | None, YamlDocument, tuple[Path, ...]]:
    if not SAFE_FILE_NAME.match(path.name):
        raise UserError(
            [
                Problem(
                    printable(display_path(path)), None, None, "", "not a job file name",
                    "name job files with letters, digits, '.', '_' and '-', ending in .yaml",
                )
            ]
        )  # fmt: skip
    document, files = _resolve_extends(path, display_path(path), ())
    data, raw_problems = interpolate(document.data, environ)
    uninterpolated = {where for where, _, _ in raw_problems}
    if not partial:
        data.setdefault("name", path.stem)
    raw_problems += check_rules(data, partial=partial)
    problems = [
        _located(document.marks, where, message, hint) for where, message, hint in raw_problems
    ]
    spec = None
    try:
        spec = JobSpec.model_validate(data)
    except ValidationError as error:
        problems += [
            _pydantic_problem(document.marks, detail)
            for detail in error.errors()
            if not (partial and detail["type"] == "missing")
            and tuple(detail["loc"]) not in uninterpolated
        ]
    if spec is not None:
        problems += _path_problems(spec, path.parent, document.marks)
        problems += _operator_problems(spec, document.marks, environ)
    if problems:
        raise UserError(problems)
    return spec, YamlDocument(data, document.marks), files


def _named_paths(spec: JobSpec) -> Iterator[tuple[FieldPath, str]]:
    """Every file or folder the spec names that the toolkit will read (see policy.spec_paths)."""
    for index, source in enumerate(spec.data.sources):
        if source.path is None:
            continue
        where: FieldPath = ("data", "sources", index, "path")
        if "{language}" in source.path:
            for language in spec.languages:
                yield where, source.path.replace("{language}", language)
        else:
            yield where, source.path
    if spec.card.template:
        yield ("card", "template"), spec.card.template
    if spec.evaluation.identity_terms:
        yield ("evaluation", "identity_terms"), spec.evaluation.identity_terms


def _path_problems(spec: JobSpec, spec_dir: Path, marks: dict[FieldPath, Mark]) -> list[Problem]:
    """Paths that leave the repository (and the allowed data roots) or name special files."""
    problems: list[Problem] = []
    for where, relative in _named_paths(spec):
        if any(p.field == dotted(where) for p in problems):
            continue  # one problem per field: `{language}` expansions share a folder
        try:
            confine(spec_dir / relative, spec_dir, dotted(where))
        except UserError as error:
            problems += [_located(marks, where, p.message, p.hint) for p in error.problems]
    return problems


def _resolve_extends(
    path: Path, display: str, chain: tuple[Path, ...]
) -> tuple[YamlDocument, tuple[Path, ...]]:
    document = load_yaml_mapping(path, display)
    chain = (*chain, path.resolve())
    parent_name = document.data.get("extends")
    if parent_name is None:
        return document, chain
    mark = document.marks[("extends",)]
    if not isinstance(parent_name, str) or not parent_name:
        raise UserError(
            [
                _at(
                    mark,
                    "extends",
                    "must be a file name",
                    "write the path of a spec, e.g. _base.yaml",
                )
            ]
        )
    parent = _confined_parent(path.parent / parent_name, chain[0].parent, mark)
    if parent in chain:
        cycle = " -> ".join(p.name for p in (*chain, parent))
        raise UserError([_at(mark, "extends", f"circular: {cycle}", "remove one `extends:`")])
    if len(chain) > MAX_EXTENDS_DEPTH:
        raise UserError(
            [
                _at(
                    mark,
                    "extends",
                    f"more than {MAX_EXTENDS_DEPTH} levels deep",
                    "flatten the chain of specs",
                )
            ]
        )
    if not parent.is_file():
        siblings = [p.name for p in path.parent.glob("*.y*ml")]
        close = difflib.get_close_matches(Path(parent_name).name, siblings, n=1)
        hint = f"did you mean `{close[0]}`?" if close else "paths are relative to this file"
        raise UserError([_at(mark, "extends", f"file not found: {printable(parent_name)}", hint)])
    base, files = _resolve_extends(parent, display_path(parent), chain)
    base.data.pop("extends", None)
    marks = {where: m for where, m in base.marks.items() if not _replaced(where, document.data)}
    marks.update(document.marks)
    return YamlDocument(deep_merge(base.data, document.data), marks), files


def _confined_parent(parent: Path, top_dir: Path, mark: Mark) -> Path:
    """The extended spec, resolved, inside the top spec's repository (or UserError at the
    `extends:` line)."""
    try:
        return confine(parent, top_dir, "extends")
    except UserError as error:
        problem = error.problems[0]
        raise UserError([_at(mark, "extends", problem.message, problem.hint)]) from None


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Mappings merge key by key; anything else in `override` replaces the base value."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _replaced(where: FieldPath, override: dict[str, Any]) -> bool:
    """Whether the override replaces the base value at or above `where` with a non-mapping."""
    node: Any = override
    for part in where:
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
        if not isinstance(node, dict):
            return True
    return False


def _operator_problems(
    spec: JobSpec, marks: dict[FieldPath, Mark], environ: Mapping[str, str]
) -> list[Problem]:
    """Destinations the spec names that the operator does not allow (policy.operator)."""
    policy = OperatorPolicy.load(environ)
    staging = str(spec.compute.staging_repo) if spec.compute.staging_repo else None
    repo_id = str(spec.hub.repo_id) if spec.hub.repo_id else None
    found = [
        (("compute", "image"), policy.image_problem(spec.compute.image)),
        (("compute", "staging_repo"), staging and policy.staging_problem(staging, repo_id)),
        (("tracking", "uri"), policy.tracking_problem(spec.tracking.uri)),
        (("sweep", "storage"), spec.sweep and policy.storage_problem(spec.sweep.storage)),
    ]
    hint = "the operator's allow-lists are set where the job runs, never in a spec"
    problems = [_located(marks, where, problem, hint) for where, problem in found if problem]
    hint = "cost caps are the operator's; a spec stays within them"
    for breach in cap_breaches(spec, policy.caps, shipped_flavor_price, remote_trainings(spec)):
        problems.append(_located(marks, breach.where, breach.message, hint))
    return problems


def _located(marks: dict[FieldPath, Mark], where: FieldPath, message: str, hint: str) -> Problem:
    return _at(_nearest_mark(marks, where), dotted(where), message, hint)


def _at(mark: Mark, field: str, message: str, hint: str) -> Problem:
    return Problem(mark.file, mark.line, mark.column, field, message, hint)


def _nearest_mark(marks: dict[FieldPath, Mark], where: FieldPath) -> Mark:
    for end in range(len(where), -1, -1):
        if where[:end] in marks:
            return marks[where[:end]]
    return next(iter(marks.values()))


def _pydantic_problem(marks: dict[FieldPath, Mark], detail: Any) -> Problem:
    where: FieldPath = tuple(detail["loc"])
    kind, value = detail["type"], detail.get("input")
    field = str(where[-1]) if where else ""
    if kind == "missing":
        return _located(marks, where, "required field is missing", f"add `{field}:`")
    if kind == "extra_forbidden":
        allowed = sorted(_fields_at(where[:-1]))
        return _located(marks, where, "unknown field", did_you_mean(field, allowed))
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", detail["ctx"]["expected"])
        return _located(
            marks, where, f"{value!r} is not allowed", did_you_mean(str(value), choices)
        )
    if kind in _RANGE_WORDS:
        limit = next(iter(detail["ctx"].values()))
        return _located(
            marks, where, f"{value!r} is out of range", f"use a value {_RANGE_WORDS[kind]} {limit}"
        )
    if kind == "too_short":
        return _located(marks, where, "is empty", "list at least one item")
    if kind == "string_pattern_mismatch":
        hint = _PATTERN_HINTS.get(_field_name(where), "use owner/name, e.g. dexter-ng/narrative")
        return _located(marks, where, f"{value!r} is not valid", hint)
    if kind in _TYPE_NAMES:
        return _located(
            marks,
            where,
            f"expected {_TYPE_NAMES[kind]}, got {_describe(value)}",
            f"write {_TYPE_NAMES[kind]} here",
        )
    message = detail["msg"]
    return _located(marks, where, message[0].lower() + message[1:], "")


def _field_name(where: FieldPath) -> str:
    return next((part for part in reversed(where) if isinstance(part, str)), "")


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"


def _fields_at(where: FieldPath) -> set[str]:
    """The field names of the spec section at `where` (for did-you-mean suggestions)."""
    model: type[BaseModel] | None = JobSpec
    for part in where:
        if model is None or isinstance(part, int):
            continue
        info = model.model_fields.get(part)
        model = _model_in(info.annotation) if info else None
    return set(model.model_fields) if model else set()


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for argument in typing.get_args(annotation):
        found = _model_in(argument)
        if found:
            return found
    return None
