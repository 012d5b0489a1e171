"""The data report: what reached each split, what overlaps, and fingerprints of it all."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from dexter_autotrain.data.examples import Examples
from dexter_autotrain.tasks import get_task

REPORT_VERSION = 1


@dataclass
class DataReport:
    job: str
    task: str
    splits: dict[str, dict[str, Any]] = field(default_factory=dict)
    overlaps: dict[str, dict] = field(default_factory=dict)
    duplicates_in_train: int = 0
    removed_leaked_from_train: int = 0
    upsampled: dict[str, list[int]] = field(default_factory=dict)
    languages_without_test: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    inputs: list[dict[str, Any]] = field(default_factory=list)
    outputs: list[dict[str, Any]] = field(default_factory=list)
    version: int = REPORT_VERSION

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def describe_split(examples: Examples, task: str) -> dict[str, Any]:
    """Rows per language x label (entity mentions for NER), tokens, and length statistics."""
    rows = Counter(examples.languages)
    labels: dict[str, Counter[str]] = defaultdict(Counter)
    for language, label in zip(examples.languages, examples.labels, strict=True):
        if get_task(task).per_token:
            labels[language].update(tag[2:] for tag in label if tag[:2] == "B-")
        else:
            labels[language][label] += 1
    record: dict[str, Any] = {
        "rows": len(examples),
        "by_language": {
            language: {"rows": rows[language], "labels": dict(sorted(labels[language].items()))}
            for language in sorted(rows)
        },
    }
    if get_task(task).uses_tokenizer:
        lengths = [
            len(value) if isinstance(value, list) else len(value.split())
            for value in examples.inputs
        ]
        record["tokens"] = sum(lengths)
        record["length_in_words"] = _length_stats(lengths)
    return record


def _length_stats(lengths: list[int]) -> dict[str, float]:
    if not lengths:
        return {}
    ordered = sorted(lengths)
    return {
        "min": ordered[0],
        "median": statistics.median(ordered),
        "p95": ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))],
        "max": ordered[-1],
        "mean": round(sum(ordered) / len(ordered), 1),
    }
