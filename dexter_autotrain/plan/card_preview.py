"""A job's card as it would be published, before any training: the numbers come from the
job's last published evaluation (`evaluation.json` on the Hub, with a token), else they are
marked "not yet evaluated" and shown as `-`."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dexter_autotrain.evaluation.gates import check_gates
from dexter_autotrain.record import RepeatsRecord
from dexter_autotrain.report_record import REPORT_FILE, EvaluationReport, Fairness, Gates, Scored
from dexter_autotrain.runs import Run, start_record
from dexter_autotrain.spec import JobSpec

NOT_EVALUATED = "not yet evaluated"
PUBLISHED_FILES = (REPORT_FILE, "data-report.json")


@dataclass(frozen=True)
class Numbers:
    """What a card preview shows as results, and where they came from (`repeats`: the
    published job's every model and spread, for a job with candidates or seeds)."""

    evaluation: EvaluationReport
    data_report: dict[str, Any]
    run_id: str
    source: str
    repeats: RepeatsRecord | None = None


def placeholder_numbers(spec: JobSpec, why: str) -> Numbers:
    """Results with every number missing: the gates the spec declares, with no values (each
    row noted "not yet evaluated")."""
    unscored = Scored(count=0, metrics={})
    slices = {
        column: dict.fromkeys(spec.languages, unscored)
        for column in spec.evaluation.slices
        if column == "language"
    }
    fairness = spec.evaluation.fairness
    metric = (fairness.metric or spec.primary_metric) if fairness else None
    no_gap = Fairness(metric=metric, gap=None, ratio=None) if metric else None
    rows = check_gates(spec, {}, slices, no_gap, None)
    evaluation = EvaluationReport(
        job=spec.name,
        run_id="next",
        split=spec.evaluation.split,
        task=spec.task,
        examples=0,
        primary_metric=spec.primary_metric,
        labels=list(spec.data.labels or []),
        overall=Scored(count=0, metrics={}, ci95={}),
        per_class={},
        slices={},
        fairness=None,
        fairness_group=fairness.group_by if fairness else None,
        baseline=None,
        counterfactual=None,
        speed={},
        gates=Gates(
            passed=None, rows=[row.model_copy(update={"note": NOT_EVALUATED}) for row in rows]
        ),
        plots=[],
    )
    report = {
        "splits": {},
        "overlaps": {},
        "removed_leaked_from_train": 0,
        "duplicates_in_train": 0,
        "languages_without_test": [],
        "inputs": [],
        "outputs": [],
        "warnings": [],
    }
    return Numbers(evaluation, report, evaluation.run_id, f"{NOT_EVALUATED}: {why}")


def card_text(spec: JobSpec, spec_dir: Path, templates: Path, numbers: Numbers) -> str:
    """The card `spec` renders to with `numbers`, using the card templates in `templates`.

    Raises:
        UserError: the template fails (located, as `card` reports it).
    """
    from dexter_autotrain.cards.context import card_context
    from dexter_autotrain.cards.render import render_card

    with tempfile.TemporaryDirectory(prefix="dexter-card-preview-") as folder:
        run = Path(folder)
        start_record(Run(run), spec.name, numbers.run_id, created="")  # its tag: no date
        if numbers.repeats is not None:
            # every key, defaults too: a hand-written repeats.json may leave some out
            Run(run).update(repeats=numbers.repeats.model_dump(mode="json"))
        for name, value in (
            ("data-report.json", numbers.data_report),
            (REPORT_FILE, numbers.evaluation.to_json()),
        ):
            (run / name).write_text(json.dumps(value))
        context = card_context(spec, run)
    context["caveats"] = [] if numbers.source.startswith(NOT_EVALUATED) else context["caveats"]
    context["spec_source"] = "this pull request's job spec"
    template = Path(spec.card.template) if spec.card.template else None
    with _templates_folder(templates):
        return render_card(context, template, spec_dir)


@contextmanager
def _templates_folder(folder: Path) -> Iterator[None]:
    """Point the card renderer at `folder` (the base side's templates, or this branch's)."""
    before = os.environ.get("DEXTER_TEMPLATES")
    os.environ["DEXTER_TEMPLATES"] = str(folder)
    try:
        yield
    finally:
        if before is None:
            del os.environ["DEXTER_TEMPLATES"]
        else:
            os.environ["DEXTER_TEMPLATES"] = before
