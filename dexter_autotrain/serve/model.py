"""Which model `dexter-auto serve` serves: a run, a model folder, or a published model.

Resolved in the parent process without importing torch: the task, labels and length limit
come from the run's spec, or from the folder's `spec.yaml` and `config.json`, so a bad
argument is one clear line before any worker starts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import yaml

from dexter_autotrain.errors import UserError
from dexter_autotrain.hub.pull import HUB_PREFIX, HubModelRef, published_commit, pull_model
from dexter_autotrain.hub.retry import Report
from dexter_autotrain.linear.folder import SECTION as LINEAR_SECTION
from dexter_autotrain.policy.spec_paths import printable
from dexter_autotrain.tasks import TASKS

HUB_CACHE = ".hub-models"
"""Published models are downloaded under the runs folder, in this folder (no run lives there:
runs are `<job>/<run-id>/state.json`)."""
DEFAULT_MAX_LENGTH = 128
_ARCHITECTURE_TASKS = {
    task.model_class.removeprefix("AutoModel"): name for name, task in TASKS.items()
}
"""The task of a model folder, by its architecture's suffix (`BertForTokenClassification`)."""


@dataclass(frozen=True)
class ServedModel:
    """A model ready to be loaded by a serving worker.

    Attributes:
        path: the folder holding the model files.
        name: what `/info` calls it: the job, the repo id, or the folder's name.
        revision: the published commit, or the run id; None for a bare folder.
        task: `text-classification`, `token-classification` or `image-classification`.
        labels: the classes (or tags), in the model's own order.
        max_length: the token limit the run was evaluated with.
        text_columns: the columns a text is joined from (`data.columns.text: [headline,
            text]`), so a request may send an object with them; empty: one text column.
    """

    path: Path
    name: str
    revision: str | None
    task: str
    labels: list[str]
    max_length: int = DEFAULT_MAX_LENGTH
    text_columns: tuple[str, ...] = ()


def resolve_model(reference: str, runs_dir: Path, report: Report) -> ServedModel:
    """The model `reference` names: `hub:ORG/NAME[@REV]`, a model folder, or a run.

    Args:
        reference: what the user typed.
        runs_dir: where runs live (and published models are cached).
        report: receives progress lines (a download).

    Returns:
        The resolved model.

    Raises:
        [`UserError`]: no such run, folder or published model, or it holds no model.
        [`HubAccessError`] / [`HubUnavailable`]: see `hub.pull`.

    Example:
        ```python
        >>> resolve_model("runs/narrative/20261126-101500-ab12", Path("runs"), print).task
        'text-classification'
        ```
    """
    if reference.startswith(HUB_PREFIX):
        return _published(HubModelRef.parse(reference), runs_dir, report)
    folder = Path(reference)
    if (folder / "config.json").is_file():
        return from_folder(folder, folder.resolve().name, None)
    return _from_run(reference, runs_dir)


def from_folder(folder: Path, name: str, revision: str | None) -> ServedModel:
    """A model folder, described by its `config.json` (and `spec.yaml` when it has one)."""
    config = _read_json(folder / "config.json")
    spec = _read_spec(folder / "spec.yaml")
    task = spec.get("task") or _task_of(config, folder)
    length = (spec.get("training") or {}).get("max_seq_length")
    max_length = length if isinstance(length, int) else DEFAULT_MAX_LENGTH
    named = ((spec.get("data") or {}).get("columns") or {}).get("text")
    joined = tuple(map(str, named)) if isinstance(named, list) else ()
    labels = _labels(config, folder)
    return ServedModel(folder, name, revision, task, labels, max_length, joined)


def _from_run(reference: str, runs_dir: Path) -> ServedModel:
    from dexter_autotrain.runs import find_run

    run = find_run(reference, runs_dir)
    state = run.state()
    if "train" not in state.completed or not state.model_dir:
        raise UserError(f"{run.path}: not trained yet (state {state.state}); nothing to serve")
    spec = run.spec(state)
    folder = run.model_folder(state)
    config = _read_json(folder / "config.json")
    revision = state.published.commit if state.published else run.run_id
    labels = _labels(config, folder)
    columns = spec.input_columns()
    return ServedModel(
        folder,
        spec.name,
        revision,
        spec.task,
        labels,
        spec.training.max_seq_length,
        columns if len(columns) > 1 else (),
    )


def _published(ref: HubModelRef, runs_dir: Path, report: Report) -> ServedModel:
    commit = published_commit(ref, report)
    if commit is None:
        raise UserError(f"{ref}: no such model or revision on the Hub")
    pulled = pull_model(ref, commit, runs_dir / HUB_CACHE, report)
    return from_folder(pulled.path, ref.repo_id, commit)


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{printable(str(path))}: missing; this folder holds no model") from None
    except (OSError, ValueError) as error:
        raise UserError(f"{printable(str(path))}: unreadable ({error})") from None


def _read_spec(path: Path) -> dict:
    """The published spec's fields, or nothing when there is none or it is unreadable."""
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    return spec if isinstance(spec, dict) else {}


def _task_of(config: dict, folder: Path) -> str:
    linear = config.get(LINEAR_SECTION)
    if isinstance(linear, dict) and linear.get("task") in TASKS:
        return linear["task"]
    for architecture in config.get("architectures") or []:
        for suffix, task in _ARCHITECTURE_TASKS.items():
            if architecture.endswith(suffix):
                return task
    raise UserError(
        f"{printable(str(folder))}: config.json names no classification architecture "
        "(text, token or image classification); nothing to serve"
    )


def _labels(config: dict, folder: Path) -> list[str]:
    id2label = config.get("id2label")
    if not isinstance(id2label, dict) or not id2label:
        raise UserError(f"{printable(str(folder / 'config.json'))}: has no id2label")
    return [id2label[key] for key in sorted(id2label, key=int)]
