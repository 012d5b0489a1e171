"""The figures of a job's members side by side: each family's mean and standard deviation
over its seeds (`Spread`), the winner (the family with the best mean validation score, then
its seed with the best validation score) and the gates judged on the winning family's means.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable

from dexter_autotrain.evaluation.gates import check_gates
from dexter_autotrain.record import FamilySpread, MemberScores, Spread
from dexter_autotrain.report_record import EvaluationReport, Fairness, GateRow, Scored
from dexter_autotrain.spec import JobSpec
from dexter_autotrain.tasks import get_task


def spread(values: list[float]) -> Spread:
    """Values with their mean and sample standard deviation (0 for one value)."""
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return Spread(values=values, mean=statistics.fmean(values), sd=sd)


def member_scores(
    run_id: str, family: str, seed: int, validation: float, report: EvaluationReport
) -> MemberScores:
    """One member's figures, from its validation score and its test report."""
    primary = report.primary_metric
    slices = {
        f"{column}={group}": scored.metrics.get(primary)
        for column, groups in report.slices.items()
        for group, scored in groups.items()
    }
    return MemberScores.model_validate(
        {
            "run_id": run_id,
            "family": family,
            "seed": seed,
            "validation": validation,
            "test": dict(report.overall.metrics),
            "slices": slices,
            "fairness_gap": report.fairness.gap if report.fairness else None,
            "lift": report.baseline.lift if report.baseline else None,
        }
    )


def _spreads(members: list[MemberScores], pick: Callable[[MemberScores], dict]) -> dict:
    keys = [key for key in pick(members[0]) if all(pick(m).get(key) is not None for m in members)]
    return {key: spread([float(pick(m)[key]) for m in members]) for key in keys}


def _optional(members: list[MemberScores], values: list[float | None]) -> Spread | None:
    known = [value for value in values if value is not None]
    return spread(known) if len(known) == len(members) else None


def family_spread(family: str, members: list[MemberScores]) -> FamilySpread:
    """A family's figures over its seeds (members of that family only)."""
    return FamilySpread.model_validate(
        {
            "family": family,
            "seeds": [m.seed for m in members],
            "validation": spread([m.validation for m in members]),
            "test": _spreads(members, lambda m: m.test),
            "slices": _spreads(members, lambda m: m.slices),
            "fairness_gap": _optional(members, [m.fairness_gap for m in members]),
            "lift": _optional(members, [m.lift for m in members]),
        }
    )


def choose_winner(
    spec: JobSpec, families: list[FamilySpread], members: list[MemberScores]
) -> tuple[MemberScores, str]:
    """The member to publish and why, in a sentence."""
    higher = get_task(spec.task).metric(spec.primary_metric).higher_is_better
    best: Callable = max if higher else min
    family = best(families, key=lambda f: f.validation.mean)
    own = [m for m in members if m.family == family.family]
    winner = best(own, key=lambda m: m.validation)
    metric = f"validation {spec.primary_metric}"
    others = "; ".join(
        f"{f.family} {f.validation.mean:.3f}" for f in families if f.family != family.family
    )
    reason = f"{family.family} has the best mean {metric}: {family.validation.mean:.3f}"
    if len(own) > 1:
        reason += f" ± {family.validation.sd:.3f} over {len(own)} seeds"
    reason += f" (against {others})" if others else ""
    if len(own) > 1:
        reason += f"; its seed {winner.seed} scored best ({winner.validation:.3f})"
    return winner, reason + "."


def _mean_slices(reports: list[EvaluationReport]) -> dict[str, dict[str, Scored]]:
    own = reports[0].slices
    return {
        column: {
            group: Scored(
                count=scored.count,
                metrics={
                    name: _mean([r.slices[column][group].metrics.get(name) for r in reports])
                    for name in scored.metrics
                },
            )
            for group, scored in groups.items()
            if all(group in r.slices.get(column, {}) for r in reports)
        }
        for column, groups in own.items()
    }


def _mean(values: list[float | None]) -> float | None:
    return None if any(v is None for v in values) else statistics.fmean(values)  # type: ignore[arg-type]


def _mean_fairness(reports: list[EvaluationReport]) -> Fairness | None:
    fairness = reports[0].fairness
    if fairness is None or any(r.fairness is None for r in reports):
        return None
    gaps = [r.fairness.gap for r in reports if r.fairness]
    ratios = [r.fairness.ratio for r in reports if r.fairness]
    return fairness.model_copy(update={"gap": _mean(gaps), "ratio": _mean(ratios)})


def gates_on_mean(spec: JobSpec, reports: list[EvaluationReport]) -> list[GateRow]:
    """The spec's gates judged on the mean of the winning family's seeds (`reports`, the
    published seed's first): each row's note says so."""
    winner = reports[0]
    overall = {
        name: _mean([r.overall.metrics.get(name) for r in reports])
        for name in winner.overall.metrics
    }
    lifts = [r.baseline.lift if r.baseline else None for r in reports]
    published = winner.published
    if published is not None and published.lift is not None:
        metric = get_task(spec.task).metric(spec.primary_metric)
        moved = metric.lift(overall[spec.primary_metric] or 0.0, winner.primary_value() or 0.0)
        published = published.model_copy(update={"lift": published.lift + moved})
    rows = check_gates(
        spec, overall, _mean_slices(reports), _mean_fairness(reports), _mean(lifts), published
    )
    note = f"mean of {len(reports)} seeds"
    return [
        row.model_copy(update={"note": f"{row.note}; {note}" if row.note else note}) for row in rows
    ]
