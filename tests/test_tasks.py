"""One home per task: every task-specific fact lives in `dexter_autotrain/tasks/`."""

from __future__ import annotations

import ast
import tokenize
import typing
from pathlib import Path

from conftest import REPO

from dexter_autotrain.spec.model import Task
from dexter_autotrain.tasks import TASKS, get_task

PACKAGE = REPO / "dexter_autotrain"
ALLOWED = {PACKAGE / "spec" / "model.py"}  # the spec's `task` enum


def string_literals(path: Path) -> list[tuple[int, str]]:
    """Every string literal of a Python file, with its line (docstrings and messages are
    whole sentences, so only a literal that IS a task name counts)."""
    with path.open("rb") as handle:
        tokens = list(tokenize.tokenize(handle.readline))
    found = []
    for token in tokens:
        if token.type == tokenize.STRING:
            try:
                found.append((token.start[0], ast.literal_eval(token.string)))
            except (ValueError, SyntaxError):  # f-strings
                continue
    return found


def test_task_names_appear_only_in_their_own_module_and_the_spec_enum() -> None:
    names = set(TASKS)
    stray = [
        f"{path.relative_to(REPO)}:{line}: {value}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.parent != PACKAGE / "tasks" and path not in ALLOWED
        for line, value in string_literals(path)
        if value in names
    ]
    assert stray == []
    for name, task in TASKS.items():
        module = PACKAGE / "tasks" / f"{name.replace('-', '_')}.py"
        assert {value for _, value in string_literals(module)} & names == {name}, module
        assert task.card_template in {p.name for p in (REPO / "templates").glob("*.md.j2")}


def test_the_spec_enum_lists_exactly_the_registered_tasks() -> None:
    assert set(typing.get_args(Task)) == set(TASKS)
    assert get_task("token-classification").per_token
    assert get_task("image-classification").reads_images
    assert not get_task("image-classification").uses_tokenizer


def test_only_the_pipeline_runs_stages() -> None:
    """Sweeps, resume and submit run stages through `pipeline.run_stages`: no other module
    reads the stage table to run a stage's action itself."""
    readers = [
        f"{path.relative_to(REPO)}:{node.lineno}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != PACKAGE / "pipeline.py"
        for node in ast.walk(ast.parse(path.read_text()))
        if (isinstance(node, ast.Name) and node.id == "STAGES")
        or (isinstance(node, ast.alias) and node.name == "STAGES")
    ]
    assert readers == []


NOT_A_RUN = {"folder", "sweep", "self.bar"}
"""Receivers of `.update(state=...)` that are not a run: a sweep folder's own record
(sweeps/folder.py) and rich's progress bar."""


def test_only_the_pipeline_writes_a_run_s_transitions() -> None:
    """A run's state, stage and completed stages are written by `pipeline` (and `runs`, the
    record itself) alone: publish, deploy, cancel and sweeps ask the pipeline
    (`mark_stage`, `record_stop`, `share_preparation`, `run_stages`)."""
    writers = [
        f"{path.relative_to(REPO)}:{node.lineno}: {ast.unparse(node)[:60]}"
        for path in sorted(PACKAGE.rglob("*.py"))
        if path.name not in ("pipeline.py", "runs.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and (
            node.func.attr == "complete"
            or (
                node.func.attr == "update"
                and {k.arg for k in node.keywords} & {"state", "stage", "completed"}
                and ast.unparse(node.func.value) not in NOT_A_RUN
            )
        )
    ]
    assert writers == []
