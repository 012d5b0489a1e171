"""Paths: how they are shown to people, and how files are written safely."""

from __future__ import annotations

import os
from pathlib import Path


def display_path(path: Path) -> str:
    """`path` relative to the working directory when below it, else as given."""
    try:
        relative = os.path.relpath(path.resolve(), Path.cwd())
    except (OSError, RuntimeError, ValueError):  # a symlink loop, a NUL, a name too long
        return os.path.normpath(path)
    return os.path.normpath(path) if relative.startswith("..") else relative


def write_atomically(path: Path, content: str | bytes) -> None:
    """Write through a temporary file and rename, so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    if isinstance(content, bytes):
        partial.write_bytes(content)
    else:
        partial.write_text(content, encoding="utf-8")
    os.replace(partial, path)
