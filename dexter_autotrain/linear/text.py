"""Text classification in the linear family: TF-IDF on word and character n-grams, and a
logistic regression, tuned on the validation split over a small grid.

Character n-grams (`char_wb`: within word boundaries) read the pieces of words, so a
Hausa, Yorùbá or Igbo word seen in a new inflection, or spelt with or without its tone
marks, still shares features with the words of the training data; on a few thousand
examples that is what a transformer lacks. Each n-gram range is vectorised once and every
classifier setting is fitted on that matrix (side by side on a large split: `grid`), so the
grid costs two vectorisations.
"""

from __future__ import annotations

import itertools
import sys
import time
import zipfile
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from dexter_autotrain.errors import UserError
from dexter_autotrain.linear.folder import Trial
from dexter_autotrain.linear.grid import fit_settings
from dexter_autotrain.linear.handler import SKOPS_TRUSTED

CHAR_NGRAMS = ((2, 4), (2, 5))
C_VALUES = (0.3, 1.0, 3.0, 10.0)
CLASS_WEIGHTS = (None, "balanced")
WORD_NGRAMS = (1, 2)
MIN_DF_ROWS = 1_000
"""From this many training texts on, an n-gram must occur in two of them."""
MAX_ITER = 2_000

Score = Callable[[list[Any], list[Any]], float]


def grid() -> list[dict[str, Any]]:
    """Every setting tried, in order."""
    return [
        {"char_ngrams": list(chars), "C": c, "class_weight": weight}
        for chars, c, weight in itertools.product(CHAR_NGRAMS, C_VALUES, CLASS_WEIGHTS)
    ]


def _features(char_ngrams: tuple[int, int], rows: int) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    min_df = 2 if rows >= MIN_DF_ROWS else 1
    return FeatureUnion(
        [
            ("words", TfidfVectorizer(ngram_range=WORD_NGRAMS, sublinear_tf=True, min_df=min_df)),
            (
                "characters",
                TfidfVectorizer(
                    analyzer="char_wb", ngram_range=char_ngrams, sublinear_tf=True, min_df=min_df
                ),
            ),
        ]
    )


def fit_text(
    train: tuple[list[str], list[str]],
    validation: tuple[list[str], list[str]],
    seed: int,
    score: Score,
) -> tuple[Any, list[Trial]]:
    """The best pipeline of the grid on `validation`, fitted on `train`, and every trial.

    Args:
        train: texts and labels to fit on.
        validation: texts and labels each setting is scored on by `score(gold, predicted)`.
        seed: the classifier's seed.
        score: higher is better.

    Returns:
        The fitted scikit-learn pipeline of the best setting (the first best, on a tie) and
        the trials in grid order.
    """
    from sklearn.pipeline import Pipeline

    texts, labels = train
    trials: list[Trial] = []
    best: tuple[float, Any] | None = None
    for chars in CHAR_NGRAMS:
        began = time.perf_counter()
        union = _features(chars, len(texts))
        matrix, held_out = union.fit_transform(texts), union.transform(validation[0])
        vectorised = (time.perf_counter() - began) / (len(C_VALUES) * len(CLASS_WEIGHTS))
        settings = [p for p in grid() if tuple(p["char_ngrams"]) == chars]
        fit_one = partial(_fit_classifier, matrix, labels, held_out, validation[1], seed, score)
        for params, (classifier, value, seconds) in zip(
            settings, fit_settings(fit_one, settings, len(texts)), strict=True
        ):
            trials.append(Trial(params, round(value, 6), round(seconds + vectorised, 2)))
            if best is None or value > best[0]:
                best = (value, Pipeline([("features", union), ("classifier", classifier)]))
    assert best is not None
    return best[1], trials


def _fit_classifier(
    matrix: Any,
    labels: list[str],
    held_out: Any,
    gold: list[str],
    seed: int,
    score: Score,
    params: dict[str, Any],
) -> tuple[Any, float, float]:
    """One setting's classifier on the vectorised train split, its validation score and its
    seconds."""
    from sklearn.linear_model import LogisticRegression

    began = time.perf_counter()
    classifier = LogisticRegression(
        C=params["C"], class_weight=params["class_weight"], max_iter=MAX_ITER, random_state=seed
    ).fit(matrix, labels)
    value = score(gold, list(classifier.predict(held_out)))
    return classifier, value, time.perf_counter() - began


def _skops_io() -> Any:
    """`skops.io`, imported without torch. At import skops lists scikit-learn's estimators
    (`all_estimators`), which imports every scikit-learn package, the array API's wrapper of
    torch among them: 1.4 CPU-seconds of torch in a process a linear model alone needs. The
    wrapper is kept out while skops imports (walking packages skips one that fails), and
    importable again after."""
    wrapper = "sklearn.externals.array_api_compat.torch"
    keep_out = "torch" not in sys.modules and wrapper not in sys.modules
    if keep_out:
        sys.modules[wrapper] = None  # type: ignore[assignment]  # `import` raises ImportError
    try:
        import skops.io
    finally:
        if keep_out:
            del sys.modules[wrapper]
    return skops.io


def save_text(model: Any, path: Path) -> None:
    """Store the pipeline with skops (no pickle), deflated: skops writes each vocabulary
    entry as indented JSON, which a deflate at level 1 shrinks ~30 times (a 22,000-entry
    vocabulary: 19 MB stored, 0.6 MB deflated, for 0.1 CPU-seconds more)."""
    _skops_io().dump(model, path, compression=zipfile.ZIP_DEFLATED, compresslevel=1)


def load_text(path: Path) -> Any:
    """The stored pipeline; only `SKOPS_TRUSTED` types are accepted.

    Raises:
        [`UserError`]: the file holds another type (it is not loaded).
    """
    skops_io = _skops_io()
    untrusted = sorted(set(skops_io.get_untrusted_types(file=path)) - set(SKOPS_TRUSTED))
    if untrusted:
        raise UserError(
            f"{path}: holds types a linear text model never has ({', '.join(untrusted)}); "
            "not loaded. Train the model again with this toolkit"
        )
    return skops_io.load(path, trusted=list(SKOPS_TRUSTED))
