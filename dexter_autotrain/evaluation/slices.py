"""Metrics per group (language, ...) with bootstrap 95% confidence intervals."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from dexter_autotrain.evaluation.metrics import (
    classification_metrics,
    confusion_scores,
    entity_counts,
    entity_metrics,
    entity_scores,
)
from dexter_autotrain.report_record import Scored
from dexter_autotrain.tasks import get_task

RESAMPLED_ROWS_AT_ONCE = 2_000_000
"""Bootstrap resamples are drawn and scored in chunks of about this many example indices."""
SCALAR_KEYS = (
    "accuracy",
    "f1_macro",
    "f1_weighted",
    "precision_macro",
    "recall_macro",
    "precision",
    "recall",
    "f1",
    "calibration_error",
)


class Scorer:
    """Scores any subset of the evaluated examples: exact values from the reference
    functions, bootstrap intervals from sufficient statistics."""

    def __init__(
        self,
        task: str,
        y_true: Sequence[Any],
        y_pred: Sequence[Any],
        labels: list[str],
        confidence: np.ndarray | None,
        samples: int,
        seed: int,
        shown: Sequence[str] | None = None,
    ):
        """`shown`: the metrics to report (`evaluation.metrics`); None: every one."""
        self.task, self.y_true, self.y_pred, self.labels = task, y_true, y_pred, labels
        self.shown = set(shown or SCALAR_KEYS)
        self.confidence, self.samples = confidence, samples
        self.rng = np.random.default_rng(seed)
        self.per_token = get_task(task).per_token
        if self.per_token:
            self.counts = entity_counts(list(y_true), list(y_pred))
        else:
            index = {label: i for i, label in enumerate(labels)}
            self.codes = np.array([index[v] for v in y_true]) * len(labels) + np.array(
                [index.get(v, 0) for v in y_pred]
            )

    def exact(self, rows: np.ndarray) -> dict[str, Any]:
        truth = [self.y_true[i] for i in rows]
        guess = [self.y_pred[i] for i in rows]
        if self.per_token:
            return entity_metrics(truth, guess)
        confidence = None if self.confidence is None else self.confidence[rows]
        return classification_metrics(truth, guess, self.labels, confidence)

    def intervals(self, rows: np.ndarray) -> dict[str, list[float]]:
        """95% percentile bootstrap intervals of the scalar metrics over `rows`."""
        if self.samples == 0 or len(rows) == 0:
            return {}
        chunk = max(1, RESAMPLED_ROWS_AT_ONCE // len(rows))
        parts = [
            self._scores(rows[self.rng.integers(0, len(rows), (min(chunk, left), len(rows)))])
            for left in range(self.samples, 0, -chunk)
        ]
        return {
            key: [float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))]
            for key in parts[0]
            for values in [np.concatenate([part[key] for part in parts])]
        }

    def _scores(self, samples: np.ndarray) -> dict[str, np.ndarray]:
        """Scalar metrics of each resample (a row of example indices)."""
        if self.per_token:
            return entity_scores(self.counts[samples].sum(axis=1))
        cells = len(self.labels) ** 2
        offsets = np.arange(len(samples))[:, None] * cells
        counts = np.bincount(
            (self.codes[samples] + offsets).ravel(), minlength=len(samples) * cells
        )
        return confusion_scores(counts.reshape(len(samples), len(self.labels), len(self.labels)))

    def score(self, rows: np.ndarray) -> Scored:
        exact = self.exact(rows)
        metrics = {k: v for k, v in exact.items() if k in SCALAR_KEYS and k in self.shown}
        return Scored(
            count=len(rows),
            metrics=metrics,
            ci95={k: v for k, v in self.intervals(rows).items() if k in metrics},
            per_class=exact.get("per_class", {}),
        )


def by_group(scorer: Scorer, groups: Sequence[str]) -> dict[str, Scored]:
    values = np.asarray(groups, dtype=object)
    return {group: scorer.score(np.flatnonzero(values == group)) for group in sorted(set(groups))}
