"""Runner environments for the suite, laid over the real AutoTrain runner.

- The **counting runner** is the one every test uses (conftest points `DEXTER_RUNNER_DIR` at
  it): its `bin/` holds the real runner's programs, with `python` and `accelerate` wrapped so
  that each training they start appends a line to a ledger before it `exec`s the real program
  (same pid, same process group). The suite prints the count and fails above its budget.
- A **stand-in job image** does the same for the Hub test server's HF Jobs: its `python`
  puts `standin_site/` on PYTHONPATH, whose `sitecustomize` turns the job's `scripts/train.py`
  (run with the interpreter itself, past any shim) into the stand-in.
- A **stand-in Space image** stands in for AutoTrain's: its `autotrain` is the stand-in app
  (`standin_space.py`), which prints AutoTrain's lines, pushes a given model, opens AutoTrain's
  discussion and pauses its Space.
- A **stand-in runner** trains nothing: its `python` runs `standin_train.py` in place of the
  toolkit's training script, which prints AutoTrain's progress lines, starts a grandchild that
  ignores SIGTERM and runs until it is stopped. Signal, cancel and timeout tests that are not
  about training itself use it; the process-group handling is still what they test.

A training is counted where it starts (`COUNTED`): the toolkit's `train.py` (local runs), an
HF Job's command (which runs train.py with the interpreter itself) and AutoTrain's trainer
modules (`accelerate launch ... -m autotrain.trainers.*`, as in an AutoTrain Space).
"""

from __future__ import annotations

import shlex
from pathlib import Path

from dexter_autotrain.training.runner_env import MARKER_FILE, RunnerEnv

WRAPPED = ("python", "python3", "python3.11", "accelerate")
STANDIN_SCRIPT = Path(__file__).with_name("standin_train.py")
STANDIN_SITE = Path(__file__).with_name("standin_site")
STANDIN_SPACE = Path(__file__).with_name("standin_space.py")
COUNTED = "*/train.py|train.py|*hf_job.py*|autotrain.trainers.*"
"""Arguments that mark a training's start: the toolkit's training script; an HF Job's command,
whose bootstrap (`python -c ...`) hands over to hf_job.py with the interpreter itself; and
AutoTrain's trainer modules (`-m autotrain.trainers.X`)."""


def _wrapper(real: Path, ledger: Path, standin: bool) -> str:
    """A POSIX shell script: count a training start, then exec the real program; a stand-in
    runner's python runs the stand-in in place of the training script, uncounted."""
    replace = (
        f'    case "$1" in */train.py|train.py) shift; '
        f'exec {shlex.quote(str(real))} {shlex.quote(str(STANDIN_SCRIPT))} "$@";; esac\n'
        if standin
        else ""
    )
    return (
        "#!/bin/sh\n"
        'for arg in "$@"; do\n'
        f'  case "$arg" in {COUNTED})\n'
        f"{replace}"
        f'    printf "%s\\t%.60s\\t%s\\n" $$ "$(echo "$arg" | tr "\\t\\n" "  ")" '
        f'"$PYTEST_CURRENT_TEST" >> {shlex.quote(str(ledger))}\n'
        "    break;;\n"
        "  esac\n"
        "done\n"
        f'exec {shlex.quote(str(real))} "$@"\n'
    )


def build_runner(real: RunnerEnv, root: Path, ledger: Path, standin: bool = False) -> RunnerEnv:
    """A runner at `root` whose programs are `real`'s, wrapped to count (and, with `standin`,
    to stand in for) trainings. Its libraries and install marker are `real`'s own.

    Example:
        >>> runner = build_runner(default_runner(), tmp_path / "runner", tmp_path / "ledger")
    """
    (root / "bin").mkdir(parents=True, exist_ok=True)
    for entry in ("lib", "pyvenv.cfg", MARKER_FILE):
        link = root / entry
        if not link.exists():
            link.symlink_to(real.root / entry)
    for program in real.bin.iterdir():
        shim = root / "bin" / program.name
        if shim.exists() or shim.is_symlink():
            continue
        if program.name in WRAPPED:
            shim.write_text(_wrapper(program, ledger, standin and program.name != "accelerate"))
            shim.chmod(0o755)
        else:
            shim.symlink_to(program)
    return RunnerEnv(root)


def build_standin_job_image(real: RunnerEnv, folder: Path, environ: dict[str, str]) -> Path:
    """A bin folder standing in for an HF Job's image (the Hub test server's `job_images`)
    whose training is the stand-in, with `environ` (`STANDIN_*`) set for it; uncounted.

    Example:
        >>> hub.context.config.job_images[DEFAULT_IMAGE] = build_standin_job_image(...)
    """
    site = shlex.quote(str(STANDIN_SITE))
    run = f'export PYTHONPATH={site}\nexec {shlex.quote(str(real.python))} "$@"\n'
    return _image(folder, ("python", "python3"), environ, run)


def build_standin_space_image(real: RunnerEnv, folder: Path, environ: dict[str, str]) -> Path:
    """A bin folder standing in for AutoTrain's Space image (`huggingface/autotrain-advanced`)
    whose `autotrain` is the stand-in app (standin_space.py), with `environ` set; uncounted.

    Example:
        >>> hub.context.config.job_images[AUTOTRAIN_IMAGE] = build_standin_space_image(...)
    """
    script = shlex.quote(str(STANDIN_SPACE))
    return _image(
        folder, ("autotrain",), environ, f"exec {shlex.quote(str(real.python))} {script}\n"
    )


def _image(folder: Path, programs: tuple[str, ...], environ: dict[str, str], run: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    exports = "".join(f"export {key}={shlex.quote(value)}\n" for key, value in environ.items())
    for name in programs:
        (folder / name).write_text(f"#!/bin/sh\n{exports}{run}")
        (folder / name).chmod(0o755)
    return folder


def trainings_started(ledger: Path) -> list[str]:
    """The ledger's lines: one per training started (`PID<tab>ARG<tab>TEST`, ARG cut at 60
    characters, TEST pytest's current test and phase when the training's environment had it:
    a Hub test server's job or Space starts from a clean environment and names none)."""
    return ledger.read_text().splitlines() if ledger.is_file() else []
