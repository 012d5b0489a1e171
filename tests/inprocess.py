"""Run `dexter-auto` in this process (click's CliRunner): ~100x faster than a subprocess,
for tests that try hundreds of hostile inputs. Any exception other than SystemExit is a
crash, which is exactly what these tests look for."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import chdir, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from dexter_autotrain.backends import registrations_restored
from dexter_autotrain.cli import cli
from dexter_autotrain.cli.console import mode

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"
IMPORT_TIME_SETTINGS = {"HF_HUB_OFFLINE", "HF_ENDPOINT"}


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str
    crash: BaseException | None
    """An exception the CLI let escape (a bug: user input must end in exit 0 or 2)."""


def invoke(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> Outcome:
    """`dexter-auto ARGS` run in `cwd`, with `$DEXTER_DATA_ROOTS` naming the shared data."""
    mode.json = False  # a --json run earlier in this process must not leak into this one
    environ = {"DEXTER_DATA_ROOTS": str(SHARED_DATA), "COLUMNS": "200", "NO_COLOR": "1"}
    environ["DEXTER_DEBUG"] = "1"  # a bug escapes as its exception instead of one line
    # a stand-in backend a call's environment names is registered for that call only
    with chdir(cwd), _signal_handlers_kept(), registrations_restored():
        result = CliRunner().invoke(
            cli, [str(a) for a in args], env=environ | (env or {}), catch_exceptions=True
        )
    crash = result.exception if not isinstance(result.exception, SystemExit) else None
    return Outcome(result.exit_code, result.stdout, result.stderr, crash)


@contextmanager
def _signal_handlers_kept() -> Iterator[None]:
    """The test process's own handlers back after the call: `submit` makes SIGTERM and
    SIGHUP cancel its run (cli/following.py)."""
    kept = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in kept.items():
            signal.signal(sig, handler)


def run_in_process(
    *args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None
) -> Outcome:
    """`invoke` in the shape of conftest's `run_cli` (run in the repository by default, with
    the data roots conftest allows), re-raising a crash so the test fails on the bug itself.
    Settings huggingface_hub reads once at import (`HF_ENDPOINT`, `HF_HOME`, `HF_HUB_OFFLINE`:
    a Hub test server's `client_env`) are applied to the imported client for the call
    (`patched_client`) and undone after it."""
    from dexter_autotrain.testing.hub_client import patched_client

    roots = {"DEXTER_DATA_ROOTS": os.environ.get("DEXTER_DATA_ROOTS", str(SHARED_DATA))}
    environ = roots | (env or {})
    hub = {name: value for name, value in environ.items() if name.startswith("HF_")}
    with patched_client(hub) if IMPORT_TIME_SETTINGS & set(hub) else nullcontext():
        outcome = invoke(*args, cwd=cwd or REPO, env=environ)
    if outcome.crash is not None:
        raise outcome.crash
    return outcome


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Every path under `root` (without following links) with its size and mtime (files
    only: a folder's mtime changes when anything inside it does), to prove a command wrote
    nothing where it should not."""
    found = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            found[os.path.relpath(os.path.join(folder, name), root)] = (0, 0)
        for name in files:
            path = os.path.join(folder, name)
            info = os.lstat(path)
            found[os.path.relpath(path, root)] = (info.st_size, info.st_mtime_ns)
    return found


def written_outside(
    before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]], allowed: str
) -> list[str]:
    """Paths new or changed between two snapshots, other than under `allowed`."""
    return sorted(
        path
        for path, stamp in after.items()
        if before.get(path) != stamp and path != allowed and not path.startswith(allowed + "/")
    )
