"""The evaluation report: what `evaluation.json` holds (a run's own, and each of its
`evaluations/<name>/` for other data, other splits and published models), as typed models.

The evaluate stage builds an `EvaluationReport` and writes `report.to_json()`; every reader
reads it back through `EvaluationReport.read` (`Run.evaluation()` for a run's own report), so
a report written by any version of the toolkit is checked once, where it is read. Unknown
keys are refused (`extra="forbid"`); nested parts are models, never `dict[str, Any]`. The
report's version is its `version` key, as reports have always written it: version 1 lacks
`precision`, `published`, `misclassified` and the gate rows' `note`, which are optional.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from dexter_autotrain.errors import ToolError
from dexter_autotrain.record import EvaluationVerdict, Record, validated

REPORT_VERSION = 2
REPORT_FILE = "evaluation.json"
Metrics = dict[str, float | None]
"""Metric name to value (None: not computable on these examples)."""
GateRule = Literal[">=", "<="]
"""A minimum, or a maximum (a lower-is-better metric, a gap)."""


class ReportRecord(Record, BaseModel):  # BaseModel named too: ruff's RUF012 knows a model
    """A part of an evaluation report: unknown keys are an error."""

    described = "the evaluation report"


class ClassScores(ReportRecord):
    """One class's (or entity type's) precision, recall, F1 and number of examples."""

    precision: float
    recall: float
    f1: float
    support: int


class Scored(ReportRecord):
    """Metrics on a set of examples (all of them, or one slice's group), with 95% bootstrap
    intervals (none when bootstrapping is off)."""

    count: int
    metrics: Metrics
    ci95: dict[str, tuple[float, float]] = {}
    per_class: dict[str, ClassScores] = {}


class Precision(ReportRecord):
    """The predictions' precision: `mode` in words, and the close calls re-scored in float32
    (`gap`: the logit gap under which they were; `drift`: bfloat16's largest change)."""

    mode: str
    rescored: int
    gap: float | None
    drift: float | None


class CalibrationBin(ReportRecord):
    confidence: float
    accuracy: float
    count: int


class Calibration(ReportRecord):
    """Expected calibration error and the reliability curve it was computed from."""

    error: float
    curve: list[CalibrationBin]


class Fairness(ReportRecord):
    """The fairness metric by group, its largest gap and smallest ratio, against the spec's
    limits. A card preview's placeholder has no values yet (gap, ratio None)."""

    metric: str
    by_group: dict[str, float] = {}
    gap: float | None
    ratio: float | None
    max_gap: float | None = None
    min_ratio: float | None = None
    passed: bool | None = None
    worst_group: str | None = None


class BaselineScores(ReportRecord):
    """The baseline's metrics on the same examples and the model's lift over it."""

    name: str
    metrics: Metrics
    lift: float | None


class ComparisonRow(ReportRecord):
    """One metric of this run beside the published model's (`better`: by its direction)."""

    name: str
    new: float | None
    published: float | None
    difference: float | None
    better: bool | None


class PublishedComparison(ReportRecord):
    """The run beside the model published at `hub.branch` (`min_lift_over_published`)."""

    repo_id: str
    branch: str
    status: Literal["compared", "first publish", "own publish", "not compared"]
    commit: str | None
    summary: str
    note: str = ""
    lift: float | None = None
    rows: list[ComparisonRow] = []


class ProbeCategory(ReportRecord):
    variants: int
    flips: int
    flip_rate: float


class ProbeFlip(ReportRecord):
    """A swap of an identity term that changed the prediction."""

    swap: str
    category: str
    before: str
    after: str
    text: str


class Counterfactual(ReportRecord):
    """The identity-term probe: how often a swap changed the prediction (`flip_rate` None and
    a `note` when no term occurs in the texts)."""

    variants: int
    flips: int | None = None
    flip_rate: float | None
    by_category: dict[str, ProbeCategory]
    examples: list[ProbeFlip]
    note: str | None = None


class Speed(ReportRecord):
    """Inference speed at one batch size (`dtype` since version 2)."""

    examples_per_second: float
    p50_ms: float
    p95_ms: float
    examples: int
    dtype: str | None = None


class GateRow(ReportRecord):
    """One gate: the value, its threshold and rule, and whether it passed (`note`: why a
    gate without a value passed or failed)."""

    name: str
    value: float | None
    threshold: float
    rule: GateRule
    passed: bool
    note: str = ""


class Gates(ReportRecord):
    """Every gate, and whether all passed (None in a card preview: not evaluated yet)."""

    passed: bool | None
    rows: list[GateRow]


class MisclassifiedImage(ReportRecord):
    image: str
    label: str
    prediction: str
    confidence: float | None


class Misclassified(ReportRecord):
    """Images only: how many were wrong and the most confident mistakes, drawn in `plot`."""

    wrong: int
    plot: str | None
    shown: list[MisclassifiedImage]


class EvaluatedModel(ReportRecord):
    """A published model evaluated on a run's data (`evaluate hub:ORG/NAME@REV`)."""

    repo_id: str
    revision: str
    commit: str


class EvaluationReport(ReportRecord):
    """`evaluation.json`. Keys only some reports have are optional.

    Example:
        ```python
        >>> Run(Path("runs/narrative/20261125-001830-fc69")).evaluation().primary_value()
        0.6412
        ```
    """

    version: int = REPORT_VERSION
    job: str
    run_id: str
    split: str
    model: EvaluatedModel | None = None
    task: str
    examples: int
    precision: Precision | None = None
    primary_metric: str
    labels: list[str]
    overall: Scored
    per_class: dict[str, ClassScores] = {}
    confusion_matrix: list[list[int]] | None = None
    calibration: Calibration | None = None
    slices: dict[str, dict[str, Scored]] = {}
    fairness: Fairness | None = None
    fairness_group: str | None = None
    baseline: BaselineScores | None = None
    majority: BaselineScores | None = None
    published: PublishedComparison | None = None
    counterfactual: Counterfactual | None = None
    speed: dict[str, Speed] = {}
    gates: Gates
    notes: list[str] = []
    plots: list[str] = []
    frameworks: dict[str, str] = {}
    misclassified: Misclassified | None = None

    def primary_value(self) -> float | None:
        """The primary metric overall."""
        return self.overall.metrics.get(self.primary_metric)

    def verdict(self) -> EvaluationVerdict:
        """What a run's state keeps of its own report (`evaluation`): publish reads the
        gates' verdict from it, and the card and commit message the primary metric.

        Raises:
            ToolError: the primary metric has no value (a report that cannot gate a run).
        """
        value = self.primary_value()
        if value is None or self.gates.passed is None:
            raise ToolError(f"evaluation of {self.run_id}: no {self.primary_metric} verdict")
        return EvaluationVerdict(
            split=self.split,
            primary_metric=self.primary_metric,
            value=value,
            baseline_lift=self.baseline.lift if self.baseline else None,
            gates_passed=self.gates.passed,
        )

    @classmethod
    def read(cls, path: Path) -> EvaluationReport:
        """The report in `path` (an `evaluation.json`, or the folder holding one: a run, an
        `evaluations/<name>/` folder, a model pulled from the Hub).

        Raises:
            ToolError: the file is missing, unreadable or not an evaluation report.
        """
        file = path / REPORT_FILE if path.is_dir() else path
        if not file.is_file():
            raise ToolError(f"{file}: missing: not evaluated yet")
        try:
            data = json.loads(file.read_text())
        except (OSError, ValueError) as error:
            raise ToolError(f"{file}: unreadable: {error}") from None
        return validated(cls, data, str(file), "an evaluation report")
