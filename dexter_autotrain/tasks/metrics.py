"""What each metric is, in one table: its direction, whether it needs confidences, whether
training reports it every epoch, and how the Hub's model-index names it.

Gates (a gate on a lower-is-better metric is a maximum), lifts (positive is better, whatever
the direction), sweeps, checkpoint choice, fairness (which group is worst) and cards read it
here instead of assuming that more is better.

Example:
    ```python
    >>> from dexter_autotrain.tasks import get_task
    >>> metric = get_task("text-classification").metric("calibration_error")
    >>> metric.direction, metric.lift(0.04, 0.10)
    ('minimize', 0.06)
    ```
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Direction = Literal["maximize", "minimize"]
CALIBRATION_BINS = 15
"""Equal-width confidence bins of the expected calibration error."""
SEQEVAL = {"average": "micro", "mode": "strict", "scheme": "IOB2"}


@dataclass(frozen=True)
class HubMetric:
    """How a metric appears in the model-index: the Hub's metric id, a name, its arguments."""

    type: str
    name: str
    args: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Metric:
    """One metric a task reports.

    Attributes:
        name: the spec's and the reports' name (`f1_macro`).
        hub: its model-index form.
        higher_is_better: False for errors and losses.
        needs_confidence: scored from the model's confidences, not its labels alone.
        per_epoch: training reports it on the validation split every epoch, so it can choose
            checkpoints and score sweep trials.
    """

    name: str
    hub: HubMetric
    higher_is_better: bool = True
    needs_confidence: bool = False
    per_epoch: bool = True

    @property
    def direction(self) -> Direction:
        """Optuna's word for which way is better."""
        return "maximize" if self.higher_is_better else "minimize"

    @property
    def gate_rule(self) -> Literal[">=", "<="]:
        """A gate's threshold is a minimum, or a maximum for a lower-is-better metric."""
        return ">=" if self.higher_is_better else "<="

    def lift(self, value: float, reference: float) -> float:
        """How much better `value` is than `reference`: positive when it is better."""
        return value - reference if self.higher_is_better else reference - value

    def worst(self, scores: Mapping[str, float]) -> str | None:
        """The key of the worst score (None for no scores)."""
        pick = min if self.higher_is_better else max
        return pick(scores, key=scores.__getitem__) if scores else None


def _table(*metrics: Metric) -> dict[str, Metric]:
    return {metric.name: metric for metric in metrics}


LOSS = Metric("loss", HubMetric("loss", "Validation loss"), higher_is_better=False)
"""The validation loss: what checkpoints and sweeps fall back on."""
CLASSIFICATION = _table(
    Metric("accuracy", HubMetric("accuracy", "Accuracy")),
    Metric("f1_macro", HubMetric("f1", "Macro F1", {"average": "macro"})),
    Metric("f1_weighted", HubMetric("f1", "Weighted F1", {"average": "weighted"})),
    Metric("precision_macro", HubMetric("precision", "Macro precision", {"average": "macro"})),
    Metric("recall_macro", HubMetric("recall", "Macro recall", {"average": "macro"})),
    Metric(
        "calibration_error",
        HubMetric("calibration_error", "Expected calibration error", {"bins": CALIBRATION_BINS}),
        higher_is_better=False,
        needs_confidence=True,
        per_epoch=False,
    ),
)
"""Text and image classification's metrics (scikit-learn's definitions)."""
ENTITIES = _table(
    Metric("precision", HubMetric("precision", "Entity precision", SEQEVAL)),
    Metric("recall", HubMetric("recall", "Entity recall", SEQEVAL)),
    Metric("f1", HubMetric("f1", "Entity F1", SEQEVAL)),
    # NER accuracy counts tokens (most are `O`), unlike the entity-level scores above.
    Metric("accuracy", HubMetric("accuracy", "Token accuracy", {"level": "token"})),
)
"""Token classification's metrics (seqeval, strict IOB2)."""
