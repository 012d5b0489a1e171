"""How many threads the toolkit's own numerical work runs on."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """NumPy's and SciPy's BLAS (OpenBLAS) on one thread for the block.

    The toolkit's own work (data, metrics, plots, a linear model's grid) gains nothing from
    BLAS threads, and OpenBLAS's idle threads spin between calls: a linear model's submit
    took three times the CPU it needed. Every pipeline stage runs inside it
    (`pipeline._run_one`), and so does the `evaluate` action. Torch's threads (its own
    OpenMP pool) are untouched, and a training runs in a process of its own.

    Example:
        ```python
        >>> with single_threaded_blas():
        ...     stage.action(context)
        ```
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield
