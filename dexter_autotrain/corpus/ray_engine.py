"""`predict --engine ray`: the same prediction as a Ray Data pipeline. The input is read by
Ray's readers (`read_text` for JSONL, so a bad line is a reject, `read_csv`, `read_parquet`,
or a list of image files), scored by `map_batches` on an actor pool of model replicas (each
the local engine's `Scoring`, so the labels are the same), and written by a datasink as the
local engine's part files and rejects, with the same provenance and manifest.

A Ray cluster (Anyscale, KubeRay) scores with as many replicas as it has room for; its
address is operator configuration (`ray_address`), never an argument a job could steer.
Without one, a local Ray instance is started for this machine, with a small object store
(`/dev/shm` is small in containers). The replicas load the model from its folder, which
must therefore be readable from every node of a cluster (a shared filesystem).

A run is not resumed shard by shard: Ray retries a failed task itself, and a killed run is
started again into an empty folder (a finished one is recognised by its manifest).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ray.data import DataContext, Datasink
from ray.data.datasource.datasink import WriteResult

from dexter_autotrain.corpus.local import (
    PredictOptions,
    PredictSummary,
    Scoring,
    asked_of,
    prediction_provenance,
    with_reason,
)
from dexter_autotrain.corpus.manifest import Manifest, ShardDone
from dexter_autotrain.corpus.parts import part_name, rejects_name, write_part, write_rejects
from dexter_autotrain.corpus.reading import FORMATS, IMAGE_COLUMN, IMAGE_FILE, Corpus, Row
from dexter_autotrain.errors import UserError
from dexter_autotrain.policy.spec_paths import snippet
from dexter_autotrain.serve.model import ServedModel

LOCAL_OBJECT_STORE = 256 * 1024**2
"""The object store of a local Ray instance: batches of rows pass through it, not models."""
RECORD = "record"
"""The one column a replica returns: each output row as JSON (rows and rejects differ in
their columns, and Ray would have to unify the blocks' schemas)."""
SOURCE_FILE = "path"
"""The column `read_csv(include_paths=True)` adds: an image-csv's paths are relative to it."""
IMAGE_BASE = "_base"
"""An image folder's row: the folder its path is relative to."""


def predict_with_ray(
    served: ServedModel,
    corpus: Corpus,
    output: Path,
    options: PredictOptions,
    address: str | None,
    replicas: int,
) -> PredictSummary:
    """Score `corpus` into `output` on Ray (a local instance when `address` is None).

    Raises:
        [`UserError`]: `output` holds another prediction, or an unfinished one; or a row
            range was asked.
    """
    if options.rows is not None:
        raise UserError("--rows: the local engine scores a range of rows; Ray scores them all")
    asked = asked_of(served, corpus, options, options.window_rows, engine="ray")
    manifest = Manifest.open(output, asked)
    summary = PredictSummary(output, served.name, served.revision)
    if manifest.shards:
        return _summarised(summary, manifest, resumed=True)
    started = time.monotonic()
    _connect(address)
    DataContext.get_current().execution_options.preserve_order = True  # parts in input order
    sink = _PartsSink(output, prediction_provenance(asked, corpus))
    scored = _dataset(corpus, [*asked.id_columns, *asked.text_columns]).map_batches(
        _Replica,
        fn_constructor_kwargs={
            "served": served,
            "options": options,
            "threads": _threads(replicas),
            "jsonl": _is_jsonl(corpus),
        },
        batch_size=options.window_rows,
        batch_format="pyarrow",
        concurrency=replicas,
        num_cpus=1,
        num_gpus=1 if _has_gpus() else 0,
    )
    output.mkdir(parents=True, exist_ok=True)
    scored.write_datasink(sink)
    manifest.shards = dict(enumerate(sink.done))
    manifest.save(output)
    _summarised(summary, manifest, resumed=False)
    summary.seconds = time.monotonic() - started
    return summary


def _summarised(summary: PredictSummary, manifest: Manifest, resumed: bool) -> PredictSummary:
    for done in manifest.shards.values():
        summary.add(done)
    if resumed:
        summary.resumed, summary.resumed_rows = summary.shards, summary.rows
    return summary


def _connect(address: str | None) -> None:
    """Ray started (or joined) for this process, its progress logs off: `predict` reports."""
    import ray

    logging.getLogger("ray.data").setLevel(logging.ERROR)
    DataContext.get_current().enable_progress_bars = False
    if ray.is_initialized():
        return
    if address:
        ray.init(address=address, log_to_driver=False)
        return
    ray.init(
        num_cpus=os.cpu_count(),
        object_store_memory=LOCAL_OBJECT_STORE,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
    )


def _is_jsonl(corpus: Corpus) -> bool:
    return corpus.image_folder is None and corpus.files[0].suffix.lower() == ".jsonl"


def _has_gpus() -> bool:
    import ray

    return ray.cluster_resources().get("GPU", 0) > 0


def _threads(replicas: int) -> int:
    """Torch threads a replica uses: this machine's cores shared among the replicas (on a
    cluster, each node's own count applies as each replica starts)."""
    return max(1, (os.cpu_count() or 1) // replicas)


def _dataset(corpus: Corpus, columns: list[str]) -> Any:
    import ray.data

    if corpus.image_folder is not None:
        folder = corpus.image_folder
        return ray.data.from_items(
            [
                {IMAGE_COLUMN: f.relative_to(folder).as_posix(), IMAGE_BASE: str(folder)}
                for f in corpus.files
            ]
        )
    paths = [str(file) for file in corpus.files]
    kind = {FORMATS[file.suffix.lower()] for file in corpus.files}
    if len(kind) > 1:
        raise UserError(f"--engine ray: one format at a time (the input mixes {sorted(kind)})")
    match kind.pop():
        case "jsonl":
            return ray.data.read_text(paths)
        case "parquet":
            return ray.data.read_parquet(paths)
        case delimited:
            return _read_delimited(paths, delimited, columns)


def _read_delimited(paths: list[str], kind: str, columns: list[str]) -> Any:
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import ray.data

    return ray.data.read_csv(
        paths,
        parse_options=pacsv.ParseOptions(
            delimiter="\t" if kind == "tsv" else ",", newlines_in_values=True
        ),
        convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(columns, pa.string())),
        include_paths=IMAGE_COLUMN in columns,
    )


class _Replica:
    """One model replica of the actor pool: a batch of input rows in, their output rows
    (predictions and rejects, in order) out, as JSON in the `RECORD` column."""

    def __init__(self, served: ServedModel, options: PredictOptions, threads: int, jsonl: bool):
        import torch

        torch.set_num_threads(threads)
        self.scoring = Scoring.load(served, options)
        self.columns = [*self.scoring.ids, *self.scoring.texts]
        self.jsonl = jsonl

    def __call__(self, batch: Any) -> Any:
        import pyarrow as pa

        rows = [self._row(values) for values in batch.to_pylist()]
        records = [r for window in self.scoring.windows(iter(rows), None) for r in window]
        return pa.table({RECORD: [json.dumps(r, default=str) for r in records]})

    def _row(self, values: dict[str, Any]) -> Row:
        from dexter_autotrain.corpus.reading import image_file, jsonl_row

        if self.jsonl:  # a line, as read_text gives it
            line = values["text"]
            return jsonl_row(line, self.columns, f"the JSONL line {snippet(line)}")
        row = {column: values.get(column) for column in self.columns}
        if IMAGE_BASE in values:
            row[IMAGE_FILE] = image_file(row[IMAGE_COLUMN], Path(values[IMAGE_BASE]))
        elif SOURCE_FILE in values and IMAGE_COLUMN in self.columns:
            base = Path(values[SOURCE_FILE]).parent.resolve()
            row[IMAGE_FILE] = image_file(row[IMAGE_COLUMN], base)
        return row, None


class _PartsSink(Datasink[ShardDone]):
    """Writes each write task's rows as one part file and its rejects (the local engine's
    files), and collects what each wrote for the manifest (on the driver)."""

    def __init__(self, output: Path, provenance: dict[str, Any]):
        self.output, self.provenance = output, provenance
        self.done: list[ShardDone] = []

    def on_write_complete(self, write_result: WriteResult[ShardDone]) -> None:
        self.done = sorted(write_result.write_returns, key=lambda d: d.part or d.rejects or "")

    def write(self, blocks: Iterable[Any], ctx: Any) -> ShardDone:
        records = [json.loads(v) for block in blocks for v in block.column(RECORD).to_pylist()]
        scored = [r for r in records if "rejected" not in r]
        rejects = [with_reason(r) for r in records if "rejected" in r]
        index = ctx.task_idx
        if scored:
            write_part(self.output / part_name(index), scored, self.provenance)
        if rejects:
            write_rejects(self.output / rejects_name(index), rejects)
        return ShardDone(
            rows=len(records),
            scored=len(scored),
            rejected=len(rejects),
            part=part_name(index) if scored else None,
            rejects=rejects_name(index) if rejects else None,
        )
