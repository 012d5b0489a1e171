"""The job files of one side (base or this branch), loaded as `validate` loads them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dexter_autotrain.errors import Problem, UserError
from dexter_autotrain.spec import check_partial, is_partial, load_spec
from dexter_autotrain.spec.loader import LoadedSpec

JOBS_FOLDER = "jobs"


@dataclass(frozen=True)
class JobVersion:
    """One job file on one side: its spec, or the problems that stop it loading.

    Attributes:
        key: the file relative to its side's root (`jobs/narrative.yaml`).
        file: the file on disk.
        loaded: the validated spec, None when invalid.
        problems: every located problem (none when valid).
    """

    key: str
    file: Path
    loaded: LoadedSpec | None
    problems: list[Problem]


def load_side(root: Path) -> dict[str, JobVersion]:
    """Every job spec under `root/jobs/` by key; shared defaults (`_*.yaml`) appear only when
    they are invalid (a job extending them would fail too, but the cause is theirs)."""
    versions = {}
    for file in sorted((root / JOBS_FOLDER).glob("*.y*ml")):
        key = f"{JOBS_FOLDER}/{file.name}"
        try:
            if is_partial(file):
                check_partial(file)
                continue
            versions[key] = JobVersion(key, file, load_spec(file), [])
        except UserError as error:
            versions[key] = JobVersion(key, file, None, list(error.problems))
    return versions
