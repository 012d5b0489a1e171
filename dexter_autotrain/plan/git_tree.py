"""The two sides `plan` compares: the working tree, and `jobs/` and `templates/` at a git ref.

The base side is written into a throwaway folder beside the repository (same depth, so a
spec's `../../shared/data` names the same folder on both sides) marked as its own repository
root, so `extends:`, templates and path confinement resolve at the base as they did then.
"""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from dexter_autotrain.errors import ToolError, UserError

SPEC_FOLDERS = ("jobs", "templates")
DEFAULT_BASES = ("origin/main", "main")


@dataclass(frozen=True)
class BaseSide:
    """The base of a comparison.

    Attributes:
        ref: the ref as given (or chosen: the merge base with `origin/main`, else `main`).
        commit: the commit it names.
        root: a folder holding `jobs/` and `templates/` as they were at `commit`.
    """

    ref: str
    commit: str
    root: Path


def git(repo: Path, *arguments: str, check: bool = True) -> str:
    """Run git in `repo` and return its output (ToolError when git itself is missing)."""
    try:
        done = subprocess.run(
            ["git", "-C", str(repo), *arguments], capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise ToolError("git is not installed: `plan` compares git revisions") from None
    if check and done.returncode != 0:
        raise ToolError(f"git {' '.join(arguments)}: {done.stderr.strip()[:200]}")
    return done.stdout if done.returncode == 0 else ""


def repository(start: Path) -> Path:
    """The git top level above `start`, or UserError outside a git repository."""
    top = git(start, "rev-parse", "--show-toplevel", check=False).strip()
    if not top:
        raise UserError(f"{start}: not inside a git repository (plan compares git revisions)")
    return Path(top)


def base_commit(repo: Path, ref: str | None) -> tuple[str, str]:
    """`(ref, commit)`: `ref` resolved, or the merge base of HEAD with `origin/main`, else
    with `main`.

    Raises:
        UserError: `ref` names no commit, or no default base exists.
    """
    if ref is not None:
        commit = git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
        if not commit:
            raise UserError(f"--base {ref}: no such commit (name a branch, tag or commit)")
        return ref, commit.strip()
    for candidate in DEFAULT_BASES:
        commit = git(repo, "merge-base", "HEAD", candidate, check=False).strip()
        if commit:
            return f"merge base with {candidate}", commit
    raise UserError("no base to compare with: neither origin/main nor main exists (pass --base)")


@contextmanager
def base_side(repo: Path, ref: str | None) -> Iterator[BaseSide]:
    """The base side, in a folder removed on exit.

    Example:
        >>> with base_side(Path("."), "main") as base:
        ...     sorted(p.name for p in (base.root / "jobs").iterdir())
    """
    shown, commit = base_commit(repo, ref)
    root = _scratch_folder(repo)
    try:
        (root / ".git").mkdir()  # the base's own repository root, for path confinement
        extract(repo, commit, SPEC_FOLDERS, root)
        yield BaseSide(shown, commit, root)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def extract(repo: Path, commit: str, paths: tuple[str, ...], into: Path) -> None:
    """Write the files under `paths` (those that exist at `commit`) into `into`."""
    present = [p for p in paths if git(repo, "ls-tree", "--name-only", commit, "--", p).strip()]
    if not present:
        return
    archive = subprocess.run(
        ["git", "-C", str(repo), "archive", "--format=tar", commit, "--", *present],
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")


def changed_files(repo: Path, commit: str, path: str) -> list[str]:
    """Files under `path` (relative to `repo`) that differ between `commit` and the working
    tree, untracked files included."""
    tracked = git(repo, "diff", "--name-only", "--no-renames", commit, "--", path).split("\n")
    untracked = git(repo, "ls-files", "--others", "--exclude-standard", "--", path).split("\n")
    return sorted({name for name in (*tracked, *untracked) if name})


def sha256_at(repo: Path, commit: str, path: str) -> str | None:
    """sha256 of the file `path` at `commit`; None where it did not exist."""
    done = subprocess.run(
        ["git", "-C", str(repo), "cat-file", "blob", f"{commit}:{path}"],
        capture_output=True,
        check=False,
    )
    return hashlib.sha256(done.stdout).hexdigest() if done.returncode == 0 else None


def _scratch_folder(repo: Path) -> Path:
    try:
        return Path(tempfile.mkdtemp(prefix=".dexter-plan-", dir=repo.parent))
    except OSError:  # a read-only parent: paths leaving the repository may then differ
        return Path(tempfile.mkdtemp(prefix="dexter-plan-"))
