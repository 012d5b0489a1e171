"""The repository a spec or a command belongs to."""

from __future__ import annotations

from pathlib import Path

JOBS_FOLDER = "jobs"
"""A project's top is the nearest folder holding `jobs/`: where `runs/` and `model_cards/`
live and where a job name (`narrative`) finds its spec (`jobs/narrative.yaml`)."""


def repository_root(start: Path) -> Path:
    """The git top level above `start` (a folder), or `start` itself outside git."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return start


def project_root(start: Path | None = None) -> Path | None:
    """The nearest folder at or above `start` (default: the working directory) that holds
    `jobs/`, so commands work the same from any subdirectory; None outside a project."""
    start = (start or Path.cwd()).resolve()
    return next(
        (folder for folder in (start, *start.parents) if (folder / JOBS_FOLDER).is_dir()), None
    )


def project_path(name: str) -> Path:
    """`name` (`runs`, `model_cards`) at the project's top; as given, relative to the working
    directory, when that is the top or there is no project (so paths print as typed).

    Example:
        ```python
        >>> os.chdir("jobs"); project_path("runs")
        PosixPath('/home/me/dexter/runs')
        ```
    """
    root = project_root()
    return Path(name) if root is None or root == Path.cwd().resolve() else root / name
