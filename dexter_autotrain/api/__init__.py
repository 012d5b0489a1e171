"""The Python API: every verb of `dexter-auto`, as a typed function returning a typed result.

The CLI is a thin layer over these functions: each command parses its arguments, calls one
of them and formats what it returns; an import contract forbids it anything below this
package. A notebook or Dexter's backend calls the same functions. They load their machinery
on first use (`dexter_autotrain.api` itself imports nothing heavy), so `validate` never
imports torch.

- `specs`: `validate`, `render`, `job_spec_schema`, `init_spec`, `task_names`,
  `backend_names`.
- `data`: `check_data`, `import_feedback`, `spec_of_job`.
- `runs`: `submit`, `resume`, `find_run`, `list_runs`, `describe_runs`, `runner_status`,
  `install_runner`.
- `actions` (on one run): `status`, `training_job`, `logs`, `cancel`, `evaluate`,
  `evaluate_published`, `is_published_model`, `card`, `publish`, `merge_published`,
  `close_published`, `rollback`, `deploy`, `change_deployment`, `start_server`, `serve`,
  `compare_runs`.
- `predicting`: `predict` (a corpus into Parquet, resumable; locally, on Ray or on HF Jobs
  with a `JobsPlan`), `iter_predictions`.
- `pruning`: `prune_runs` (`runs prune`).
- `sweeps`: `sweep`, `resume_sweep`.
- `planning`: `plan`, `post_plan_comment`.

Each is importable from here (`from dexter_autotrain.api import submit`); the most used are
also on the package (`dexter_autotrain.submit`).

`project_path(name)` is `runs/` or `model_cards/` at the project's top (the nearest folder
with `jobs/`), so commands work from any subdirectory. `printable(text)` escapes control
and bidi characters in user-supplied text before it is shown (a hostile spec cannot move a
terminal's cursor or rewrite a CI log).

Example:
    ```python
    >>> from dexter_autotrain import api
    >>> [check.valid for check in api.validate(["jobs/*.yaml"])]
    [True, True, True]
    >>> run = api.submit("jobs/narrative.yaml", smoke=True)
    >>> api.status(run).state
    'carded'
    ```
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from dexter_autotrain.policy.spec_paths import printable as printable  # user text, safe to show
from dexter_autotrain.system.repository import project_path as project_path  # runs/ from anywhere

_MODULES = {
    "specs": (
        "validate",
        "SpecCheck",
        "render",
        "RenderedSpec",
        "job_spec_schema",
        "init_spec",
        "task_names",
        "backend_names",
    ),
    "data": ("check_data", "import_feedback", "spec_of_job"),
    "runs": (
        "submit",
        "resume",
        "QuietReporter",
        "PrintReporter",
        "find_run",
        "list_runs",
        "describe_runs",
        "Run",
        "RunStatus",
        "STATE_FILE",
        "runner_status",
        "install_runner",
        "RunnerStatus",
    ),
    "actions": (
        "status",
        "training_job",
        "TrainingJob",
        "logs",
        "cancel",
        "require",
        "evaluate",
        "evaluate_published",
        "is_published_model",
        "card",
        "publish",
        "merge_published",
        "close_published",
        "rollback",
        "Rollback",
        "deploy",
        "change_deployment",
        "start_server",
        "LocalServer",
        "serve",
        "compare_runs",
    ),
    "predicting": ("predict", "iter_predictions", "JobsPlan"),
    "pruning": ("prune_runs", "Pruning", "PrunedRun"),
    "sweeps": ("sweep", "resume_sweep", "SweepResult"),
    "planning": ("plan", "PlanOutcome", "post_plan_comment"),
}
_WHERE = {name: module for module, names in _MODULES.items() for name in names}
__all__ = sorted([*_WHERE, "printable"])


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'dexter_autotrain.api' has no attribute {name!r}")
    return getattr(import_module(f"dexter_autotrain.api.{_WHERE[name]}"), name)


def __dir__() -> list[str]:
    return __all__
