"""One model's scores on one set of examples: overall, by slice, and the fairness gap.

Shared by the evaluate stage and the comparison with the published model, so both models
are scored by exactly the same code on exactly the same examples.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dexter_autotrain.evaluation.examples import Labeled
from dexter_autotrain.evaluation.fairness import fairness_report
from dexter_autotrain.evaluation.predict import Predictions
from dexter_autotrain.evaluation.predictors import load_predictor
from dexter_autotrain.evaluation.slices import Scorer, by_group
from dexter_autotrain.report_record import Fairness, Scored
from dexter_autotrain.spec import JobSpec
from dexter_autotrain.tasks import get_task


@dataclass
class Scores:
    """What `score` found.

    Attributes:
        scorer: the scorer, for further exact scores (per class, confusion matrix).
        overall: metrics and their bootstrap intervals over every example.
        slices: the same per group of each `evaluation.slices` column.
        fairness: the `evaluation.fairness` report, or None when none is declared.
        notes: slices that could not be computed, and why.
    """

    scorer: Scorer
    overall: Scored
    slices: dict[str, dict[str, Scored]]
    fairness: Fairness | None
    notes: list[str] = field(default_factory=list)


def score(spec: JobSpec, data: Labeled, predicted: Predictions, labels: list) -> Scores:
    """Score `predicted` against `data` as the spec's evaluation section asks."""
    metrics = spec.evaluation.metrics
    scorer = Scorer(
        spec.task,
        data.labels,
        predicted.labels,
        labels,
        predicted.confidence,
        spec.evaluation.bootstrap_samples,
        spec.data.split.seed,
        # the primary metric is always reported: the lift and the card are stated in it
        [*metrics, spec.primary_metric] if metrics else None,
    )
    overall = scorer.score(np.arange(len(data.inputs)))
    slices, notes = {}, []
    for column in spec.evaluation.slices:
        values = data.groups(column)
        if values is None:
            notes.append(f"slice `{column}` is not in this data; no {column} slices computed")
        else:
            slices[column] = by_group(scorer, values)
    return Scores(scorer, overall, slices, _fairness(spec, scorer, data), notes)


def score_model(spec: JobSpec, model_dir: Path, data: Labeled) -> Scores:
    """The model in `model_dir` scored on `data` as `spec` scores it: another model beside
    a run's own (the published one), or a member of a job on its validation split."""
    predictor = load_predictor(
        model_dir, spec.task, spec.training.max_seq_length, precision=spec.evaluation.precision
    )
    predicted = predictor.predict(data.inputs)
    labels = sorted({*predictor.labels, *(v for v in data.labels if isinstance(v, str))})
    return score(spec, data, predicted, labels)


def _fairness(spec: JobSpec, scorer: Scorer, data: Labeled) -> Fairness | None:
    limits = spec.evaluation.fairness
    values = data.groups(limits.group_by) if limits is not None else None
    if limits is None or values is None:
        return None
    metric = get_task(spec.task).metric(limits.metric or spec.primary_metric)
    return fairness_report(
        lambda rows: scorer.exact(rows)[metric.name],
        values,
        metric,
        limits.max_gap,
        limits.min_ratio,
    )
