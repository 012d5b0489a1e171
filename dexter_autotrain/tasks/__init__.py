"""The tasks the toolkit trains: one module each, one `TaskKind` per module.

Example:
    ```python
    >>> from dexter_autotrain.tasks import get_task
    >>> get_task(spec.task).primary_metric
    'f1_macro'
    ```
"""

from __future__ import annotations

from dexter_autotrain.tasks import image_classification, text_classification, token_classification
from dexter_autotrain.tasks.base import InputKind, ServingFormat, TaskKind
from dexter_autotrain.tasks.metrics import Direction, HubMetric, Metric

TASKS: dict[str, TaskKind] = {
    module.TASK.name: module.TASK
    for module in (text_classification, token_classification, image_classification)
}
"""Every task, by the spec's name for it, in the order the CLI lists them."""


def get_task(name: str) -> TaskKind:
    """The task called `name` (a validated spec's `task`).

    Raises:
        KeyError: no such task (a spec that passed validation always names one).
    """
    return TASKS[name]


__all__ = [
    "TASKS",
    "Direction",
    "HubMetric",
    "InputKind",
    "Metric",
    "ServingFormat",
    "TaskKind",
    "get_task",
]
