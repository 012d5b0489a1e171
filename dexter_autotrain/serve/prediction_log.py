"""`serve --log-predictions DIR`: what was asked and answered, as JSONL, for review and
annotation (the start of the feedback loop).

The log holds what users sent, so it is private: the folder is created 0700, each file 0600,
and nothing is opened through a symbolic link (a link planted in the folder cannot redirect
a write).

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

from dexter_autotrain.errors import UserError
from dexter_autotrain.policy.spec_paths import printable
from dexter_autotrain.serve.model import ServedModel
from dexter_autotrain.serve.protocol import Query
from dexter_autotrain.tasks import get_task


class PredictionLog:
    """Appends the rows of answered queries to this worker's file under `folder`."""

    def __init__(self, folder: Path, model: ServedModel):
        self.folder, self.model = folder, model
        self.worker = os.environ.get("LITSERVE_WORKER_ID", str(os.getpid()))
        prepare_log_folder(folder)

    def write(self, queries: list[Query], answers: list[list[Any]]) -> None:
        """Log each input of each query with its answer (`Engine.answer`'s)."""
        now = dt.datetime.now(dt.UTC)
        rows = []
        for query, each in zip(queries, answers, strict=True):
            for value, prediction in zip(query.inputs, each, strict=True):
                rows.append(self._row(now, query, value, prediction))
        path = self.folder / f"predictions-{now:%Y%m%d}-w{self.worker}.jsonl"
        text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
        _write_private(path, text.encode(), os.O_APPEND)

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
            _write_private(path, data, os.O_EXCL)
        return name


def prepare_log_folder(folder: Path) -> None:
    """Create `folder` and its `images/` private (0700), refusing symbolic links.

    Raises:
        [`UserError`]: `folder` or `images/` is a symbolic link, or not a folder.
    """
    for each in (folder, folder / "images"):
        if each.is_symlink() or (each.exists() and not each.is_dir()):
            raise UserError(f"--log-predictions {printable(str(each))}: not a folder (or a link)")
        each.mkdir(mode=0o700, parents=True, exist_ok=True)


def _write_private(path: Path, data: bytes, flag: int) -> None:
    """Write `data` to `path` (mode 0600) without following a link at `path`."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | flag, 0o600)
    with os.fdopen(descriptor, "ab" if flag == os.O_APPEND else "wb") as file:
        file.write(data)
