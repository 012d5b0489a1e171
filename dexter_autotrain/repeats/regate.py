"""What the winner of a job with candidates or seeds records beyond its own evaluation: its
gates judged again on its family's mean over seeds, and the plot of every member's spread."""

from __future__ import annotations

from collections import defaultdict

from dexter_autotrain.evaluation.evaluate import write_report
from dexter_autotrain.evaluation.plots import spread_plot
from dexter_autotrain.record import MemberScores
from dexter_autotrain.repeats.summary import gates_on_mean
from dexter_autotrain.report_record import Gates
from dexter_autotrain.runs import Run

SPREAD_PLOT = "spread.png"


def judge_on_mean(winner: Run, family: list[Run]) -> bool:
    """With more than one seed in the winner's family (`family`, the winner first), judge
    the winner's gates on the family's means and write them into its report and verdict.

    Returns:
        Whether the gates were judged on the mean (False: one seed, its own figures).
    """
    if len(family) < 2:
        return False
    reports = [run.evaluation() for run in family]
    rows = gates_on_mean(winner.spec(), reports)
    judged = reports[0].model_copy(
        update={"gates": Gates(passed=all(row.passed for row in rows), rows=rows)}
    )
    write_report(judged, winner.path)
    winner.update(evaluation=judged.verdict().to_json())
    return True


def plot_spread(winner: Run, members: list[MemberScores], metric: str) -> str | None:
    """Every member's validation and test figure, by family, as `plots/spread.png` in the
    winner's run; returns the plot's name (None: no member has a test figure to plot)."""
    points: dict[str, list[tuple[int, float, float]]] = defaultdict(list)
    for member in members:
        test = member.test.get(metric)
        if test is not None:  # a model its test split could not score is left out
            points[member.family].append((member.seed, member.validation, test))
    if not points:
        return None
    (winner.path / "plots").mkdir(exist_ok=True)
    spread_plot(dict(points), metric, winner.path / "plots" / SPREAD_PLOT)
    return SPREAD_PLOT
