"""Shared helpers: run the real `dexter-auto` executable, find the repo and the runner."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
JOBS = REPO / "jobs"
DEXTER_AUTO = Path(sys.executable).parent / "dexter-auto"


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str


def run_cli(
    *args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None
) -> Result:
    """Run the installed console script as a user would, in a real process."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("DEXTER_HUB")}
    environ |= {"COLUMNS": "200", "NO_COLOR": "1"} | (env or {})
    done = subprocess.run(
        [str(DEXTER_AUTO), *map(str, args)],
        cwd=cwd or REPO,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def fake_token(name: str) -> str:
    """A token-shaped string (`hf_` and 34 letters and digits) for tests that hunt for leaks,
    assembled at run time so that no literal in the repository looks like a credential."""
    body = (name + hashlib.sha256(name.encode()).hexdigest())[:34]
    return "hf" + "_" + body


@pytest.fixture
def cli():
    return run_cli


SHARED_DATA = REPO.parent / "shared" / "data"
# The shared data lies outside the repository, and specs written into temporary folders read
# the repository's samples: allow both as an operator would (path_policy), beside any roots
# the caller allowed already (the Makefile allows the shared data).
os.environ["DEXTER_DATA_ROOTS"] = os.pathsep.join(
    filter(None, [os.environ.get("DEXTER_DATA_ROOTS"), str(SHARED_DATA), str(REPO / "data")])
)


@pytest.fixture
def write_job(tmp_path):
    """Write a spec into tmp_path and load it."""
    from dexter_autotrain.spec import load_spec

    def write(text: str, name: str = "job.yaml"):
        path = tmp_path / name
        path.write_text(text)
        return load_spec(path)

    return write


def wait_finished(backend, handle, limit: float = 240) -> str:
    """Poll a remote backend's training until it has finished; its phase."""
    import time

    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        poll = backend.poll(handle)
        if poll.finished:
            return poll.phase
        time.sleep(0.5)
    raise AssertionError(f"{handle.kind} {handle.id} still {poll.phase} after {limit} s")
