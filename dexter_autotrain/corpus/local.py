"""The local engine of `predict`: the input streamed through in shards, each scored by the
evaluation's predictor in windows of rows (sorted by length inside a window, as the
evaluate stage batches) and written as one part file; the manifest records each finished
shard, so a resumed run skips it."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dexter_autotrain import __version__
from dexter_autotrain.corpus.manifest import Asked, Manifest, ShardDone
from dexter_autotrain.corpus.parts import (
    part_name,
    prediction_fields,
    rejects_name,
    write_part,
    write_rejects,
)
from dexter_autotrain.corpus.reading import Row, fingerprint, read_rows
from dexter_autotrain.errors import UserError
from dexter_autotrain.serve.model import ServedModel
from dexter_autotrain.serve.protocol import Query
from dexter_autotrain.tasks import get_task
from dexter_autotrain.tasks.text_join import join_text

Report = Callable[[str], None]


@dataclass(frozen=True)
class PredictOptions:
    """How to read and score a corpus.

    Attributes:
        text_columns: the input's text column(s), joined as the model was trained (default:
            the model's own, else `text`).
        id_columns: columns passed through to the output beside each prediction.
        top_k: classes kept per row (1: the label and its score only).
        shard_rows: rows a shard (a part file, the unit of resume) holds.
        window_rows: rows sorted by length and batched together.
        precision: `float32`, or `auto` (bfloat16 where the hardware has it, close calls
            re-scored in float32, so the labels are float32's).
    """

    text_columns: tuple[str, ...] = ()
    id_columns: tuple[str, ...] = ()
    top_k: int = 1
    shard_rows: int = 10_000
    window_rows: int = 1_024
    precision: str = "float32"


@dataclass
class PredictSummary:
    """What a prediction did (`predict --json` prints it).

    Attributes:
        output: the folder of part files.
        rows / scored / rejected: rows read, scored, and rejected (each with its reason in
            a `rejects-*.jsonl`).
        shards: part files in all; resumed: those a previous run had finished.
        seconds: this run's time; model / revision: what scored.
    """

    output: Path
    model: str
    revision: str | None
    rows: int = 0
    scored: int = 0
    rejected: int = 0
    shards: int = 0
    resumed: int = 0
    resumed_rows: int = 0
    seconds: float = 0.0
    parts: list[str] = field(default_factory=list)

    @property
    def rows_per_second(self) -> float:
        """Rows this run read a second (resumed shards not counted)."""
        new_rows = self.rows - self.resumed_rows
        return new_rows / self.seconds if self.seconds else 0.0

    def to_json(self) -> dict[str, Any]:
        shown = {k: v for k, v in vars(self).items() if k != "output"}
        return {"output": str(self.output), **shown, "rows_per_second": self.rows_per_second}


def predict_corpus(
    served: ServedModel, files: list[Path], output: Path, options: PredictOptions, report: Report
) -> PredictSummary:
    """Score every row of `files` into `output`, resuming what a killed run left there."""
    from dexter_autotrain.serve.engine import Engine

    texts = _text_columns(served, options)
    asked = Asked(
        model=served.name,
        revision=served.revision,
        task=served.task,
        input=fingerprint(files),
        text_columns=texts,
        id_columns=list(options.id_columns),
        top_k=options.top_k,
        shard_rows=options.shard_rows,
    )
    manifest = Manifest.open(output, asked)
    output.mkdir(parents=True, exist_ok=True)
    summary = PredictSummary(output, served.name, served.revision)
    engine = Engine(served, options.precision)
    provenance = _provenance(asked)
    started = time.monotonic()
    rows = read_rows(files, [*options.id_columns, *texts], texts)
    for index, shard in enumerate(_shards(rows, options.shard_rows)):
        done = manifest.shards.get(index)
        if done is None:
            done = _score(engine, shard, index, output, asked, options, provenance)
            manifest.shards[index] = done
            manifest.save(output)
        else:
            summary.resumed += 1
            summary.resumed_rows += done.rows
        _add(summary, done, time.monotonic() - started)
        report(_progress_line(summary, index))
    manifest.save(output)
    return summary


def predictions(
    served: ServedModel, files: list[Path], options: PredictOptions
) -> Iterator[dict[str, Any]]:
    """Each row's ids and prediction (or `rejected`: why not), in input order, scored a
    window of rows at a time; nothing written."""
    from dexter_autotrain.serve.engine import Engine

    texts = _text_columns(served, options)
    ids = list(options.id_columns)
    engine = Engine(served, options.precision)
    for window in _shards(read_rows(files, [*ids, *texts], texts), options.window_rows):
        kept, rejects = checked_rows(window, texts, ids)
        answers = iter(score_texts(engine, [text for _, text in kept], options))
        reasons = {reject["row"]: reject["reason"] for reject in rejects}
        for position, (row, _) in enumerate(window):
            shown = {column: row[column] for column in ids}
            if position in reasons:
                yield shown | {"rejected": reasons[position]}
            else:
                yield shown | prediction_fields(next(answers), served.task, options.top_k)


def _text_columns(served: ServedModel, options: PredictOptions) -> list[str]:
    """The columns a row's text comes from: those asked, else the model's own, else `text`."""
    if get_task(served.task).reads_images:
        raise UserError("predict: image models are not scored by `predict` yet; use `serve`")
    return list(options.text_columns or served.text_columns or ("text",))


def _shards(rows: Iterator[Row], size: int) -> Iterator[list[Row]]:
    while shard := list(itertools.islice(rows, size)):
        yield shard


def _score(
    engine: Any,
    shard: list[Row],
    index: int,
    output: Path,
    asked: Asked,
    options: PredictOptions,
    provenance: dict[str, Any],
) -> ShardDone:
    """One shard: its rows checked, the good ones scored window by window, written."""
    kept, rejects = checked_rows(shard, asked.text_columns, asked.id_columns)
    for reject in rejects:
        reject["row"] += index * asked.shard_rows
    answers = score_texts(engine, [text for _, text in kept], options)
    records = [
        {
            **{c: row[c] for c in asked.id_columns},
            **prediction_fields(answer, asked.task, asked.top_k),
        }
        for (row, _), answer in zip(kept, answers, strict=True)
    ]
    part = rejected = None
    if kept:
        write_part(output / part_name(index), records, provenance)
        part = part_name(index)
    if rejects:
        write_rejects(output / rejects_name(index), rejects)
        rejected = rejects_name(index)
    return ShardDone(
        rows=len(shard), scored=len(kept), rejected=len(rejects), part=part, rejects=rejected
    )


def checked_rows(
    rows: list[Row], text_columns: list[str], id_columns: list[str]
) -> tuple[list[tuple[dict[str, Any], str]], list[dict[str, Any]]]:
    """The rows that can be scored, each with its text (joined when several columns), and
    the others as rejects: their ids, their position in `rows` and the reason."""
    kept, rejects = [], []
    for position, (row, problem) in enumerate(rows):
        text = join_text(row[c] for c in text_columns if row[c] is not None)
        reason = problem or _missing(row, text_columns) or ("" if text else "empty text")
        if reason:
            ids = {column: row[column] for column in id_columns}
            rejects.append({**ids, "row": position, "reason": reason})
        else:
            kept.append((row, text))
    return kept, rejects


def score_texts(engine: Any, texts: list[str], options: PredictOptions) -> list[Any]:
    """Each text's answer (classes best first, or entities), a window of rows at a time."""
    answers: list[Any] = []
    for start in range(0, len(texts), options.window_rows):
        window = texts[start : start + options.window_rows]
        answers += engine.answer([Query(window, single=False, top_k=options.top_k)])[0]
    return answers


def _missing(row: dict[str, Any], columns: list[str]) -> str:
    absent = [column for column in columns if row[column] is None]
    return (
        f"no `{absent[0]}` value (missing column, or null)" if len(absent) == len(columns) else ""
    )


def _provenance(asked: Asked) -> dict[str, Any]:
    return {
        "model": asked.model,
        "revision": asked.revision,
        "task": asked.task,
        "toolkit": f"dexter-autotrain {__version__}",
        "input": asked.input,
        "text_columns": asked.text_columns,
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def _add(summary: PredictSummary, done: ShardDone, seconds: float) -> None:
    summary.rows += done.rows
    summary.scored += done.scored
    summary.rejected += done.rejected
    summary.shards += 1
    summary.seconds = seconds
    summary.parts += [done.part] if done.part else []


def _progress_line(summary: PredictSummary, index: int) -> str:
    return (
        f"predict: shard {index} done: {summary.rows:,} rows ({summary.rejected:,} rejected), "
        f"{summary.rows_per_second:,.0f} rows/s"
    )
