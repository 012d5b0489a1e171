"""Inference speed: examples per second and latency percentiles at batch 1 and batch 32."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

SPEED_EXAMPLES = 64


def measure_speed(
    predict: Callable[[list[Any], int], Any], inputs: list[Any]
) -> dict[str, dict[str, float]]:
    sample = inputs[:SPEED_EXAMPLES]
    result = {}
    for batch_size in (1, 32):
        predict(sample[:batch_size], batch_size)  # warm up
        latencies = []
        for start in range(0, len(sample), batch_size):
            began = time.perf_counter()
            predict(sample[start : start + batch_size], batch_size)
            latencies.append(time.perf_counter() - began)
        result[f"batch_{batch_size}"] = {
            "examples_per_second": len(sample) / sum(latencies),
            "p50_ms": float(np.percentile(latencies, 50) * 1000),
            "p95_ms": float(np.percentile(latencies, 95) * 1000),
            "examples": len(sample),
        }
    return result
