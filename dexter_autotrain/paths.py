"""How paths are shown to people: relative to the working directory when inside it."""

from __future__ import annotations

import os
from pathlib import Path


def display_path(path: Path) -> str:
    relative = os.path.relpath(path.resolve(), Path.cwd())
    return os.path.normpath(path) if relative.startswith("..") else relative
