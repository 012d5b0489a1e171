"""Which data sources a job change adds, removes or changes.

Local sources inside the repository are compared file by file between the base commit and
the working tree (sha256 of each file that differs); sources outside the repository are not
versioned, so only their naming is compared; Hub sources are compared by id and revision.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from dexter_autotrain.cards.context import public_path
from dexter_autotrain.plan.git_tree import changed_files, sha256_at
from dexter_autotrain.plan.report import FileChange, SourceChange
from dexter_autotrain.spec import JobSpec

OUTSIDE = "outside:"
"""Marks a source outside the repository (not versioned: its files are not compared)."""


def sources(spec: JobSpec, spec_dir: Path, root: Path) -> set[str]:
    """Each source of `spec` as a name comparable across sides: a path relative to `root`
    (its side's repository) when inside it, `outside:` and its last parts outside it,
    `hub:ID@REV` for Hub datasets; `{language}` is expanded."""
    names = set()
    for source in spec.data.sources:
        if source.hub is not None:
            names.add(f"hub:{source.hub}@{source.revision or 'latest'}")
            continue
        paths = [str(source.path)]
        if "{language}" in paths[0]:
            paths = [paths[0].replace("{language}", code) for code in spec.languages]
        names |= {_name((spec_dir / path).resolve(), root.resolve()) for path in paths}
    return names


def data_changes(base: set[str], new: set[str], repo: Path, commit: str) -> list[SourceChange]:
    """Sources added, removed, and (inside the repository) changed since `commit`.

    Example:
        >>> data_changes({"data/a"}, {"data/a", "data/b"}, Path("."), "main")
        [SourceChange(source='data/b', change='added', files=[])]
    """
    changes = [SourceChange(name, "added") for name in sorted(new - base)]
    changes += [SourceChange(name, "removed") for name in sorted(base - new)]
    for name in sorted(base & new):
        if name.startswith(("hub:", OUTSIDE)):
            continue
        files = [
            FileChange(path, sha256_at(repo, commit, path), _sha256(repo / path))
            for path in changed_files(repo, commit, name)
        ]
        if files:
            changes.append(SourceChange(name, "changed", files))
    return changes


def _name(path: Path, root: Path) -> str:
    if root in path.parents:
        return path.relative_to(root).as_posix()
    return OUTSIDE + public_path(str(path))


def _sha256(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
