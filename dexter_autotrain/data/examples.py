"""Columnar examples: what every reader produces and every later step works on.

Columns of plain lists (not a row object per example) keep a million rows in a few hundred
MiB; each example remembers the file and line it came from so problems can name them.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Examples:
    """Examples of one split. `inputs` are texts, token lists or image paths; `labels` are
    labels or tag lists; `origin_file`/`origin_line` index into `files`."""

    inputs: list[Any] = field(default_factory=list)
    labels: list[Any] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    origin_file: array = field(default_factory=lambda: array("I"))
    origin_line: array = field(default_factory=lambda: array("I"))
    extras: dict[str, list[str]] = field(default_factory=dict)
    """Other columns kept for evaluation slices (e.g. `source`), one value per example."""

    def __len__(self) -> int:
        return len(self.inputs)

    def origin(self, index: int) -> tuple[str, int]:
        return self.files[self.origin_file[index]], self.origin_line[index]

    def take(self, indices: Sequence[int]) -> Examples:
        """A new Examples holding the rows at `indices`, in that order."""
        return Examples(
            inputs=[self.inputs[i] for i in indices],
            labels=[self.labels[i] for i in indices],
            languages=[self.languages[i] for i in indices],
            files=self.files,
            origin_file=array("I", (self.origin_file[i] for i in indices)),
            origin_line=array("I", (self.origin_line[i] for i in indices)),
            extras={name: [values[i] for i in indices] for name, values in self.extras.items()},
        )

    def extend(self, other: Examples) -> None:
        offset = len(self.files)
        self.files.extend(other.files)
        self.inputs.extend(other.inputs)
        self.labels.extend(other.labels)
        self.languages.extend(other.languages)
        self.origin_file.extend(index + offset for index in other.origin_file)
        self.origin_line.extend(other.origin_line)
        for name, values in other.extras.items():
            self.extras.setdefault(name, []).extend(values)

    @classmethod
    def concatenate(cls, parts: Iterable[Examples]) -> Examples:
        combined = cls()
        for part in parts:
            combined.extend(part)
        return combined
