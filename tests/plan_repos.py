"""Temporary git repositories for `plan` tests: a `main` branch holding the project's job
specs, templates and narrative sample, and a `pr` branch the test then edits."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from conftest import REPO, SHARED_DATA

COPIED = ("jobs", "templates", "data/samples/naijasenti", "data/samples/memes")
LEFT_OUT = shutil.ignore_patterns("news.yaml")
"""The news job reads 14 MasakhaNEWS files: these tests need the other three jobs only."""
ENV = {"DEXTER_DATA": str(SHARED_DATA), "HF_HUB_OFFLINE": "1", "HF_TOKEN": ""}
"""actors.yaml reads the shared data by $DEXTER_DATA; no token, no Hub: placeholders."""


def git(repo: Path, *arguments: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *arguments], capture_output=True, text=True, check=True
    )
    return done.stdout


def make_repo(folder: Path) -> Path:
    """A repository at `folder/repo` with `main` committed and `pr` checked out."""
    repo = folder / "repo"
    for name in COPIED:
        shutil.copytree(REPO / name, repo / name, ignore=LEFT_OUT)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "ci@dexter.test")
    git(repo, "config", "user.name", "CI")
    commit(repo, "base")
    git(repo, "checkout", "-q", "-b", "pr")
    return repo


def commit(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))
