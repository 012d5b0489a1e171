"""Benchmark: `predict` on at least 50,000 unique shared tweets against a transformers
`pipeline(batch_size=32)` loop over the same rows, fp32 against fp32, with MiniLM fine-tuned
for the sentiment labels; then `predict --precision auto` (bfloat16 where this CPU has it,
close calls re-scored in float32) with its label agreement with fp32. Goal (issue 29):
predict >= 2x the pipeline loop.

The model is all-MiniLM-L6-v2 fine-tuned for one epoch on 3,000 tweets through
`dexter-auto submit` (as bench_evaluate does), unless --run names a trained run. Tweets are
every shared sentiment file's texts, de-duplicated (no repeats, so nothing is cached).

    .venv/bin/python bench/bench_predict.py [--run RUN_DIR] [--rows 50000]
"""

from __future__ import annotations

import argparse
import csv
import json
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq
import torch
from bench_evaluate import SENTIMENT, train_run


def unique_tweets(count: int) -> list[str]:
    """Up to `count` distinct tweets from every language's train, dev and test files."""
    seen: dict[str, None] = {}
    for path in sorted(SENTIMENT.glob("*/*.tsv")):
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                if (text := (row.get("text") or "").strip()) and len(seen) < count:
                    seen[text] = None
    return list(seen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path)
    parser.add_argument("--rows", type=int, default=50_000)
    args = parser.parse_args()
    from transformers import pipeline
    from transformers.utils import logging

    from dexter_autotrain import predict

    logging.disable_progress_bar()
    with tempfile.TemporaryDirectory() as folder:
        run = args.run or train_run(Path(folder))
        model = run / json.loads((run / "state.json").read_text())["model_dir"]
        texts = unique_tweets(args.rows)
        corpus = Path(folder) / "tweets.jsonl"
        corpus.write_text(
            "".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(texts))
        )
        seconds, labels = {}, {}
        for precision in ("float32", "auto"):
            out = Path(folder) / f"scored-{precision}"
            start = time.perf_counter()
            predict(str(run), corpus, out, id_columns=["id"], precision=precision)
            seconds[f"predict ({precision})"] = time.perf_counter() - start
            parts = sorted(out.glob("part-*.parquet"))
            labels[precision] = [
                label for p in parts for label in pq.read_table(p)["label"].to_pylist()
            ]
        classifier = pipeline(
            "text-classification", model=str(model), device=-1, truncation=True, max_length=128
        )
        classifier(texts[:64], batch_size=32)
        start = time.perf_counter()
        piped = [answer["label"] for answer in classifier(texts, batch_size=32)]
        seconds["pipeline(batch_size=32), fp32"] = time.perf_counter() - start
    print(
        f"{len(texts):,} unique tweets, CPU ({torch.get_num_threads()} threads), model {model.name}"
    )
    print(f"{'way':34} {'seconds':>8} {'rows/s':>8}")
    for name, took in seconds.items():
        print(f"{name:34} {took:>8.1f} {len(texts) / took:>8.0f}")
    ratio = seconds["pipeline(batch_size=32), fp32"] / seconds["predict (float32)"]
    print(
        f"predict fp32 vs pipeline fp32: {ratio:.2f}x "
        f"(goal >= 2x: {'PASS' if ratio >= 2 else 'FAIL'})"
    )
    same = sum(a == b for a, b in zip(labels["auto"], labels["float32"], strict=True))
    print(f"bf16 (auto) labels equal to fp32's: {same}/{len(texts)} ({same / len(texts):.2%})")
    agree = sum(a == b for a, b in zip(labels["float32"], piped, strict=True))
    print(f"predict fp32 labels equal to pipeline's: {agree}/{len(texts)}")


if __name__ == "__main__":
    main()
