"""Inference speed: examples per second and latency percentiles at batch 1 and batch 32.

Batch 1 is timed on the first examples, one at a time, in input order, as a server sees
single requests. Batch 32 is timed on batches of examples of similar length (as offline
scoring batches them) taken evenly across the length range, so the figures cover short and
long inputs without timing a second pass over everything.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dexter_autotrain.evaluation.predictors import Predicts
from dexter_autotrain.report_record import Speed

SINGLE_EXAMPLES = 32
BATCH = 32
TIMED_BATCHES = 8


def measure_speed(predictor: Predicts, inputs: list[Any]) -> dict[str, Speed]:
    singles = [[example] for example in inputs[:SINGLE_EXAMPLES]]
    batches = _length_neighbours(inputs, BATCH, TIMED_BATCHES)
    predictor.time_batches(singles[:1])  # warm up
    return {
        "batch_1": _figures(predictor.time_batches(singles), len(singles), predictor.dtype),
        f"batch_{BATCH}": _figures(
            predictor.time_batches(batches), sum(map(len, batches)), predictor.dtype
        ),
    }


def _length_neighbours(inputs: list[Any], size: int, count: int) -> list[list[Any]]:
    """Up to `count` batches of `size` inputs next to each other in length order, spread
    evenly from the shortest to the longest, no input in two."""
    order = sorted(range(len(inputs)), key=lambda index: _length(inputs[index]))
    count = max(1, min(count, len(order) // size))
    starts = [int(s) for s in np.linspace(0, max(len(order) - size, 0), count)]
    return [[inputs[index] for index in order[start : start + size]] for start in starts]


def _length(example: Any) -> int:
    """Characters, as a stand-in for tokens (images: all alike)."""
    if isinstance(example, str):
        return len(example)
    if isinstance(example, list):
        return sum(len(word) + 1 for word in example)
    return 0


def _figures(latencies: list[float], examples: int, dtype: str) -> Speed:
    return Speed(
        examples_per_second=examples / sum(latencies),
        p50_ms=float(np.percentile(latencies, 50) * 1000),
        p95_ms=float(np.percentile(latencies, 95) * 1000),
        examples=examples,
        dtype=dtype,
    )
