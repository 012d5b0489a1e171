"""The repository a spec or a command belongs to."""

from __future__ import annotations

from pathlib import Path


def repository_root(start: Path) -> Path:
    """The git top level above `start` (a folder), or `start` itself outside git."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return start
