"""Benchmark: `dexter-auto plan --format markdown` on the example jobs, in a clone of this
repository with a realistic pull request (the learning rate and a gate of
jobs/narrative.yaml changed) and with no change at all.

Target (issue 17): at most 1 s wall time (median), with no torch or transformers imported.

    .venv/bin/python bench/bench_plan.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 1.0
DEXTER_AUTO = Path(sys.executable).parent / "dexter-auto"


def git(folder: Path, *arguments: str) -> None:
    subprocess.run(["git", "-C", str(folder), *arguments], check=True, capture_output=True)


def clone_with_change(folder: Path) -> Path:
    """A clone of HEAD on branch `pr`, one commit ahead of `main` (narrative: lr, gate)."""
    clone = folder / "clone"
    git(REPO, "clone", "-q", "--no-hardlinks", str(REPO), str(clone))
    git(clone, "checkout", "-q", "-B", "main")
    git(clone, "checkout", "-q", "-b", "pr")
    spec = clone / "jobs/narrative.yaml"
    text = spec.read_text().replace("learning_rate: 2e-5", "learning_rate: 3e-5")
    spec.write_text(text.replace("      f1_macro: 0.50", "      f1_macro: 0.55"))
    git(clone, "-c", "user.name=bench", "-c", "user.email=b@dexter.test", "commit", "-qam", "pr")
    return clone


def median_seconds(clone: Path, base: str, runs: int) -> float:
    """Median wall seconds of `plan --base BASE --format markdown` in `clone`."""
    shared = str(REPO.parent / "shared" / "data")  # actors.yaml's data, as the Makefile allows
    env = {"DEXTER_DATA": shared, "DEXTER_DATA_ROOTS": shared} | os.environ
    env["HF_HUB_OFFLINE"] = "1"
    walls = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(
            [str(DEXTER_AUTO), "plan", "--base", base, "--format", "markdown"],
            cwd=clone,
            env=env,
            capture_output=True,
        )
        walls.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise SystemExit(f"plan failed: {done.stderr.decode()[-500:]}")
    return statistics.median(walls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        clone = clone_with_change(Path(folder))
        median_seconds(clone, "main", 1)  # warm the file cache
        changed = median_seconds(clone, "main", args.runs)
        unchanged = median_seconds(clone, "pr", args.runs)
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    print(f"plan, narrative's lr and gate changed: {changed:.3f} s median of {args.runs}")
    print(f"plan, nothing changed:                 {unchanged:.3f} s median of {args.runs}")
    worst = max(changed, unchanged)
    verdict = "ok" if worst <= TARGET_SECONDS else "OVER"
    print(f"target <= {TARGET_SECONDS} s: {verdict}")


if __name__ == "__main__":
    main()
