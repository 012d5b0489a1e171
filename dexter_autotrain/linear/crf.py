"""NER in the linear family: a linear-chain CRF (python-crfsuite) over the named token
features of `crf_features`, its regularisation tuned on the validation split.

A CRF scores a whole tag sequence, so it learns that I-PER follows B-PER or I-PER; with
affixes, shapes and neighbours it needs no pretrained vectors and trains in a minute on a
few thousand sentences. Each setting is trained into the model folder (side by side on a
large split: `grid`); the winner stays as `model.crfsuite`, crfsuite's own file format.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from dexter_autotrain.linear.crf_features import sentence_features
from dexter_autotrain.linear.folder import CRF_MODEL, Trial
from dexter_autotrain.linear.grid import fit_settings

GRID = (
    {"c1": 0.1, "c2": 0.01},
    {"c1": 0.05, "c2": 0.1},
    {"c1": 0.0, "c2": 1.0},
)
"""L1 and L2 penalties tried (L1 also prunes features: a smaller model)."""
MAX_ITERATIONS = 100

Score = Callable[[list[list[str]], list[list[str]]], float]


def _train(sentences: list[list[str]], tags: list[list[str]], params: dict, path: Path) -> None:
    import pycrfsuite

    trainer = pycrfsuite.Trainer(verbose=False)
    for words, word_tags in zip(sentences, tags, strict=True):
        trainer.append(sentence_features(words), word_tags)
    trainer.set_params(
        {**params, "max_iterations": MAX_ITERATIONS, "feature.possible_transitions": True}
    )
    trainer.train(str(path))


def tag(path: Path, sentences: list[list[str]]) -> tuple[list[list[str]], list[Any]]:
    """Each sentence's tags and, per word, the log of each label's marginal probability
    (a row per word, in `labels(path)` order)."""
    import numpy as np
    import pycrfsuite

    tagger = pycrfsuite.Tagger()
    tagger.open(str(path))
    try:
        names = tagger.labels()
        tags, rows = [], []
        for words in sentences:
            if not words:
                tags.append([])
                rows.append(np.zeros((0, len(names))))
                continue
            tagger.set(sentence_features(words))
            tags.append(tagger.tag())
            marginals = [[tagger.marginal(name, i) for name in names] for i in range(len(words))]
            rows.append(np.log(np.clip(np.asarray(marginals), 1e-12, 1.0)))
        return tags, rows
    finally:
        tagger.close()


def labels(path: Path) -> list[str]:
    """The tags the stored CRF knows, in its own order."""
    import pycrfsuite

    tagger = pycrfsuite.Tagger()
    tagger.open(str(path))
    try:
        return list(tagger.labels())
    finally:
        tagger.close()


def fit_crf(
    train: tuple[list[list[str]], list[list[str]]],
    validation: tuple[list[list[str]], list[list[str]]],
    folder: Path,
    score: Score,
) -> list[Trial]:
    """Train every setting of `GRID`, keep the best on `validation` as `folder/model.crfsuite`.

    Returns:
        The trials in grid order (the first best wins a tie).
    """
    fit_one = partial(_fit_scored, train, validation, folder, score)
    scored = fit_settings(fit_one, list(enumerate(GRID)), len(train[0]))
    trials, best = [], -math.inf
    for params, (candidate, value, seconds) in zip(GRID, scored, strict=True):
        trials.append(Trial(dict(params), round(value, 6), round(seconds, 2)))
        if value > best:
            best = value
            os.replace(candidate, folder / CRF_MODEL)
        else:
            candidate.unlink()
    return trials


def _fit_scored(
    train: tuple[list[list[str]], list[list[str]]],
    validation: tuple[list[list[str]], list[list[str]]],
    folder: Path,
    score: Score,
    setting: tuple[int, dict],
) -> tuple[Path, float, float]:
    """Train one setting into `folder/candidate-<index>.crfsuite`: that file, its validation
    score and seconds."""
    index, params = setting
    began = time.perf_counter()
    candidate = folder / f"candidate-{index}.crfsuite"
    _train(*train, params, candidate)
    value = score(validation[1], tag(candidate, validation[0])[0])
    return candidate, value, time.perf_counter() - began
