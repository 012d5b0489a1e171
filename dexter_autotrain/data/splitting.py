"""Stratified, seeded splits for data that does not come split."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Sequence

from dexter_autotrain.data.examples import Examples


def stratified_split(
    examples: Examples, fractions: dict[str, float], seed: int, stratify_by: Sequence[str]
) -> dict[str, list[int]]:
    """Row indices per split. Each stratum (e.g. label x language) is shuffled with `seed`
    and cut by `fractions`; whatever is left goes to `train`. Indices stay in file order."""
    groups: dict[tuple, list[int]] = defaultdict(list)
    columns = [
        examples.labels if by == "label" else examples.languages
        for by in stratify_by
        if not (by == "label" and examples.labels and isinstance(examples.labels[0], list))
    ]
    for index in range(len(examples)):
        groups[tuple(column[index] for column in columns)].append(index)
    rng = random.Random(seed)
    result: dict[str, list[int]] = {name: [] for name in (*fractions, "train")}
    for key in sorted(groups, key=repr):
        members = groups[key]
        rng.shuffle(members)
        start = 0
        for name, fraction in fractions.items():
            size = round(len(members) * fraction)
            result[name] += members[start : start + size]
            start += size
        result["train"] += members[start:]
    return {name: sorted(indices) for name, indices in result.items()}


def sample_indices(size: int, limit: int, seed: int) -> list[int]:
    """At most `limit` row indices out of `size`, chosen with `seed`, in file order."""
    if size <= limit:
        return list(range(size))
    return sorted(random.Random(seed).sample(range(size), limit))
