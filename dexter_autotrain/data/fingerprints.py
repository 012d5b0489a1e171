"""sha256 fingerprints of inputs and of prepared outputs, for reproducibility."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

CHUNK = 1 << 20


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def tree_sha256(directory: Path) -> str:
    """One hash for a directory: its files' relative paths and contents, in sorted order.

    A link is hashed by where it points, never followed: a link to `/proc/kcore` or to a
    file outside the repository is not read here (the readers confine what they open)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in directory.rglob("*") if p.is_symlink() or p.is_file()):
        content = f"-> {os.readlink(path)}" if path.is_symlink() else file_sha256(path)
        digest.update(f"{path.relative_to(directory).as_posix()}\0{content}\n".encode())
    return digest.hexdigest()
