"""Fitting a linear family's settings side by side.

Every setting of a grid is fitted on the same data and scored on the same validation split,
independently of the others: on a large training split they run one process per CPU (joblib;
NumPy arrays, a TF-IDF matrix's included, reach the processes memory-mapped, not copied).
Below `PARALLEL_FROM_ROWS` starting the processes costs more than it saves, and the settings
are fitted here, one after another. Either way the results come back in the grid's order, so
the chosen setting is the same.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import TypeVar

PARALLEL_FROM_ROWS = 2_000
"""Training rows (texts or sentences) from which settings are fitted in parallel."""

Setting = TypeVar("Setting")
Result = TypeVar("Result")


def fit_settings(
    fit_one: Callable[[Setting], Result], settings: Sequence[Setting], rows: int
) -> list[Result]:
    """`fit_one(setting)` for every setting, in order, in parallel from `PARALLEL_FROM_ROWS`
    training rows on (`fit_one` and what it holds must pickle: a module-level function, or a
    `functools.partial` of one).

    Example:
        ```python
        >>> fit_settings(partial(fit_classifier, matrix, labels), grid(), len(texts))
        [(classifier, 0.71, 3.2), ...]
        ```
    """
    workers = min(len(settings), len(os.sched_getaffinity(0)))
    if rows < PARALLEL_FROM_ROWS or workers < 2:
        return [fit_one(setting) for setting in settings]
    from joblib import Parallel, delayed

    return list(Parallel(n_jobs=workers)(delayed(fit_one)(setting) for setting in settings))
