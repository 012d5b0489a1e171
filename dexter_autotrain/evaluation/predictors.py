"""Which predictor loads a model folder: a transformer's (`predict.Predictor`) or a linear
family model's (`linear_predictor.LinearPredictor`); both answer the same calls
(`Predicts`), so evaluation, `serve`, `predict` and the comparison with the published model
never ask which family they hold."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from dexter_autotrain.evaluation.predict import DEFAULT_BATCH_SIZE, Predictions, Predictor
from dexter_autotrain.linear import read_linear_config
from dexter_autotrain.spec.model import Precision


class Predicts(Protocol):
    """What every loaded model answers."""

    task: str
    id2label: dict[int, str]

    @property
    def labels(self) -> list[str]: ...

    @property
    def dtype(self) -> str: ...

    @property
    def precision(self) -> str: ...

    def predict(
        self, inputs: list[Any], batch_size: int | None = None, rescore: bool = True
    ) -> Predictions: ...

    def time_batches(self, batches: list[list[Any]]) -> list[float]: ...


def load_predictor(
    model_dir: Path,
    task: str,
    max_length: int = 128,
    batch_size: int = DEFAULT_BATCH_SIZE,
    precision: Precision = "auto",
) -> Predicts:
    """The model in `model_dir`, loaded for inference.

    Args:
        model_dir: a trained model's folder (a run's `model/`, a pulled published model).
        task: the toolkit task.
        max_length, batch_size, precision: a transformer's (see `Predictor`); a linear model
            has no token limit and predicts in float64.

    Returns:
        A `Predictor`, or a `LinearPredictor` where config.json describes a linear model.

    Raises:
        [`UserError`]: a linear model's files are malformed or hold unexpected types.

    Example:
        ```python
        >>> load_predictor(Path("runs/narrative/20261126-101500-ab12/model"),
        ...                "text-classification").predict(["Na so e be"]).labels
        ['neutral']
        ```
    """
    linear = read_linear_config(model_dir)
    if linear is not None:
        from dexter_autotrain.evaluation.linear_predictor import LinearPredictor

        return LinearPredictor(model_dir, linear)
    return Predictor(model_dir, task, max_length, batch_size, precision)
