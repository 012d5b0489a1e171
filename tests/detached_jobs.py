"""Where the stand-in remote backend (detached_backend.py) keeps its "jobs", and the record of
its starts. A module of its own: importing detached_backend registers it as `hf-jobs` in the
importing process, which a test must only do through $DEXTER_BACKEND_PLUGINS in a `dexter-auto`
process of its own."""

from __future__ import annotations

from pathlib import Path

ROOT_ENV = "DEXTER_TEST_REMOTE_ROOT"
TESTS = Path(__file__).resolve().parent


def remote_env(root: Path) -> dict[str, str]:
    """The environment under which `hf-jobs` is the stand-in backend, its jobs under root."""
    return {
        "DEXTER_BACKEND_PLUGINS": "detached_backend",
        "PYTHONPATH": str(TESTS),
        ROOT_ENV: str(root),
    }


def starts(root: Path) -> list[str]:
    """The run ids of every start, in order."""
    log = root / "starts.log"
    return log.read_text().split() if log.exists() else []
