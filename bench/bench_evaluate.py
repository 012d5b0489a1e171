"""Benchmark: scoring 5,000 AfriSenti tweets on CPU with one trained model, three ways.

1. the evaluate stage's predictor (length-sorted batches under torch.inference_mode), and
   the whole stage in-process (predictions plus metrics, 1,000-sample bootstrap, baseline,
   counterfactual probe, speed measurement, report and plots);
2. a transformers `pipeline()` called one text at a time;
3. `pipeline(texts, batch_size=32)`.
Targets (issue 5): the stage >= 5x faster than (2) and >= 1.5x faster than (3).

The model is trained first through `dexter-auto submit --smoke` on the shared sentiment
data (a tiny BERT), unless --run names an existing run.

    .venv/bin/python bench/bench_evaluate.py [--run RUN_DIR] [--examples 5000]
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parent.parent
SENTIMENT = REPO.parent / "shared" / "data" / "sentiment"
DEXTER = str(Path(sys.executable).parent / "dexter-auto")


def train_run(folder: Path) -> Path:
    spec = folder / "sentiment.yaml"
    spec.write_text(
        "task: text-classification\nbase_model: {path: none}\n"
        "languages: [hau, ibo, pcm, yor]\n"
        f"data:\n  sources:\n    - path: {SENTIMENT}/{{language}}\n"
        "      format: tsv\n"
    )
    done = subprocess.run(
        [DEXTER, "submit", "--smoke", str(spec), "--runs-dir", str(folder / "runs"), "--json"],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    return Path(json.loads(done.stdout)["run"])


def tweets(count: int) -> list[tuple[str, str]]:
    rows = []
    for language in ("hau", "ibo", "pcm"):
        with (SENTIMENT / language / "test.tsv").open(encoding="utf-8", newline="") as handle:
            rows += [(r["text"], r["label"]) for r in csv.DictReader(handle, delimiter="\t")]
    return rows[:count]


def timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path)
    parser.add_argument("--examples", type=int, default=5000)
    args = parser.parse_args()
    from transformers import pipeline
    from transformers.utils import logging

    from dexter_autotrain.evaluation.evaluate import evaluate_model, load_prepared, read_labeled
    from dexter_autotrain.evaluation.predict import Predictor
    from dexter_autotrain.runs import Run

    logging.disable_progress_bar()
    with tempfile.TemporaryDirectory() as folder:
        run = args.run or train_run(Path(folder))
        state = json.loads((run / "state.json").read_text())
        model = run / state["model_dir"]
        rows = tweets(args.examples)
        texts = [text for text, _ in rows]
        data = Path(folder) / "tweets.tsv"
        with data.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, delimiter="\t")
            writer.writerow(["text", "label"])
            writer.writerows(rows)
        predictor = Predictor(model, "text-classification", max_length=128)
        classifier = pipeline(
            "text-classification", model=str(model), device=-1, truncation=True, max_length=128
        )
        predictor.predict(texts[:64])
        classifier(texts[:64], batch_size=32)
        ours = timed(lambda: predictor.predict(texts))
        spec = Run(run).spec()
        labeled = read_labeled(data, spec, "mix")
        train = load_prepared(run / "data", "train", spec.task)
        stage = timed(
            lambda: evaluate_model(
                spec,
                model,
                labeled,
                train,
                Path(folder) / "eval",
                {"job": spec.name, "run_id": run.name, "split": "bench"},
            )
        )
        one_by_one = timed(lambda: [classifier(text) for text in texts])
        batched = timed(lambda: classifier(texts, batch_size=32))
    trained = f"run {run.name}" if args.run else "a tiny BERT trained by submit --smoke"
    print(
        f"{len(texts)} tweets, CPU ({torch.get_num_threads()} threads), model {model.name} "
        f"({trained})"
    )
    print(f"{'way':58} {'seconds':>8} {'tweets/s':>9}")
    for name, seconds in (
        ("evaluate stage: predictor (sorted batches of 32)", ours),
        ("evaluate stage: whole stage, in-process", stage),
        ("pipeline(), one text at a time", one_by_one),
        ("pipeline(texts, batch_size=32)", batched),
    ):
        print(f"{name:58} {seconds:>8.2f} {len(texts) / seconds:>9.0f}")
    print(
        f"predictor vs one-at-a-time: {one_by_one / ours:.1f}x (target >= 5x); "
        f"vs batch 32: {batched / ours:.1f}x (target >= 1.5x)"
    )
    print(
        f"whole stage vs one-at-a-time: {one_by_one / stage:.1f}x; "
        f"vs batch 32: {batched / stage:.1f}x"
    )


if __name__ == "__main__":
    main()
