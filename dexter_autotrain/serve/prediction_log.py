"""`serve --log-predictions DIR`: what was asked and answered, as JSONL, for review and
annotation (the start of the feedback loop).

One file per worker and day (`predictions-YYYYMMDD-w<worker>.jsonl`, so workers never share
a file), one row per input: time, model, revision, task, the input (a text, or the path of
the image saved under `images/` by its sha256), the parameters and the answer. Opt-in: a
served model logs nothing unless asked to.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from dexter_autotrain.serve.model import ServedModel
from dexter_autotrain.serve.protocol import Query
from dexter_autotrain.tasks import get_task


class PredictionLog:
    """Appends the rows of answered queries to this worker's file under `folder`."""

    def __init__(self, folder: Path, model: ServedModel):
        self.folder, self.model = folder, model
        self.worker = os.environ.get("LITSERVE_WORKER_ID", str(os.getpid()))
        (folder / "images").mkdir(parents=True, exist_ok=True)

    def write(self, queries: list[Query], answers: list[list[Any]]) -> None:
        """Log each input of each query with its answer (`Engine.answer`'s)."""
        now = dt.datetime.now(dt.UTC)
        rows = []
        for query, each in zip(queries, answers, strict=True):
            for value, prediction in zip(query.inputs, each, strict=True):
                rows.append(self._row(now, query, value, prediction))
        path = self.folder / f"predictions-{now:%Y%m%d}-w{self.worker}.jsonl"
        with path.open("a", encoding="utf-8") as file:
            file.write("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))

    def _row(self, now: dt.datetime, query: Query, value: Any, prediction: Any) -> dict:
        return {
            "time": now.isoformat(timespec="milliseconds"),
            "model": self.model.name,
            "revision": self.model.revision,
            "task": self.model.task,
            "input": self._saved_image(value) if get_task(self.model.task).reads_images else value,
            "parameters": query.parameters,
            "prediction": prediction,
        }

    def _saved_image(self, data: bytes) -> str:
        name = f"images/{hashlib.sha256(data).hexdigest()[:32]}"
        path = self.folder / name
        if not path.exists():
            path.write_bytes(data)
        return name
