"""Benchmark: `dexter-auto validate jobs/*.yaml` against `autotrain --help`, same run.

Target (issue 2): validate's median wall time <= 0.3 s on a 2-core machine. AutoTrain's own
CLI, which imports torch before doing anything, is timed beside it as the baseline.

    .venv/bin/python bench/bench_validate.py [--runs 15]
"""

from __future__ import annotations

import argparse
import glob
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from dexter_autotrain.training.runner_env import default_runner

REPO = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 0.3


def measure(
    command: list[str], runs: int, env: dict[str, str] | None = None
) -> tuple[float, float]:
    """Median wall seconds and the largest peak RSS (MiB) of `command` over `runs` runs."""
    walls, peaks = [], []
    for _ in range(runs):
        start = time.perf_counter()
        process = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        _, status, usage = os.wait4(process.pid, 0)
        walls.append(time.perf_counter() - start)
        peaks.append(usage.ru_maxrss / 1024)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{' '.join(command)} failed")
    return statistics.median(walls), max(peaks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    specs = sorted(glob.glob(str(REPO / "jobs" / "*.yaml")))
    dexter = str(Path(sys.executable).parent / "dexter-auto")
    measure([dexter, "validate", *specs], 1)  # warm the file cache
    ours, ours_rss = measure([dexter, "validate", *specs], args.runs)
    runner = default_runner()
    if not runner.is_installed():
        raise SystemExit("the AutoTrain runner is missing: run `dexter-auto runner install`")
    baseline_runs = max(3, args.runs // 5)
    theirs, theirs_rss = measure(
        [str(runner.bin / "autotrain"), "--help"], baseline_runs, env=runner.environ()
    )
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(f"{'command':48} {'runs':>4} {'median s':>9} {'peak MiB':>9}")
    print(
        f"{'dexter-auto validate jobs/*.yaml (' + str(len(specs)) + ' specs)':48} "
        f"{args.runs:>4} {ours:>9.3f} {ours_rss:>9.0f}"
    )
    print(
        f"{'autotrain --help (baseline)':48} {baseline_runs:>4} {theirs:>9.3f} {theirs_rss:>9.0f}"
    )
    verdict = "PASS" if ours <= TARGET_SECONDS else "FAIL"
    print(
        f"validate is {theirs / ours:.1f}x faster than autotrain --help; "
        f"target <= {TARGET_SECONDS} s: {verdict}"
    )


if __name__ == "__main__":
    main()
