"""A trained model's score on its run's validation split, by the evaluator itself: how the
members of a job with candidates or seeds are compared (a transformer's training reports its
own validation figures, a linear model's grid its own; the same evaluator on the same split
makes them comparable)."""

from __future__ import annotations

from pathlib import Path

from dexter_autotrain.evaluation.examples import load_prepared
from dexter_autotrain.evaluation.scoring import score_model
from dexter_autotrain.spec import JobSpec


def validation_score(run_path: Path, spec: JobSpec, model_dir: Path) -> float:
    """The primary metric of the model in `model_dir` on the run's validation split (no
    bootstrap intervals).

    Raises:
        [`UserError`]: the run has no prepared validation split.

    Example:
        ```python
        >>> validation_score(run.path, run.spec(), run.model_folder())
        0.6412
        ```
    """
    data = load_prepared(run_path / "data", "validation", spec.task)
    plain = spec.evaluation.model_copy(update={"bootstrap_samples": 0, "slices": []})
    scores = score_model(spec.model_copy(update={"evaluation": plain}), model_dir, data)
    return float(scores.overall.metrics[spec.primary_metric] or 0.0)
