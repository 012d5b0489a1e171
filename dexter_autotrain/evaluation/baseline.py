"""A cheap baseline beside the model, trained on the same train split, scored on the same
test examples: TF-IDF + logistic regression for text, the most frequent tag of each word for
NER, logistic regression on thumbnails and colour histograms for images (`image_baseline`).
A linear family model is itself TF-IDF and logistic regression, so its baseline is of a
simpler family still: word unigrams alone, at the default regularisation; the majority class
of the train split is reported beside it (`majority_baseline`), the floor any model must clear.

A baseline depends only on the train split and the seed, so it is fitted once per run (the
train stage fits it while AutoTrain trains) and kept in the run directory; evaluations load it.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Protocol

from dexter_autotrain.system.files import write_atomically
from dexter_autotrain.tasks import TASKS, get_task

MAX_FEATURES = 20_000
MIN_DF_ROWS = 1_000
CACHE_VERSION = 3
UNIGRAMS_NAME = "word unigrams (TF-IDF + logistic regression)"
MAJORITY_NAME = "majority class"


def baseline_name(task: str, family: str) -> str:
    """What the baseline of a `family` model for `task` is, for people."""
    if family == "linear" and not get_task(task).per_token:
        return UNIGRAMS_NAME
    return TASKS[task].baseline_name


class Baseline(Protocol):
    def predict(self, inputs: list[Any]) -> list[Any]: ...


class WordTags:
    """The most frequent training tag of each (lower-cased) word; unknown words get O."""

    def __init__(self, sentences: list[list[str]], tags: list[list[str]]):
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        for words, word_tags in zip(sentences, tags, strict=True):
            for word, tag in zip(words, word_tags, strict=True):
                counts[word.lower()][tag] += 1
        self.best = {word: tally.most_common(1)[0][0] for word, tally in counts.items()}

    def predict(self, sentences: list[list[str]]) -> list[list[str]]:
        return [[self.best.get(word.lower(), "O") for word in words] for words in sentences]


class Majority:
    def __init__(self, labels: list[str]):
        self.label = Counter(labels).most_common(1)[0][0]

    def predict(self, inputs: list[Any]) -> list[str]:
        return [self.label] * len(inputs)


def fit_baseline(
    task: str, inputs: list[Any], labels: list[Any], seed: int, family: str = "autotrain"
) -> Baseline:
    kind = get_task(task)
    if kind.per_token:
        return WordTags(inputs, labels)
    if len(set(labels)) < 2:
        return Majority(labels)
    if kind.reads_images:
        from dexter_autotrain.evaluation.image_baseline import fit_image_baseline

        return fit_image_baseline(inputs, labels, seed)
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    # A capped vocabulary keeps the baseline quick on long articles, and regularises it
    # (it scores better on MasakhaNEWS than an unbounded one).
    vectorizer = TfidfVectorizer(
        ngram_range=(1, 1) if family == "linear" else (1, 2),
        sublinear_tf=True,
        max_features=MAX_FEATURES,
        min_df=2 if len(inputs) >= MIN_DF_ROWS else 1,
    )
    model = make_pipeline(vectorizer, LogisticRegression(max_iter=1000, random_state=seed))
    return model.fit(inputs, labels)


def run_baseline(run_path: Path, task: str, seed: int, family: str = "autotrain") -> Baseline:
    """The run's baseline, fitted on its train split the first time and kept beside it
    (`baseline/`), keyed by the split's sha256, the seed and the scikit-learn version."""
    from sklearn import __version__ as sklearn_version

    from dexter_autotrain.evaluation.examples import load_prepared

    train_file = run_path / "data" / "train.jsonl"
    key = {
        "version": CACHE_VERSION,
        "task": task,
        "seed": seed,
        "family": family,
        "scikit_learn": sklearn_version,
        "train_sha256": hashlib.sha256(train_file.read_bytes()).hexdigest(),
    }
    folder = run_path / "baseline"
    if _read_json(folder / "key.json") == key:
        # our own file, written below for this run
        return pickle.loads((folder / "baseline.pkl").read_bytes())
    train = load_prepared(run_path / "data", "train", task)
    baseline = fit_baseline(task, train.inputs, train.labels, seed, family)
    folder.mkdir(exist_ok=True)
    write_atomically(folder / "baseline.pkl", pickle.dumps(baseline))
    write_atomically(folder / "key.json", json.dumps(key, indent=2) + "\n")
    return baseline


def majority_baseline(run_path: Path, task: str, family: str) -> Majority | None:
    """The train split's most frequent label, for a linear text classifier (None otherwise:
    a transformer's TF-IDF baseline already clears it, and NER has no single label)."""
    from dexter_autotrain.evaluation.examples import load_prepared

    kind = get_task(task)
    if family != "linear" or kind.per_token or kind.reads_images:
        return None
    return Majority(load_prepared(run_path / "data", "train", task).labels)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
