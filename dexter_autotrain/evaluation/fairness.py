"""Disaggregated scores across groups with Fairlearn's MetricFrame: largest gap and smallest
ratio (the lower group's score over the higher's, whichever way the metric points), checked
against the spec's limits. The worst group is the lowest, or the highest for an error."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from dexter_autotrain.report_record import Fairness
from dexter_autotrain.tasks import Metric


def fairness_report(
    score: Callable[[np.ndarray], float],
    groups: Sequence[str],
    metric: Metric,
    max_gap: float | None,
    min_ratio: float | None,
) -> Fairness:
    """`score(rows)` gives the metric on a subset; MetricFrame slices the rows by group."""
    from fairlearn.metrics import MetricFrame

    rows = np.arange(len(groups))
    frame = MetricFrame(
        metrics={metric.name: lambda truth, _: score(np.asarray(truth))},
        y_true=rows,
        y_pred=rows,
        sensitive_features=np.asarray(groups, dtype=object),
    )
    by_group = {str(k): float(v) for k, v in frame.by_group[metric.name].items()}
    gap = float(frame.difference(method="between_groups")[metric.name])
    ratio = float(frame.ratio(method="between_groups")[metric.name])
    passed = (max_gap is None or gap <= max_gap) and (min_ratio is None or ratio >= min_ratio)
    return Fairness(
        metric=metric.name,
        by_group=by_group,
        gap=gap,
        ratio=ratio,
        max_gap=max_gap,
        min_ratio=min_ratio,
        passed=passed,
        worst_group=metric.worst(by_group),
    )
