"""A shard's output: its predictions as one Parquet part file (the id columns passed
through, then the label and its score, the top-k classes or the entities with character
offsets), with the prediction's provenance in the file's metadata; and its rejected rows,
each with the reason. Both are written atomically: a file that exists is whole."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from dexter_autotrain.tasks import get_task

PROVENANCE_KEY = b"dexter_autotrain"
"""The Parquet metadata key holding the provenance (model, revision, toolkit, input, time)."""


def part_name(index: int) -> str:
    return f"part-{index:05d}.parquet"


def rejects_name(index: int) -> str:
    return f"rejects-{index:05d}.jsonl"


def prediction_fields(answer: list[dict[str, Any]], task: str, top_k: int) -> dict[str, Any]:
    """One row's prediction as output columns: `label` and `score` (and the `top_k` best
    classes when above 1), or the `entities` with character offsets."""
    if get_task(task).per_token:
        return {"entities": answer}
    best = {"label": answer[0]["label"], "score": answer[0]["score"]}
    return best | ({"top_k": answer} if top_k > 1 else {})


def write_part(path: Path, records: list[dict[str, Any]], provenance: dict[str, Any]) -> None:
    """One part file at `path`, its rows `records` (ids, then `prediction_fields`), the
    provenance in its metadata."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pylist(records)
    metadata = {**(table.schema.metadata or {}), PROVENANCE_KEY: json.dumps(provenance).encode()}
    partial = path.with_name(f".{path.name}.partial")
    pq.write_table(table.replace_schema_metadata(metadata), partial)
    os.replace(partial, path)


def write_rejects(path: Path, rejects: list[dict[str, Any]]) -> None:
    """The shard's rejected rows as JSONL: their ids, their row number and the reason."""
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(
        "".join(json.dumps(row, ensure_ascii=False, default=str) + "\n" for row in rejects)
    )
    os.replace(partial, path)


def read_provenance(path: Path) -> dict[str, Any]:
    """The provenance a part file was written with.

    Example:
        ```python
        >>> read_provenance(Path("scored/part-00000.parquet"))["revision"]
        '20261207-051254-4c46'
        ```
    """
    import pyarrow.parquet as pq

    return json.loads(pq.read_schema(path).metadata[PROVENANCE_KEY])
