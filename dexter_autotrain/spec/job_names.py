"""Job names: `narrative` for `jobs/narrative.yaml`, found from anywhere in the project."""

from __future__ import annotations

from pathlib import Path

from dexter_autotrain.errors import Problem, UserError
from dexter_autotrain.policy.spec_paths import printable
from dexter_autotrain.spec.rules import did_you_mean
from dexter_autotrain.system.repository import JOBS_FOLDER, project_root


def job_spec_path(reference: str | Path) -> Path:
    """The spec file `reference` names: itself when it is a path (it has a suffix or a
    folder, or exists), else the job's spec, `jobs/<name>.yaml` at the project's top (the
    nearest folder above the working directory that holds `jobs/`).

    Raises:
        [`UserError`]: no job of that name, with a did-you-mean among the project's jobs.

    Example:
        ```python
        >>> job_spec_path("narrative")
        PosixPath('jobs/narrative.yaml')
        ```
    """
    path = Path(reference)
    if path.suffix or len(path.parts) != 1 or path.exists():
        return path
    top = project_root()
    jobs = Path(JOBS_FOLDER) if top is None or top == Path.cwd().resolve() else top / JOBS_FOLDER
    for suffix in (".yaml", ".yml"):
        if (spec := jobs / f"{path.name}{suffix}").is_file():
            return spec
    names = sorted(p.stem for p in jobs.glob("*.y*ml") if not p.name.startswith("_"))
    hint = did_you_mean(path.name, names) if names else f"no job specs in {jobs}/"
    problem = Problem(printable(str(reference)), None, None, "", "no such job spec or job", hint)
    raise UserError([problem])
