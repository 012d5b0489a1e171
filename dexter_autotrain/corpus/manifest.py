"""The manifest of a prediction (`_manifest.json` in its output folder): what was asked
(model, input, columns, shard size) and which shards are done. A killed run resumed with the
same command skips the done shards; a different command on the same folder is refused."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from dexter_autotrain.errors import UserError
from dexter_autotrain.system.files import write_atomically

MANIFEST = "_manifest.json"


class Asked(BaseModel):
    """What a prediction is of: a resume must ask the same."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str
    revision: str | None
    task: str
    input: str
    """The input's fingerprint (`reading.fingerprint`)."""
    text_columns: list[str]
    id_columns: list[str]
    top_k: int
    shard_rows: int
    engine: str = "local"
    """`local`, or `ray` (whose shards are its write tasks)."""
    rows: list[int | None] | None = None
    """The input's rows scored, [first, end) (None: all)."""


class ShardDone(BaseModel):
    """One finished shard: its rows, how many were scored and rejected, its files."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rows: int
    scored: int
    rejected: int
    part: str | None
    rejects: str | None


class Manifest(BaseModel):
    """The manifest as `_manifest.json` holds it."""

    model_config = ConfigDict(extra="forbid")

    version: int = 1
    asked: Asked
    shards: dict[int, ShardDone] = {}

    @classmethod
    def open(cls, folder: Path, asked: Asked) -> Manifest:
        """The folder's manifest for `asked`: the one there (to resume), or a new one.

        Raises:
            [`UserError`]: the folder holds another prediction's output, or a broken
                manifest.
        """
        path = folder / MANIFEST
        if not path.exists():
            if folder.is_dir() and any(folder.iterdir()):
                raise UserError(f"--output {folder}: not empty and not a prediction's output")
            return cls(asked=asked)
        try:
            found = cls.model_validate(json.loads(path.read_text()))
        except (ValueError, ValidationError) as error:
            raise UserError(f"{path}: unreadable ({error}); delete the folder") from None
        if found.asked != asked:
            differs = [
                k for k in asked.model_fields if getattr(asked, k) != getattr(found.asked, k)
            ]
            raise UserError(
                f"--output {folder}: holds a prediction with another {', '.join(differs)}; "
                "choose another folder, or delete it to start again"
            )
        return found

    @property
    def done_rows(self) -> int:
        """Rows of the finished shards."""
        return sum(done.rows for done in self.shards.values())

    def save(self, folder: Path) -> None:
        write_atomically(folder / MANIFEST, self.model_dump_json(indent=2) + "\n")
