"""Training as fast and as well as a hand-written Trainer: every CPU thread, lengths chosen
from the data, the best checkpoint by the primary metric, one NER labelling scheme."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import DEXTER_AUTO, REPO, SHARED_DATA

from dexter_autotrain.data.token_lengths import measure_token_lengths
from dexter_autotrain.training.runner_env import default_runner

needs_shared = pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="../shared/data is absent")
RUNNER_SCRIPTS = REPO / "dexter_autotrain" / "runner_scripts"


def _thread_cpu_seconds(pid: int) -> dict[int, float]:
    """CPU seconds (user + system) of each thread of a live process, from /proc."""
    seconds = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        seconds[int(task.name)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return seconds


def _training_process(group: int) -> int | None:
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if os.getpgid(int(proc.name)) != group:
                continue
            command = (proc / "cmdline").read_bytes().decode(errors="replace")
            if "runner_scripts/train.py" in command and "watchdog.py" not in command:
                return int(proc.name)
        except (OSError, ProcessLookupError):
            continue
    return None


def _watch_threads(runs: Path, process: subprocess.Popen) -> dict[int, float]:
    """Sample the training process's threads until it ends; their CPU seconds at the end."""
    seen: dict[int, float] = {}
    while process.poll() is None:
        states = list(runs.glob("*/*/state.json"))
        handle = json.loads(states[0].read_text()).get("training_handle") if states else None
        group = int(handle["id"]) if handle else None
        pid = _training_process(group) if group else None
        if pid:
            with contextlib.suppress(OSError):  # it may end between two reads
                seen |= _thread_cpu_seconds(pid)
        time.sleep(0.1)
    return seen


@pytest.fixture(scope="module")
def sentiment_run(tmp_path_factory) -> tuple[Path, dict[int, float]]:
    """A smoke run on AfriSenti (hau, pcm) whose primary metric is accuracy, with the CPU
    seconds each thread of its training process used."""
    folder = tmp_path_factory.mktemp("training")
    (folder / "job.yaml").write_text(
        "task: text-classification\nbase_model: {path: nowhere}\nlanguages: [hau, pcm]\n"
        f"data:\n  sources:\n    - path: {SHARED_DATA}/sentiment/{{language}}\n"
        "      format: tsv\nevaluation: {primary_metric: accuracy, bootstrap_samples: 50}\n"
    )
    process = subprocess.Popen(
        [str(DEXTER_AUTO), "submit", "--smoke", "job.yaml", "--runs-dir", "runs", "--json"],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    threads = _watch_threads(folder / "runs", process)
    out, err = process.communicate()
    assert process.returncode == 0, err[-3000:]
    return Path(json.loads(out)["run"]), threads


@needs_shared
@pytest.mark.training
def test_the_trainer_uses_every_cpu(sentiment_run):
    run, threads = sentiment_run
    cpus = len(os.sched_getaffinity(0))
    log = (run / "logs" / "training.log").read_text()
    line = next(line for line in log.splitlines() if line.startswith("dexter runner:"))
    assert line.startswith(f"dexter runner: {cpus} torch threads on {cpus} CPUs")
    busy = [seconds for seconds in threads.values() if seconds >= 0.05]
    assert len(busy) >= min(cpus, 2), threads  # read from the process: threads that computed


@needs_shared
@pytest.mark.training
def test_the_best_checkpoint_follows_the_primary_metric(sentiment_run):
    run, _ = sentiment_run
    options = json.loads((run / "training-options.json").read_text())
    assert options["best_metric"] == "accuracy"
    state = json.loads((run / "job" / "trainer_state.json").read_text())
    evals = [entry for entry in state["log_history"] if "eval_accuracy" in entry]
    assert len(evals) >= 3  # one per epoch (and the best one reloaded at the end)
    assert state["best_metric"] == max(entry["eval_accuracy"] for entry in evals)
    card = (run / "README.md").read_text()
    assert "The checkpoint kept is the one with the best validation accuracy;" in card


@needs_shared
@pytest.mark.training
def test_max_seq_length_auto_is_chosen_from_the_data(sentiment_run):
    run, _ = sentiment_run
    lengths = json.loads((run / "data-report.json").read_text())["token_lengths"]
    state = json.loads((run / "state.json").read_text())
    assert state["resolved"] == {"max_seq_length": lengths["chosen"]}
    assert "max_seq_length: " + str(lengths["chosen"]) in (run / "autotrain.yml").read_text()
    assert f"| max_seq_length | {lengths['chosen']} (auto:" in (run / "README.md").read_text()


def _tiny_tokenizer(folder: Path, max_positions: int) -> Path:
    """A word-level BERT tokenizer (one token per word, plus [CLS] and [SEP])."""
    from transformers import BertConfig, BertTokenizerFast

    words = [f"w{i}" for i in range(200)]
    (folder / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", *words]))
    BertTokenizerFast(str(folder / "vocab.txt")).save_pretrained(folder)
    BertConfig(max_position_embeddings=max_positions).save_pretrained(folder)
    return folder


@pytest.mark.parametrize(
    ("max_positions", "cap", "expected"),
    [(512, None, 104), (64, None, 64), (512, 48, 48)],
    ids=["percentile", "model-maximum", "caller-cap"],
)
def test_token_lengths_choose_the_99th_percentile(tmp_path, max_positions, cap, expected):
    model = _tiny_tokenizer(tmp_path, max_positions)
    rows = [" ".join(f"w{i % 200}" for i in range(n)) for n in range(1, 101)]  # 1..100 words
    train = tmp_path / "train.jsonl"
    train.write_text("".join(json.dumps({"text": text, "label": "a"}) + "\n" for text in rows))
    lengths = measure_token_lengths(model, "text-classification", train, cap=cap)
    # 100 examples of 3..102 tokens: the 99th percentile (the higher neighbour) is 102,
    # rounded up to 104
    assert (lengths.examples, lengths.p50, lengths.p99, lengths.longest) == (100, 53, 102, 102)
    assert lengths.chosen == expected
    assert lengths.truncated == sum(n + 2 > expected for n in range(1, 101))


def _transformers_counts(folder: Path, inputs: list, split_words: bool) -> list[int]:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    return [len(ids) for ids in tokenizer(inputs, is_split_into_words=split_words)["input_ids"]]


@needs_shared
@pytest.mark.parametrize("recipe", ["sentiment", "ner"])
def test_token_lengths_count_as_transformers_tokenizers_do(trained, recipe, tmp_path):
    """`auto` reads the model's tokenizer.json with `tokenizers` (no transformers, no torch
    before training): the counts are transformers' own, on text and on pre-split words (the
    suite's tiny models: WordPiece trained on the data); a folder without tokenizer.json is
    measured by transformers, to the same result."""
    from dexter_autotrain.data.token_lengths import _token_counts

    run = trained.get(recipe).run
    rows = [json.loads(line) for line in (run / "data/train.jsonl").read_text().splitlines()]
    split_words = recipe == "ner"
    inputs = [row["tokens" if split_words else "text"] for row in rows]
    counts, _ = _token_counts(run / "base-model", inputs, split_words)
    assert counts == _transformers_counts(run / "base-model", inputs, split_words)
    slow = tmp_path / "slow"
    shutil.copytree(run / "base-model", slow, ignore=shutil.ignore_patterns("tokenizer.json"))
    train = run / "data/train.jsonl"
    task = "token-classification" if split_words else "text-classification"
    measured = measure_token_lengths(run / "base-model", task, train)
    assert measure_token_lengths(slow, task, train) == measured
    assert measured.model_max == 512 and measured.examples == len(rows)


@needs_shared
def test_ner_training_and_evaluation_read_the_same_subtokens(trained):
    """On the suite's MasakhaNER Hausa smoke run."""
    run = trained.get("ner").run
    length = json.loads((run / "state.json").read_text())["resolved"]["max_seq_length"]
    runner = default_runner()
    done = subprocess.run(
        [str(runner.python), str(REPO / "tests/runner_scripts/ner_training_scheme.py"),
         str(RUNNER_SCRIPTS), str(run / "ner"), str(run / "data/test.jsonl"), str(length)],
        capture_output=True, text=True, env=runner.environ(), timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    training_side = json.loads(done.stdout.splitlines()[-1])
    from transformers import AutoTokenizer

    from dexter_autotrain.runner_scripts.subwords import first_subtokens

    tokenizer = AutoTokenizer.from_pretrained(str(run / "ner"))
    rows = [json.loads(line) for line in (run / "data/test.jsonl").read_text().splitlines()]
    encoded = tokenizer(
        [row["tokens"] for row in rows], is_split_into_words=True, truncation=True,
        max_length=length,
    )  # fmt: skip
    evaluation_side = [
        list(first_subtokens(encoded.word_ids(i)).values()) for i in range(len(rows))
    ]
    assert training_side["positions"] == evaluation_side
    reported = json.loads((run / "evaluation.json").read_text())["overall"]["metrics"]["f1"]
    assert training_side["f1"] == pytest.approx(reported, abs=1e-12)


def test_runner_scripts_need_nothing_from_the_toolkit():
    """train.py runs with the runner's python: it may import only its siblings `subwords` and
    `new_head`."""
    for name in ("train.py", "new_head.py"):
        source = (RUNNER_SCRIPTS / name).read_text()
        assert "dexter_autotrain" not in source.split('"""', 2)[2]


def _new_heads(python: Path, base: Path, seeds: list[int], env: dict[str, str] | None = None):
    done = subprocess.run(
        [str(python), str(REPO / "tests/runner_scripts/new_head_drawn.py"), str(RUNNER_SCRIPTS),
         str(base), *map(str, seeds)],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    for seed in seeds:
        assert f"dexter runner: new head classifier drawn from seed {seed}" in done.stdout
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def test_the_new_head_is_the_seeds_under_either_transformers(tmp_path):
    """Issue 25: transformers 4.48 (the runner) and 5.x (the toolkit) draw different heads under
    one global seed, which alone moved `submit` several points from a notebook. The training
    script draws the head from the job's seed alone: the same head in both environments, another
    for another seed, normal with the config's initializer range and a zero bias, and the
    checkpoint's own weights untouched."""
    from transformers import BertConfig, BertModel

    runner = default_runner()
    if not runner.is_installed():
        pytest.skip("the AutoTrain runner is not installed")
    config = BertConfig(
        vocab_size=64, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
        intermediate_size=37, initializer_range=0.05,
    )  # fmt: skip
    BertModel(config).save_pretrained(tmp_path / "base")  # a base model: no head
    sys_python = Path(sys.executable)
    [in_runner] = _new_heads(runner.python, tmp_path / "base", [42], runner.environ())
    here, other_seed = _new_heads(sys_python, tmp_path / "base", [42, 43])
    assert in_runner["transformers"].startswith("4.") and here["transformers"].startswith("5.")
    assert (in_runner["head"], in_runner["rest"]) == (here["head"], here["rest"])
    assert other_seed["head"] != here["head"] and other_seed["rest"] == here["rest"]
    assert here["head_std"] == pytest.approx(0.05, rel=0.2) and here["bias_zero"]
