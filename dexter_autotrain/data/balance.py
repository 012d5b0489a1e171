"""Upsample the train rows of low-resource languages, at most `cap` times each."""

from __future__ import annotations

import random
from collections import defaultdict

from dexter_autotrain.data.examples import Examples


def upsample_languages(
    train: Examples, target: int | None, cap: float, seed: int
) -> tuple[Examples, dict[str, list[int]]]:
    """Train rows with repeats added, and per language [rows before, rows after]."""
    by_language: dict[str, list[int]] = defaultdict(list)
    for index, language in enumerate(train.languages):
        by_language[language].append(index)
    goal = target or max(len(rows) for rows in by_language.values())
    rng = random.Random(seed)
    extra: list[int] = []
    summary: dict[str, list[int]] = {}
    for language in sorted(by_language):
        rows = by_language[language]
        wanted = min(goal, round(len(rows) * cap))
        added = max(0, wanted - len(rows))
        repeats, rest = divmod(added, len(rows))
        extra += rows * repeats + rng.sample(rows, rest)
        summary[language] = [len(rows), len(rows) + added]
    return train.take(list(range(len(train))) + extra), summary
