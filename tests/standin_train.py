"""A stand-in for the toolkit's training script (runner_scripts/train.py), run by a stand-in
runner's python (tests/runner_shims.py) for tests about stopping a training, not about what it
trains: it behaves as AutoTrain does where signals and process groups are concerned.

- It prints AutoTrain's start lines and tqdm progress lines (`N/M [..<.., X it/s]`, the
  `Logging steps` line, loss dictionaries), flushed, as the real trainer writes them.
- It starts a grandchild that ignores SIGTERM (as accelerate's workers may), so only a
  SIGKILL to the whole process group ends everything.
- Like AutoTrain it writes into its output folder (`project_name` in the config, relative to
  the run directory) as it trains, so it fails once the run directory is gone.
- It runs for `STANDIN_STEPS` steps of `STANDIN_STEP_S` seconds (environment; by default
  long enough to be stopped). At the end it copies `STANDIN_MODEL` (a model folder trained
  for the same job, such as a shared run's) where AutoTrain writes its model and prints
  AutoTrain's last line; without it, it writes nothing, and the run is judged failed from
  its files, as an AutoTrain run that wrote nothing is.

    python standin_train.py autotrain.yml training-options.json
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

GRANDCHILD = "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\ntime.sleep(600)\n"


def main() -> int:
    steps = int(os.environ.get("STANDIN_STEPS", "600"))
    step_s = float(os.environ.get("STANDIN_STEP_S", "0.5"))
    config = Path(sys.argv[1]).read_text(encoding="utf-8")
    output = Path(re.search(r"^project_name: *(\S+)", config, re.MULTILINE)[1].strip("'\""))
    print("INFO     | standin | autotrain.parser - Running task: stand-in", flush=True)
    worker = subprocess.Popen([sys.executable, "-c", GRANDCHILD])  # same process group
    print(f"dexter runner: stand-in training, worker pid {worker.pid}", flush=True)
    # each step writes into the output folder, relative to the run directory, as AutoTrain does
    train(steps, step_s, lambda: output.mkdir(exist_ok=True))
    worker.kill()
    model = os.environ.get("STANDIN_MODEL")
    if model:
        shutil.copytree(model, output, dirs_exist_ok=True)
        print("INFO     | standin | autotrain.trainers.common - Finished training, saving model...")
    return 0


def train(steps: int, step_s: float, each_step: Callable[[], None] = lambda: None) -> None:
    """AutoTrain's training lines: `Logging steps`, then a tqdm line and a loss dictionary
    every `step_s` seconds for `steps` steps."""
    print("INFO     | standin | autotrain.trainers.common - Logging steps: 1", flush=True)
    print("INFO     | standin | autotrain.trainers.common:on_train_begin - Starting to train...")
    for step in range(1, steps + 1):
        time.sleep(step_s)
        each_step()
        left = time.strftime("%M:%S", time.gmtime((steps - step) * step_s))
        sys.stdout.write(
            f"\r{100 * step // steps:3d}%|##| {step}/{steps} [00:01<{left},  2.00it/s]"
        )
        sys.stdout.write(f"\r{{'loss': {1.1 - step / (10 * steps):.4f}, 'epoch': {step}}}\n")
        sys.stdout.flush()


if __name__ == "__main__":
    sys.exit(main())
