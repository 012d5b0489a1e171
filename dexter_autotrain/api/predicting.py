"""`predict`: score a corpus with a trained or published model, resumably, into Parquet."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from dexter_autotrain.runs import RUNS_ROOT

Report = Callable[[str], None]


def _quiet(_line: str) -> None:
    return None


def predict(
    model: str,
    source: str | Path,
    output: str | Path,
    *,
    text_columns: Iterable[str] = (),
    id_columns: Iterable[str] = (),
    top_k: int = 1,
    shard_rows: int = 10_000,
    precision: str = "float32",
    runs_dir: str | Path = RUNS_ROOT,
    report: Report = _quiet,
) -> Any:
    """Score every row of a corpus and write the predictions as Parquet part files, one a
    shard, in `output`; run again with the same arguments, it resumes where a killed run
    stopped (the done shards are skipped, at most the shard in flight is redone).

    Args:
        model: a run (path, JOB/RUN-ID, run id or job name), a model folder, or
            `hub:ORG/NAME@REV` (pinned to the commit REV names).
        source: the corpus (`--input`): CSV, TSV, JSONL or Parquet; a file, a folder or a
            glob.
        output: the folder for the part files, their rejects and the manifest.
        text_columns: the text column(s), joined as the model was trained (default: the
            model's own, else `text`).
        id_columns: columns passed through beside each prediction.
        top_k: classes kept per row (1: the label and its score).
        shard_rows: rows a shard holds (the unit of resume).
        precision: `float32`, or `auto` (bfloat16 where the hardware has it; close calls
            re-scored in float32, so the labels are float32's).
        runs_dir: where runs live (and published models are cached).
        report: a line after each shard (rows, rejects, rows/s).

    Returns:
        `PredictSummary`: rows read, scored and rejected, the part files, rows/s.

    Raises:
        [`UserError`]: no such model or input, an unreadable file, or an output folder that
            holds another prediction.

    Example:
        ```python
        >>> predict("narrative", "crawl/2026-12-07/*.jsonl", "scored/2026-12-07",
        ...         id_columns=["id"]).scored
        48211
        ```
    """
    from dexter_autotrain.corpus.local import PredictOptions, predict_corpus
    from dexter_autotrain.corpus.reading import input_files
    from dexter_autotrain.serve.model import resolve_model

    files = input_files(str(source))
    served = resolve_model(model, Path(runs_dir), report)
    options = PredictOptions(
        tuple(text_columns), tuple(id_columns), top_k, shard_rows, precision=precision
    )
    return predict_corpus(served, files, Path(output), options, report)


def iter_predictions(
    model: str,
    source: str | Path,
    *,
    text_columns: Iterable[str] = (),
    id_columns: Iterable[str] = (),
    top_k: int = 1,
    runs_dir: str | Path = RUNS_ROOT,
) -> Iterator[dict[str, Any]]:
    """The predictions one by one, for callers that want them in memory: each row's ids,
    then `label` and `score` (and `top_k`), or `entities`; a rejected row has `rejected`
    (the reason) instead. Nothing is written.

    Example:
        ```python
        >>> next(iter_predictions("narrative", "tweets.tsv", id_columns=["id"]))
        {'id': 1, 'label': 'neutral', 'score': 0.91}
        ```
    """
    from dexter_autotrain.corpus.local import PredictOptions, predictions
    from dexter_autotrain.corpus.reading import input_files
    from dexter_autotrain.serve.model import resolve_model

    files = input_files(str(source))
    served = resolve_model(model, Path(runs_dir), _quiet)
    options = PredictOptions(tuple(text_columns), tuple(id_columns), top_k)
    yield from predictions(served, files, options)
