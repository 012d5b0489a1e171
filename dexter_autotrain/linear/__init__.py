"""The linear family (`model: {family: linear}`): fast CPU models beside AutoTrain's.

Text classification: TF-IDF on word and character n-grams with a logistic regression
(`text`); NER: a CRF over named token features (`crf`). Both are tuned on the validation
split over a small grid recorded in the model's config.json (`folder`), stored in formats
that run no code when loaded, and shipped with `handler.py`, which loads and queries them
without this toolkit (and is the custom handler Inference Endpoints run).
"""

from __future__ import annotations

import shutil
from importlib.metadata import version
from pathlib import Path
from typing import Any

from dexter_autotrain.linear.folder import (
    FEATURES_FILE,
    HANDLER_FILE,
    LINEAR_FILES,
    LINEAR_WEIGHTS,
    REQUIREMENTS_FILE,
    LinearConfig,
    read_linear_config,
)
from dexter_autotrain.tasks import get_task

__all__ = ["LINEAR_FILES", "LINEAR_WEIGHTS", "LinearConfig", "fit_linear", "read_linear_config"]

_PACKAGES = {"crf": ("python-crfsuite",), "tfidf-logistic-regression": ("scikit-learn", "skops")}


def _macro_f1(gold: list[Any], predicted: list[Any]) -> float:
    from sklearn.metrics import f1_score

    return float(f1_score(gold, predicted, average="macro", zero_division=0))


def _entity_f1(gold: list[list[str]], predicted: list[list[str]]) -> float:
    from seqeval.metrics import f1_score
    from seqeval.scheme import IOB2

    return float(f1_score(gold, predicted, mode="strict", scheme=IOB2, zero_division=0))


def fit_linear(
    task: str,
    train: tuple[list[Any], list[Any]],
    validation: tuple[list[Any], list[Any]],
    seed: int,
    folder: Path,
) -> LinearConfig:
    """Tune and fit the task's linear model, and write its folder.

    Args:
        task: a text classification or NER task (the task table's `per_token` picks which).
        train: inputs (texts, or sentences as word lists) and labels (or tag lists).
        validation: the same, to choose the setting on.
        seed: the classifier's seed (a CRF's training is deterministic).
        folder: the model folder to write (created).

    Returns:
        The model's description, also written as `folder/config.json`.

    Example:
        ```python
        >>> config = fit_linear(spec.task, (texts, labels), (vtexts, vlabels), 42, folder)
        >>> config.chosen
        {'char_ngrams': [2, 5], 'C': 3.0, 'class_weight': 'balanced'}
        ```
    """
    folder.mkdir(parents=True, exist_ok=True)
    here = Path(__file__).parent
    shutil.copyfile(here / "handler.py", folder / HANDLER_FILE)
    if get_task(task).per_token:
        from dexter_autotrain.linear import crf
        from dexter_autotrain.linear.crf_features import FEATURE_SET

        trials = crf.fit_crf(train, validation, folder, _entity_f1)
        shutil.copyfile(here / FEATURES_FILE, folder / FEATURES_FILE)
        labels, kind, feature_set, metric = (
            crf.labels(folder / "model.crfsuite"),
            "crf",
            FEATURE_SET,
            "f1",
        )
    else:
        from dexter_autotrain.linear import text

        pipeline, trials = text.fit_text(train, validation, seed, _macro_f1)
        text.save_text(pipeline, folder / "model.skops")
        labels = [str(label) for label in pipeline.classes_]
        kind, feature_set, metric = "tfidf-logistic-regression", None, "f1_macro"
    chosen = max(trials, key=lambda trial: trial.score).params
    versions = {name: version(name) for name in _PACKAGES[kind]}
    requirements = "".join(f"{name}=={number}\n" for name, number in versions.items())
    (folder / REQUIREMENTS_FILE).write_text(requirements, encoding="utf-8")
    config = LinearConfig(task, kind, labels, metric, chosen, trials, feature_set, versions)
    config.write(folder)
    return config
