"""The new model beside the one already published at `hub.branch`.

For `evaluation.gates.min_lift_over_published`: the model now at the branch is downloaded,
pinned to its commit, and scored by the same code on the same examples as the new one
(`scoring.score`); the report and the card show both, overall, per language and in fairness
gap, and the gate asks the new model to beat the published one by the spec's margin. With
nothing published yet the gate passes and says so.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from dexter_autotrain.errors import HubAccessError, HubUnavailable, ToolError
from dexter_autotrain.evaluation.examples import Labeled
from dexter_autotrain.evaluation.scoring import Scores, score_model
from dexter_autotrain.hub.pull import HubModelRef, published_commit, pull_model
from dexter_autotrain.hub.retry import Report
from dexter_autotrain.report_record import ComparisonRow, PublishedComparison
from dexter_autotrain.spec import JobSpec
from dexter_autotrain.tasks import get_task

Status = Literal["compared", "first publish", "own publish", "not compared"]
COMPARE_FOLDER = "compare"
"""Inside the run directory: where the published model is downloaded to."""


@dataclass(frozen=True)
class PublishedModel:
    """What the new model is compared with: the model at `hub.branch`, or why there is none.

    Attributes:
        repo_id, branch: where it was looked for.
        status: `compared` (model_dir holds it), `first publish` (nothing there yet), `own
            publish` (the branch holds this very run), or `not compared` (note says why).
        commit: the branch's commit when there is one.
        model_dir: the downloaded model when status is `compared`.
        note: one line for people.
    """

    repo_id: str
    branch: str
    status: Status
    commit: str | None = None
    model_dir: Path | None = None
    note: str = ""


def find_published(
    spec: JobSpec, run_path: Path, own_commit: str | None, report: Report
) -> PublishedModel:
    """Look up the model at the spec's `hub.branch` and download it into the run directory.

    Hub failures do not stop the evaluation: they become a `not compared` status, and the
    gate then fails with that reason (publishing needs the Hub anyway).
    """
    repo_id, branch = str(spec.hub.repo_id), spec.hub.branch
    ref = HubModelRef(repo_id, branch)
    try:
        commit = published_commit(ref, report)
        if commit is None:
            return PublishedModel(repo_id, branch, "first publish", note="nothing published yet")
        if commit == own_commit:
            return PublishedModel(repo_id, branch, "own publish", commit, note="this run")
        report(f"scoring the published model {repo_id}@{branch} (commit {commit[:12]})")
        pulled = pull_model(ref, commit, run_path / COMPARE_FOLDER, report)
    except (HubAccessError, HubUnavailable, ToolError) as error:
        return PublishedModel(repo_id, branch, "not compared", note=str(error).splitlines()[0])
    return PublishedModel(repo_id, branch, "compared", commit, pulled.path)


def compare(
    spec: JobSpec, data: Labeled, new: Scores, published: PublishedModel
) -> PublishedComparison:
    """Score the published model on `data` and set it beside the new model's `new` scores:
    the report's `published` section."""
    where = f"`{published.repo_id}` at `{published.branch}`"
    if published.model_dir is None:
        return _comparison(published, _summary_without_model(published, where), None, [])
    old = score_model(spec, published.model_dir, data)
    primary = spec.primary_metric
    metric = get_task(spec.task).metric(primary)
    lift = metric.lift(new.overall.metrics[primary], old.overall.metrics[primary])
    summary = (
        f"The model published at {where} (commit `{str(published.commit)[:12]}`), scored "
        f"on the same examples by the same evaluator: lift in {primary} **{lift:+.3f}**."
    )
    return _comparison(published, summary, lift, side_by_side(spec.task, primary, new, old))


def _comparison(
    published: PublishedModel, summary: str, lift: float | None, rows: list[ComparisonRow]
) -> PublishedComparison:
    """The report's `published` section, every key written as reports have always held it."""
    return PublishedComparison(
        repo_id=published.repo_id,
        branch=published.branch,
        status=published.status,
        commit=published.commit,
        summary=summary,
        note=published.note,
        lift=lift,
        rows=rows,
    )


def _summary_without_model(published: PublishedModel, where: str) -> str:
    if published.status == "first publish":
        return f"Nothing is published at {where} yet: this is the first publish."
    if published.status == "own publish":
        return f"{where} holds this run's own publish: there is nothing earlier to compare with."
    return f"The model at {where} could not be compared: {published.note}"


def side_by_side(task: str, primary: str, new: Scores, old: Scores) -> list[ComparisonRow]:
    """Rows of (what, this run, published, difference, and whether the difference is better
    by the metric's direction): every overall metric, the primary metric per language, and
    the fairness gap (better smaller)."""
    kind = get_task(task)

    def higher(metric: str) -> bool:
        return kind.metric(metric).higher_is_better if metric in kind.metric_table else True

    pairs = [
        (metric, value, old.overall.metrics.get(metric), higher(metric))
        for metric, value in new.overall.metrics.items()
    ]
    languages = new.slices.get("language", {})
    before = old.slices.get("language", {})
    pairs += [
        (f"{primary} ({language})", record.metrics.get(primary),
         before[language].metrics.get(primary) if language in before else None, higher(primary))
        for language, record in languages.items()
    ]  # fmt: skip
    if new.fairness is not None and old.fairness is not None:
        gap = f"{new.fairness.metric} fairness gap"
        pairs.append((gap, new.fairness.gap, old.fairness.gap, False))
    rows = []
    for name, value, then, better_higher in pairs:
        difference = None if value is None or then is None else value - then
        better = None if not difference else (difference > 0) == better_higher
        rows.append(
            ComparisonRow(
                name=name, new=value, published=then, difference=difference, better=better
            )
        )
    return rows
