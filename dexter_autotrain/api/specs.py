"""Job specs: check them, render them into AutoTrain configs, write their schema or a new one.

Example:
    ```python
    >>> from dexter_autotrain import api
    >>> check, = api.validate(["jobs/narrative.yaml"])
    >>> check.valid, check.task
    (True, 'text-classification')
    >>> api.render("jobs/narrative.yaml").sha256[:12]
    '3f0c9a1d2b7e'
    ```
"""

from __future__ import annotations

import glob
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dexter_autotrain.errors import Problem, UserError
from dexter_autotrain.system.files import write_atomically

__all__ = [
    "RenderedSpec",
    "SpecCheck",
    "backend_names",
    "init_spec",
    "job_spec_schema",
    "render",
    "task_names",
    "validate",
]


@dataclass(frozen=True)
class SpecCheck:
    """One spec's verdict, as `dexter-auto validate` reports it.

    Attributes:
        path: the file (or the glob that matched none).
        partial: a `_*.yaml` file of shared defaults (may leave out required fields).
        valid: no problems.
        problems: each problem, located.
        name / task / backend / sha256: the job's, for a valid full spec.
    """

    path: str
    partial: bool
    valid: bool
    problems: list[Problem] = field(default_factory=list)
    name: str | None = None
    task: str | None = None
    backend: str | None = None
    sha256: str | None = None

    def to_json(self) -> dict[str, Any]:
        """What `validate --json` prints for the spec (the job's fields only when known)."""
        job = {"name": self.name, "task": self.task, "backend": self.backend}
        known = {k: v for k, v in (job | {"sha256": self.sha256}).items() if v is not None}
        return {"path": self.path, "partial": self.partial, **known, "valid": self.valid} | {
            "problems": [problem.to_dict() for problem in self.problems]
        }


def validate(patterns: Iterable[str | Path], *, data: bool = True) -> list[SpecCheck]:
    """Check job specs, every one reported whether valid or not.

    Args:
        patterns: spec files, globs (`jobs/*.yaml`) or job names (`narrative`); a glob
            that matches nothing is a problem of its own.
        data: also check that every local data source resolves to readable files (named
            at the source's line, with a did-you-mean); False where the data is out of
            reach (a pull request's runner). Nothing is read either way.

    Returns:
        `list[SpecCheck]`: one per file, in the order given (a glob's files sorted).

    Example:
        ```python
        >>> [(c.path, c.valid) for c in validate(["jobs/*.yaml"])]
        [('jobs/actors.yaml', True), ('jobs/narrative.yaml', True), ...]
        ```
    """
    return [_check(path, data) for path in _expand([str(pattern) for pattern in patterns])]


def _expand(patterns: list[str]) -> list[Path | Problem]:
    """Each file a pattern names, or the problem of a pattern that names none."""
    paths: list[Path | Problem] = []
    for pattern in patterns:
        matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        if not matches:
            paths.append(Problem(pattern, None, None, "", "no file matches", "check the glob"))
        paths += [Path(match) for match in matches]
    return paths


def _check(path: Path | Problem, data: bool) -> SpecCheck:
    from dexter_autotrain.data.sources import source_problems
    from dexter_autotrain.spec import check_partial, is_partial, load_spec

    if isinstance(path, Problem):
        return SpecCheck(path.file, partial=False, valid=False, problems=[path])
    partial = is_partial(path)
    try:
        if partial:
            check_partial(path)
            return SpecCheck(str(path), partial=True, valid=True)
        loaded = load_spec(path)
    except UserError as error:
        return SpecCheck(str(path), partial, valid=False, problems=list(error.problems))
    if data and (problems := source_problems(loaded)):
        return SpecCheck(str(path), False, valid=False, problems=problems)
    spec = loaded.spec
    return SpecCheck(
        str(path), False, True, [], spec.name, spec.task, spec.compute.backend, loaded.sha256
    )


@dataclass(frozen=True)
class RenderedSpec:
    """A spec rendered into the AutoTrain config that trains it.

    Attributes:
        text: the config as YAML (the same spec always renders to the same bytes).
        config: the same, as data.
        sha256: the config's hash; spec_sha256: the spec's.
        written: where it was written (None when only rendered).
    """

    text: str
    config: dict[str, Any]
    sha256: str
    spec_sha256: str
    written: Path | None


def render(spec_path: str | Path, output_dir: str | Path | None = None) -> RenderedSpec:
    """Render a job spec into autotrain-advanced 0.8.36's config (`autotrain.yml`).

    Args:
        spec_path: the job spec.
        output_dir: also write `autotrain.yml` into this folder.

    Returns:
        `RenderedSpec`.

    Raises:
        [`UserError`]: the spec is invalid, or trains the linear family (no AutoTrain config).

    Example:
        ```python
        >>> render("jobs/actors.yaml", "runs/preview").written
        PosixPath('runs/preview/autotrain.yml')
        ```
    """
    from dexter_autotrain.spec import load_spec
    from dexter_autotrain.training.render import CONFIG_FILE_NAME, render_config

    path = Path(spec_path)
    loaded = load_spec(path)
    if loaded.spec.model.family == "linear":
        raise UserError(
            f"{path}: model.family is linear, which AutoTrain does not train: there is no "
            "AutoTrain config to render (its grid is in the trained model's config.json)"
        )
    rendered = render_config(loaded.spec, path.parent)
    written = None if output_dir is None else Path(output_dir) / CONFIG_FILE_NAME
    if written is not None:
        write_atomically(written, rendered.text)
    return RenderedSpec(rendered.text, rendered.config, rendered.sha256, loaded.sha256, written)


def job_spec_schema(output: str | Path | None = None) -> str:
    """The job spec's JSON Schema (for editors with yaml-language-server), written to
    `output` when given.

    Example:
        ```python
        >>> job_spec_schema("jobs/job-spec.schema.json")[:1]
        '{'
        ```
    """
    from dexter_autotrain.spec.schema import job_spec_schema_text

    text = job_spec_schema_text()
    if output is not None:
        write_atomically(Path(output), text)
    return text


def init_spec(
    task: str, name: str, directory: str | Path = "jobs", force: bool = False
) -> list[Path]:
    """Write a commented starter spec for `task` to `directory/name.yaml`, and the schema
    beside it when it is missing.

    Returns:
        `list[Path]`: the files written.

    Raises:
        [`UserError`]: the spec exists (and not `force`), or a bad task or name.

    Example:
        ```python
        >>> init_spec("token-classification", "actors-v2")
        [PosixPath('jobs/actors-v2.yaml')]
        ```
    """
    from dexter_autotrain.spec.scaffold import scaffold_spec
    from dexter_autotrain.spec.schema import SCHEMA_FILE_NAME

    target = Path(directory) / f"{name}.yaml"
    if target.exists() and not force:
        raise UserError(f"{target}: already exists (pick another name or pass --force)")
    write_atomically(target, scaffold_spec(task, name))
    written = [target]
    schema_file = Path(directory) / SCHEMA_FILE_NAME
    if not schema_file.exists():
        job_spec_schema(schema_file)
        written.append(schema_file)
    return written


def backend_names() -> list[str]:
    """Where a run may train (`compute.backend`): `local`, `hf-jobs`, `autotrain-spaces`."""
    from typing import get_args

    from dexter_autotrain.spec.model import Backend

    return list(get_args(Backend))


def task_names() -> list[str]:
    """The tasks a spec may name (`text-classification`, ...)."""
    from dexter_autotrain.tasks import TASKS

    return list(TASKS)
