"""What a smoke run changes in a job: few rows, short training on a tiny model, so the whole
pipeline runs offline on a CPU in about a minute; and which of the spec's settings that
replaced (recorded in the run, shown by its card, `runs compare` and `plan`)."""

from __future__ import annotations

from dexter_autotrain.record import Scalar
from dexter_autotrain.spec.model import JobSpec

SMOKE_MAX_ROWS = 200
SMOKE_MAX_SEQ_LENGTH = 64
SMOKE_EPOCHS = 3
SMOKE_LEARNING_RATE = 1e-3  # a tiny random model needs big steps to learn anything quickly


def smoke_spec(spec: JobSpec) -> JobSpec:
    """The same job, shrunk to run in about a minute on a CPU: few rows, short epochs.
    `compute` is kept: where a smoke run trains is `smoke_backend`'s choice."""
    limit = min(spec.data.max_rows_per_split or SMOKE_MAX_ROWS, SMOKE_MAX_ROWS)
    return spec.model_copy(
        update={
            "data": spec.data.model_copy(update={"max_rows_per_split": limit}),
            "training": spec.training.model_copy(
                update={
                    "epochs": SMOKE_EPOCHS,
                    "learning_rate": SMOKE_LEARNING_RATE,
                    "batch_size": 16,
                    "mixed_precision": "none",
                    "max_seq_length": _smoke_length(spec.training.max_seq_length),
                }
            ),
        }
    )


def smoke_overrides(spec: JobSpec) -> dict[str, dict[str, Scalar]]:
    """The settings `smoke_spec` replaces in `spec`, `{field: {asked, used}}`, so a smoke run
    says what it did not train with (its card, `runs compare`, `plan`)."""
    asked, used = smoked_settings(spec), smoked_settings(smoke_spec(spec))
    return {
        key: {"asked": asked[key], "used": used[key]} for key in asked if asked[key] != used[key]
    }


def smoked_settings(spec: JobSpec) -> dict[str, Scalar]:
    """The settings a smoke run may replace, as `spec` sets them (`training.epochs`, ...)."""
    training = spec.training.model_dump(mode="json")
    return {"data.max_rows_per_split": spec.data.max_rows_per_split} | {
        f"training.{key}": value for key, value in training.items()
    }


def _smoke_length(length: int | str) -> int | str:
    return length if length == "auto" else min(int(length), SMOKE_MAX_SEQ_LENGTH)
