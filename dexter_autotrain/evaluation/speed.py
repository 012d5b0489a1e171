"""Inference speed: examples per second and latency percentiles at batch 1 and batch 32.

Batch 32 is read off the evaluation's own pass over every example (length-sorted batches,
as offline scoring runs), so it costs nothing extra; batch 1 is timed on the first examples,
one at a time, in input order, as a server sees single requests.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dexter_autotrain.evaluation.predict import Predictions, Predictor

SINGLE_EXAMPLES = 32


def measure_speed(
    predictor: Predictor, predicted: Predictions, inputs: list[Any]
) -> dict[str, dict[str, Any]]:
    sample = inputs[:SINGLE_EXAMPLES]
    predictor.time_batches(sample[:1], 1)  # warm up
    return {
        "batch_1": _figures(predictor.time_batches(sample, 1), len(sample), predictor.dtype),
        f"batch_{predictor.batch_size}": _figures(
            predicted.batch_seconds, len(predicted.labels), predictor.dtype
        ),
    }


def _figures(latencies: list[float], examples: int, dtype: str) -> dict[str, Any]:
    return {
        "examples_per_second": examples / sum(latencies),
        "p50_ms": float(np.percentile(latencies, 50) * 1000),
        "p95_ms": float(np.percentile(latencies, 95) * 1000),
        "examples": examples,
        "dtype": dtype,
    }
