"""Metrics, computed offline: scikit-learn for classification, seqeval (strict IOB2) for NER.

Point estimates call the reference functions themselves. Bootstrap resampling needs the same
numbers thousands of times, so it works from sufficient statistics (a confusion matrix, or
per-sentence entity counts) that reproduce the reference values; tests check they agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from dexter_autotrain.tasks.metrics import CALIBRATION_BINS


def classification_metrics(
    y_true: Sequence[str],
    y_pred: Sequence[str],
    labels: list[str],
    confidence: np.ndarray | None = None,
) -> dict[str, Any]:
    """Accuracy, macro/weighted F1, precision and recall, per-class scores, the confusion
    matrix and (with confidences) expected calibration error.

    Averages run over the labels that occur in `y_true` or `y_pred` (scikit-learn's default),
    so a slice without, say, `technology` articles is not marked down for it; per-class
    scores and the confusion matrix list every label in `labels`."""
    from sklearn.metrics import (
        accuracy_score,
        confusion_matrix,
        f1_score,
        precision_recall_fscore_support,
        precision_score,
        recall_score,
    )

    # scikit-learn's functions on integer codes in sorted-label order: the same numbers as on
    # the strings, 5x faster (its input checks sort and compare the strings on every call)
    codes = {label: code for code, label in enumerate(sorted({*labels, *y_true, *y_pred}))}
    truth = np.array([codes[label] for label in y_true], dtype=np.int64)
    guess = np.array([codes[label] for label in y_pred], dtype=np.int64)
    wanted = [codes[label] for label in labels]
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, guess, labels=wanted, zero_division=0
    )
    averaged = {"average": "macro", "zero_division": 0}
    result: dict[str, Any] = {
        "accuracy": float(accuracy_score(truth, guess)),
        "f1_macro": float(f1_score(truth, guess, **averaged)),
        "f1_weighted": float(f1_score(truth, guess, average="weighted", zero_division=0)),
        "precision_macro": float(precision_score(truth, guess, **averaged)),
        "recall_macro": float(recall_score(truth, guess, **averaged)),
        "per_class": {
            label: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for label, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)
        },
        "confusion_matrix": confusion_matrix(truth, guess, labels=wanted).tolist(),
    }
    if confidence is not None:
        result["calibration_error"] = expected_calibration_error(confidence, truth == guess)
    return result


def expected_calibration_error(
    confidence: np.ndarray, correct: np.ndarray, bins: int = CALIBRATION_BINS
) -> float:
    """|accuracy - confidence| averaged over equal-width confidence bins, weighted by size."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    total = 0.0
    for b in range(bins):
        members = index == b
        if members.any():
            total += members.sum() * abs(correct[members].mean() - confidence[members].mean())
    return float(total / len(confidence))


def calibration_curve(
    confidence: np.ndarray, correct: np.ndarray, bins: int = CALIBRATION_BINS
) -> list[dict[str, float]]:
    edges = np.linspace(0.0, 1.0, bins + 1)
    index = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    return [
        {
            "confidence": float(confidence[index == b].mean()),
            "accuracy": float(correct[index == b].mean()),
            "count": int((index == b).sum()),
        }
        for b in range(bins)
        if (index == b).any()
    ]


def confusion_scores(matrices: np.ndarray) -> dict[str, np.ndarray]:
    """accuracy, f1_macro, f1_weighted, precision_macro, recall_macro of each of a stack of
    confusion matrices (rows: truth, columns: prediction, labels in sorted order), as
    scikit-learn's defaults compute them: over the labels present, with zero_division=0, and
    with its formulas (absent labels add exact zeros to the sums; with fewer than 8 labels
    the floating-point results are identical)."""
    true_count = matrices.sum(axis=2).astype(float)
    pred_count = matrices.sum(axis=1).astype(float)
    tp = np.diagonal(matrices, axis1=1, axis2=2).astype(float)
    precision = np.divide(tp, pred_count, out=np.zeros_like(tp), where=pred_count > 0)
    recall = np.divide(tp, true_count, out=np.zeros_like(tp), where=true_count > 0)
    denominator = true_count + pred_count
    f1 = np.divide(2 * tp, denominator, out=np.zeros_like(tp), where=denominator > 0)
    present = np.maximum((denominator > 0).sum(axis=1), 1)
    total = true_count.sum(axis=1)
    nonzero = np.maximum(total, 1)
    return {
        "accuracy": np.where(total > 0, tp.sum(axis=1) / nonzero, 0.0),
        "f1_macro": f1.sum(axis=1) / present,
        "f1_weighted": np.where(total > 0, (f1 * true_count).sum(axis=1) / nonzero, 0.0),
        "precision_macro": precision.sum(axis=1) / present,
        "recall_macro": recall.sum(axis=1) / present,
    }


def entity_metrics(y_true: list[list[str]], y_pred: list[list[str]]) -> dict[str, Any]:
    """seqeval in strict IOB2 mode: entity-level precision, recall, F1, per entity type."""
    from seqeval.metrics import (
        accuracy_score,
        classification_report,
        f1_score,
        precision_score,
        recall_score,
    )
    from seqeval.scheme import IOB2

    options = {"mode": "strict", "scheme": IOB2}
    report = classification_report(y_true, y_pred, output_dict=True, zero_division=0, **options)
    return {
        "precision": float(precision_score(y_true, y_pred, zero_division=0, **options)),
        "recall": float(recall_score(y_true, y_pred, zero_division=0, **options)),
        "f1": float(f1_score(y_true, y_pred, zero_division=0, **options)),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "per_class": {
            name: {
                "precision": float(v["precision"]),
                "recall": float(v["recall"]),
                "f1": float(v["f1-score"]),
                "support": int(v["support"]),
            }
            for name, v in report.items()
            if not name.endswith(" avg")
        },
    }


def entity_counts(y_true: list[list[str]], y_pred: list[list[str]]) -> np.ndarray:
    """Per sentence: [true positives, predicted entities, true entities, correct tokens,
    tokens], strict IOB2, so that sums over any subset reproduce seqeval."""
    from seqeval.scheme import IOB2, Entities

    counts = np.zeros((len(y_true), 5), dtype=np.int64)
    for row, (truth, guess) in enumerate(zip(y_true, y_pred, strict=True)):
        true_entities = Entities([truth], IOB2).entities[0]
        pred_entities = Entities([guess], IOB2).entities[0]
        true_set = {e.to_tuple()[1:] for e in true_entities}
        pred_set = {e.to_tuple()[1:] for e in pred_entities}
        counts[row] = (
            len(true_set & pred_set),
            len(pred_set),
            len(true_set),
            sum(t == p for t, p in zip(truth, guess, strict=True)),
            len(truth),
        )
    return counts


def entity_scores(totals: np.ndarray) -> dict[str, np.ndarray]:
    """precision, recall, f1 and accuracy from rows of summed `entity_counts` columns."""
    tp, predicted, actual, correct, tokens = (
        totals[:, column].astype(float) for column in range(5)
    )
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, actual, out=np.zeros_like(tp), where=actual > 0)
    both = precision + recall
    return {
        "precision": precision,
        "recall": recall,
        "f1": np.divide(2 * precision * recall, both, out=np.zeros_like(tp), where=both > 0),
        "accuracy": np.divide(correct, tokens, out=np.zeros_like(tp), where=tokens > 0),
    }
