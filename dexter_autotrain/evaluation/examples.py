"""Labeled examples to evaluate: a run's prepared split, or a file the job never saw."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dexter_autotrain.data.output import INPUT_KEY, LABEL_KEY
from dexter_autotrain.errors import UserError
from dexter_autotrain.spec import JobSpec
from dexter_autotrain.tasks import get_task


@dataclass
class Labeled:
    """Examples to score: inputs, gold labels and the language of each."""

    inputs: list[Any]
    labels: list[Any]
    languages: list[str]
    extras: dict[str, list[str]] = field(default_factory=dict)
    """Other slice columns, one value per example."""

    def groups(self, column: str) -> list[str] | None:
        return self.languages if column == "language" else self.extras.get(column)


def load_prepared(data_dir: Path, split: str, task: str) -> Labeled:
    path = data_dir / f"{split}.jsonl"
    if not path.is_file():
        raise UserError(
            f"{path}: no prepared {split} split in this run (choose another "
            "--split, or pass --data)"
        )
    rows = [json.loads(line) for line in path.open(encoding="utf-8")]
    inputs = [row[INPUT_KEY[task]] for row in rows]
    if get_task(task).reads_images:
        inputs = [str(data_dir / value) for value in inputs]
    known = {INPUT_KEY[task], LABEL_KEY[task], "language"}
    extras = sorted({key for row in rows[:1] for key in row} - known)
    return Labeled(
        inputs,
        [row[LABEL_KEY[task]] for row in rows],
        [row["language"] for row in rows],
        {name: [str(row.get(name)) for row in rows] for name in extras},
    )


def read_labeled(path: Path, spec: JobSpec, language: str | None) -> Labeled:
    """Examples from a file the job never saw, read with the job's column mapping and put
    through the same checks as the job's own data (`data.prepare.check_examples`)."""
    from dexter_autotrain.data.prepare import check_examples
    from dexter_autotrain.data.readers import read_source
    from dexter_autotrain.data.sources import resolve_path

    sources = resolve_path(path, None, language, None, "--data")
    found = [examples for source in sources for examples in read_source(source, spec).values()]
    parts, _ = check_examples({str(i): e for i, e in enumerate(found)}, spec, "--data")
    labeled = Labeled([], [], [])
    for examples in parts.values():
        labeled.inputs += examples.inputs
        labeled.labels += examples.labels
        labeled.languages += examples.languages
        for name, values in examples.extras.items():
            labeled.extras.setdefault(name, []).extend(values)
    return labeled
