"""The local engine of `predict`: the input streamed through in shards, each scored by the
evaluation's predictor in windows of rows (sorted by length inside a window, as the
evaluate stage batches) and written as one part file; the manifest records each finished
shard, so a resumed run skips it."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from dexter_autotrain import __version__
from dexter_autotrain.corpus.manifest import Asked, Manifest, ShardDone
from dexter_autotrain.corpus.parts import (
    part_name,
    prediction_fields,
    rejects_name,
    write_part,
    write_rejects,
)
from dexter_autotrain.corpus.reading import IMAGE_COLUMN, IMAGE_FILE, Corpus, Row
from dexter_autotrain.runs import now
from dexter_autotrain.serve.model import ServedModel
from dexter_autotrain.serve.protocol import Query
from dexter_autotrain.tasks import get_task
from dexter_autotrain.tasks.text_join import join_text


class RowsProgress(Protocol):
    """What shows a prediction's progress (the CLI's bar, or a line every 30 s)."""

    def start(self, total: int | None, done: int) -> None:
        """`total` rows in all (None: unknown), `done` of them by a previous run."""

    def advance(self, rows: int) -> None:
        """`rows` more rows scored or rejected."""


class NoProgress:
    """Progress shown nowhere."""

    def start(self, total: int | None, done: int) -> None:
        return None

    def advance(self, rows: int) -> None:
        return None


@dataclass(frozen=True)
class PredictOptions:
    """How to read and score a corpus.

    Attributes:
        text_columns: the input's text column(s), joined as the model was trained (default:
            the model's own, else `text`). An image model reads the `image` column.
        id_columns: columns passed through to the output beside each prediction.
        top_k: classes kept per row (1: the label and its score only).
        shard_rows: rows a shard (a part file, the unit of resume) holds.
        window_rows: rows sorted by length and batched together (images are read a window
            at a time, so this bounds the memory they take).
        precision: `float32`, or `auto` (bfloat16 where the hardware has it, close calls
            re-scored in float32, so the labels are float32's).
        rows: only the input's rows from the first number up to (not including) the second
            (None: all); an HF Job of several scores its own range.
    """

    text_columns: tuple[str, ...] = ()
    id_columns: tuple[str, ...] = ()
    top_k: int = 1
    shard_rows: int = 10_000
    window_rows: int = 1_024
    precision: str = "float32"
    rows: tuple[int, int | None] | None = None


@dataclass
class PredictSummary:
    """What a prediction did (`predict --json` prints it).

    Attributes:
        output: the folder of part files (or the Hub dataset they were uploaded to).
        rows / scored / rejected: rows read, scored, and rejected (each with its reason in
            a `rejects-*.jsonl`).
        shards: part files in all; resumed: those a previous run had finished.
        seconds: this run's time; model / revision: what scored.
        commit: the Hub commit holding the output, when it went to the Hub.
    """

    output: Path | str
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
    commit: str | None = None

    @property
    def rows_per_second(self) -> float:
        """Rows this run read a second (resumed shards not counted)."""
        new_rows = self.rows - self.resumed_rows
        return new_rows / self.seconds if self.seconds else 0.0

    def add(self, done: ShardDone, folder: str = "") -> None:
        """Count a finished shard in (its part file named under `folder` when given)."""
        self.rows += done.rows
        self.scored += done.scored
        self.rejected += done.rejected
        self.shards += 1
        self.parts += [f"{folder}/{done.part}" if folder else done.part] if done.part else []

    def to_json(self) -> dict[str, Any]:
        shown = {k: v for k, v in vars(self).items() if k != "output"}
        return {"output": str(self.output), **shown, "rows_per_second": self.rows_per_second}


@dataclass(frozen=True)
class Scoring:
    """A prediction's model, its inputs' columns and how rows become model inputs."""

    engine: Any
    task: str
    texts: list[str]
    ids: list[str]
    options: PredictOptions

    @classmethod
    def load(cls, served: ServedModel, options: PredictOptions) -> Scoring:
        """The model loaded (once: a Ray replica calls this in its actor), its columns."""
        from dexter_autotrain.serve.engine import Engine

        texts, ids = input_columns(served, options)
        return cls(Engine(served, options.precision), served.task, texts, ids, options)

    def read(self, corpus: Corpus) -> Iterator[Row]:
        """The corpus's rows, as far as this prediction reads them (ids and inputs)."""
        return corpus.rows([*self.ids, *self.texts], self.texts)

    def windows(self, rows: Iterator[Row], first: int | None = 0) -> Iterator[list[dict[str, Any]]]:
        """Each window of `rows` as output records in input order: the ids and the
        prediction, or (for a reject) the ids, `rejected` and the row's number counted from
        `first` (None: no number; a Ray batch does not know where it starts)."""
        for start, window in enumerate(_chunks(rows, self.options.window_rows)):
            offset = None if first is None else first + start * self.options.window_rows
            inputs = [model_input(row, problem, self.texts) for row, problem in window]
            kept = [value for value, reason in inputs if not reason]
            answers = iter(self._answer(kept) if kept else [])
            records = []
            for position, ((row, _), (_, reason)) in enumerate(zip(window, inputs, strict=True)):
                shown = {column: row.get(column) for column in self.ids}
                if reason:
                    number = {} if offset is None else {"row": offset + position}
                    records.append(shown | number | {"rejected": reason})
                else:
                    fields = prediction_fields(next(answers), self.task, self.options.top_k)
                    records.append(shown | fields)
            yield records

    def _answer(self, inputs: list[Any]) -> list[Any]:
        query = Query(inputs, single=False, top_k=self.options.top_k)
        return self.engine.answer([query])[0]


def input_columns(served: ServedModel, options: PredictOptions) -> tuple[list[str], list[str]]:
    """The columns a row's model input comes from (the text columns asked, else the model's
    own, else `text`; `image` for an image model), and those passed through (an image
    row's path among them)."""
    if get_task(served.task).reads_images:
        extra = [] if IMAGE_COLUMN in options.id_columns else [IMAGE_COLUMN]
        return [IMAGE_COLUMN], [*options.id_columns, *extra]
    return list(options.text_columns or served.text_columns or ("text",)), list(options.id_columns)


def asked_of(
    served: ServedModel,
    corpus: Corpus,
    options: PredictOptions,
    shard_rows: int,
    engine: str = "local",
) -> Asked:
    """What a prediction is of, as its manifest records it (a resume must ask the same)."""
    texts, ids = input_columns(served, options)
    return Asked(
        model=served.name,
        revision=served.revision,
        task=served.task,
        input=corpus.fingerprint,
        text_columns=texts,
        id_columns=ids,
        top_k=options.top_k,
        shard_rows=shard_rows,
        engine=engine,
        rows=list(options.rows) if options.rows else None,
    )


def model_input(row: dict[str, Any], problem: str | None, texts: list[str]) -> tuple[Any, str]:
    """What the model reads of `row` (its text, joined, or its image's bytes), or why it
    cannot be scored (the second item; empty when it can)."""
    if problem:
        return None, problem
    if texts == [IMAGE_COLUMN] and IMAGE_FILE in row:
        return _image(row)
    missing = [column for column in texts if row.get(column) is None]
    if len(missing) == len(texts):
        return None, f"no `{missing[0]}` value (missing column, or null)"
    text = join_text(row[c] for c in texts if row.get(c) is not None)
    return (text, "") if text else (None, "empty text")


def _image(row: dict[str, Any]) -> tuple[bytes | None, str]:
    from dexter_autotrain.serve.images import ImageRefused, checked_image

    if not row.get(IMAGE_COLUMN):
        return None, f"no `{IMAGE_COLUMN}` value (missing column, or null)"
    file = row[IMAGE_FILE]
    if file is None:
        return None, "the image path leaves the input's folder"
    try:
        data = file.read_bytes()
        checked_image(data)
    except OSError as error:
        return None, f"cannot read the image ({error.strerror or error})"
    except ImageRefused as error:
        return None, str(error)
    return data, ""


def predict_corpus(
    served: ServedModel,
    corpus: Corpus,
    output: Path,
    options: PredictOptions,
    progress: RowsProgress | None = None,
) -> PredictSummary:
    """Score every row of `corpus` into `output`, resuming what a killed run left there."""
    asked = asked_of(served, corpus, options, options.shard_rows)
    manifest = Manifest.open(output, asked)  # a refused folder costs no model load
    scoring = Scoring.load(served, options)
    output.mkdir(parents=True, exist_ok=True)
    summary = PredictSummary(output, served.name, served.revision)
    progress = progress or NoProgress()
    first, last = options.rows or (0, None)
    progress.start(_in_range(corpus.count(), first, last), manifest.done_rows)
    provenance = prediction_provenance(asked, corpus)
    started = time.monotonic()
    rows = itertools.islice(scoring.read(corpus), first, last)
    for index, shard in enumerate(_chunks(rows, options.shard_rows)):
        done = manifest.shards.get(index)
        if done is None:
            start = first + index * options.shard_rows
            done = _score(scoring, shard, (index, start), output, provenance, progress)
            manifest.shards[index] = done
            manifest.save(output)
        else:
            summary.resumed += 1
            summary.resumed_rows += done.rows
        summary.add(done)
    manifest.save(output)
    summary.seconds = time.monotonic() - started
    return summary


def predictions(
    served: ServedModel, corpus: Corpus, options: PredictOptions
) -> Iterator[dict[str, Any]]:
    """Each row's ids and prediction (or `rejected`: why not, and `row`: its number), in
    input order, scored a window of rows at a time; nothing written."""
    scoring = Scoring.load(served, options)
    for records in scoring.windows(scoring.read(corpus)):
        yield from records


def _chunks(rows: Iterator[Row], size: int) -> Iterator[list[Row]]:
    while chunk := list(itertools.islice(rows, size)):
        yield chunk


def _in_range(count: int | None, first: int, last: int | None) -> int | None:
    if count is None:
        return None
    return max(0, min(count, last if last is not None else count) - first)


def _score(
    scoring: Scoring,
    shard: list[Row],
    at: tuple[int, int],
    output: Path,
    provenance: dict[str, Any],
    progress: RowsProgress,
) -> ShardDone:
    """One shard (its index, and its first row's number in the input), scored window by
    window and written as a part file and its rejects."""
    index, first = at
    records, rejects = [], []
    for window in scoring.windows(iter(shard), first=first):
        for record in window:
            (rejects if "rejected" in record else records).append(record)
        progress.advance(len(window))
    part = rejected = None
    if records:
        write_part(output / part_name(index), records, provenance)
        part = part_name(index)
    if rejects:
        write_rejects(output / rejects_name(index), [with_reason(r) for r in rejects])
        rejected = rejects_name(index)
    return ShardDone(
        rows=len(shard), scored=len(records), rejected=len(rejects), part=part, rejects=rejected
    )


def with_reason(reject: dict[str, Any]) -> dict[str, Any]:
    """A reject as its rejects file holds it: the ids, `row`, then `reason`."""
    kept = {key: value for key, value in reject.items() if key != "rejected"}
    return kept | {"reason": reject["rejected"]}


def prediction_provenance(asked: Asked, corpus: Corpus) -> dict[str, Any]:
    return {
        "model": asked.model,
        "revision": asked.revision,
        "task": asked.task,
        "toolkit": f"dexter-autotrain {__version__}",
        "input": corpus.shown,
        "input_fingerprint": asked.input,
        "text_columns": asked.text_columns,
        "created": now(),
    }
