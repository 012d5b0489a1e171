"""Dexter AutoTrain: declarative fine-tuning for the Hugging Face ecosystem.

The public Python API (loaded on first use, so that `import dexter_autotrain` stays cheap
for the spec-only commands):

- `load_spec(path) -> LoadedSpec`: a job spec validated, `.spec` the `JobSpec`.
- `submit(spec_path, *, smoke=False, backend=None, detach=False, ...) -> Run`.
- `resume(run, ...) -> Run`.
- `find_run(reference, root) -> Run`, `list_runs(root, job) -> list[Run]`.
- `status(run)`, `logs(run, follow)`, `evaluate(run, ...)`, `card(run, ...)`,
  `publish(run, ...)`, `deploy(run, ...)`, `change_deployment(run, action)`, `cancel(run)`,
  `start_server(run)`, `compare_runs(run, other, ...)` (the `Run` methods `evaluate`,
  `card`, `publish` are deprecated).
- `validate(patterns)`, `check_data(spec)`, `sweep(spec)`.
- `predict(model, source, output, ...)`: a corpus scored into Parquet, resumably;
  `iter_predictions(model, source, ...)` yields them instead.
- Every other verb of the CLI is in `dexter_autotrain.api` (its docstring lists them).
- `get_task(name) -> TaskKind`; errors: `DexterError` and its family in `errors`.

Example:
    ```python
    >>> import dexter_autotrain as dx
    >>> run = dx.submit("jobs/narrative.yaml", smoke=True, reporter=dx.PrintReporter())
    >>> dx.card(run)
    ```
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "load_spec": "dexter_autotrain.spec",
    "JobSpec": "dexter_autotrain.spec",
    "LoadedSpec": "dexter_autotrain.spec",
    "submit": "dexter_autotrain.api",
    "resume": "dexter_autotrain.api",
    "PrintReporter": "dexter_autotrain.api",
    "QuietReporter": "dexter_autotrain.api",
    "validate": "dexter_autotrain.api",
    "check_data": "dexter_autotrain.api",
    "sweep": "dexter_autotrain.api",
    "evaluate": "dexter_autotrain.api",
    "card": "dexter_autotrain.api",
    "publish": "dexter_autotrain.api",
    "deploy": "dexter_autotrain.api",
    "change_deployment": "dexter_autotrain.api",
    "cancel": "dexter_autotrain.api",
    "status": "dexter_autotrain.api",
    "logs": "dexter_autotrain.api",
    "start_server": "dexter_autotrain.api",
    "compare_runs": "dexter_autotrain.api",
    "predict": "dexter_autotrain.api",
    "iter_predictions": "dexter_autotrain.api",
    "Run": "dexter_autotrain.runs",
    "find_run": "dexter_autotrain.runs",
    "list_runs": "dexter_autotrain.runs",
    "get_task": "dexter_autotrain.tasks",
    "TaskKind": "dexter_autotrain.tasks",
    "DexterError": "dexter_autotrain.errors",
    "UserError": "dexter_autotrain.errors",
    "ToolError": "dexter_autotrain.errors",
    "GatesFailed": "dexter_autotrain.errors",
    "TrainingCancelled": "dexter_autotrain.errors",
    "TrainingDetached": "dexter_autotrain.errors",
    "RunnerInstallError": "dexter_autotrain.errors",
}
__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'dexter_autotrain' has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)
