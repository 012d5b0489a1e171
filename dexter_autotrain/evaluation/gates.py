"""Gates: the spec's thresholds, each checked and shown as a row of a pass/fail table.

A metric's threshold is a minimum, or a maximum for a lower-is-better metric (the metric
table in `tasks/` says which); lifts are positive when the model is better, so a lift's
threshold is always a minimum."""

from __future__ import annotations

from dexter_autotrain.report_record import (
    Fairness,
    GateRow,
    GateRule,
    Metrics,
    PublishedComparison,
    Scored,
)
from dexter_autotrain.spec import JobSpec
from dexter_autotrain.tasks import Metric, get_task


def _gate(name: str, value: float | None, threshold: float, rule: GateRule) -> GateRow:
    passed = value is not None and (value >= threshold if rule == ">=" else value <= threshold)
    return _row(name, value, threshold, rule, passed)


def _row(
    name: str, value: float | None, threshold: float, rule: GateRule, passed: bool, note: str = ""
) -> GateRow:
    """A gate's row, every key written (`note` empty unless a gate without a value says why)."""
    return GateRow(name=name, value=value, threshold=threshold, rule=rule, passed=passed, note=note)


def _metric_gate(name: str, value: float | None, threshold: float, metric: Metric) -> GateRow:
    return _gate(name, value, threshold, metric.gate_rule)


def check_gates(
    spec: JobSpec,
    overall: Metrics,
    slices: dict[str, dict[str, Scored]],
    fairness: Fairness | None,
    lift: float | None,
    published: PublishedComparison | None = None,
) -> list[GateRow]:
    gates, task = spec.evaluation.gates, get_task(spec.task)
    rows = [
        _metric_gate(f"{name} overall", overall.get(name), bound, task.metric(name))
        for name, bound in gates.overall.items()
    ]
    for name, bound in gates.per_slice.items():
        for column, groups in slices.items():
            rows += [
                _metric_gate(
                    f"{name} for {column}={group}",
                    record.metrics.get(name),
                    bound,
                    task.metric(name),
                )
                for group, record in groups.items()
            ]
    limits = spec.evaluation.fairness
    if fairness is not None:
        gap, metric = fairness.gap, fairness.metric
        if gates.max_fairness_gap is not None:
            rows.append(_gate(f"{metric} gap across groups", gap, gates.max_fairness_gap, "<="))
        if limits is not None and limits.max_gap is not None:
            rows.append(_gate(f"{metric} gap (fairness.max_gap)", gap, limits.max_gap, "<="))
        if limits is not None and limits.min_ratio is not None:
            rows.append(
                _gate(
                    f"{metric} {_ratio_name(task.metric(metric))}",
                    fairness.ratio,
                    limits.min_ratio,
                    ">=",
                )
            )
    if gates.min_lift_over_baseline is not None:
        rows.append(
            _gate(
                f"{spec.primary_metric} lift over baseline",
                lift,
                gates.min_lift_over_baseline,
                ">=",
            )
        )
    if gates.min_lift_over_published is not None and published is not None:
        rows.append(_published_gate(spec, gates.min_lift_over_published, published))
    return rows


def _ratio_name(metric: Metric) -> str:
    """Fairlearn's ratio is the lower group's score over the higher's: worst over best for a
    score, best over worst for an error."""
    return "worst/best ratio" if metric.higher_is_better else "best/worst ratio"


def _published_gate(spec: JobSpec, minimum: float, published: PublishedComparison) -> GateRow:
    """A first publish (or this run's own, re-evaluated) passes; a model that could not be
    compared fails, with the reason. Smoke runs and published models scored on their own
    (`evaluate hub:...`) have no comparison, and no such gate."""
    name = f"{spec.primary_metric} lift over published"
    if published.status == "compared":
        return _gate(name, published.lift, minimum, ">=")
    if published.status in ("first publish", "own publish"):
        return _row(name, None, minimum, ">=", True, f"{published.status}: {published.note}")
    return _row(name, None, minimum, ">=", False, f"not compared: {published.note}")
