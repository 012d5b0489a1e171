"""`predict`: score a corpus with a trained or published model, resumably, into Parquet;
`JobsPlan` says how to run it on HF Jobs instead."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dexter_autotrain.api.actions import _quiet
from dexter_autotrain.corpus.hf_jobs import JobsPlan
from dexter_autotrain.errors import UserError
from dexter_autotrain.runs import RUNS_ROOT

if TYPE_CHECKING:
    from dexter_autotrain.corpus.local import PredictOptions, PredictSummary, RowsProgress
    from dexter_autotrain.corpus.reading import Corpus
    from dexter_autotrain.hub.retry import Report
    from dexter_autotrain.serve.model import ServedModel


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
    engine: str = "local",
    replicas: int = 1,
    rows: tuple[int, int | None] | None = None,
    jobs: JobsPlan | None = None,
    runs_dir: str | Path = RUNS_ROOT,
    report: Report = _quiet,
    progress: RowsProgress | None = None,
) -> PredictSummary:
    """Score every row of a corpus and write the predictions as Parquet part files, one a
    shard, in `output`; run again with the same arguments, it resumes where a killed run
    stopped (the done shards are skipped, at most the shard in flight is redone).

    Args:
        model: a run (path, JOB/RUN-ID, run id or job name), a model folder, or
            `hub:ORG/NAME@REV` (pinned to the commit REV names).
        source: the corpus (`--input`): CSV, TSV, JSONL or Parquet, as a file, a folder or
            a glob, or a Hub dataset `hf://datasets/ORG/NAME[@REV][/PATH]` (read at the
            commit REV names). For an image model: a folder of images, or an image-csv
            whose `image` column holds paths relative to it.
        output: the folder for the part files, their rejects and the manifest; or
            `hf://datasets/ORG/NAME[/PATH]`: a private dataset (in a namespace the operator
            allows) the finished folder is uploaded to in one commit.
        text_columns: the text column(s), joined as the model was trained (default: the
            model's own, else `text`).
        id_columns: columns passed through beside each prediction.
        top_k: classes kept per row (1: the label and its score).
        shard_rows: rows a shard holds (the unit of resume).
        precision: `float32`, or `auto` (bfloat16 where the hardware has it; close calls
            re-scored in float32, so the labels are float32's).
        engine: `local` (this process), or `ray`: a Ray Data pipeline on the cluster the
            operator names (`ray_address`), else on a local Ray instance; the same files.
        replicas: model replicas of the Ray engine's actor pool.
        rows: only the input's rows [first, end) (end None: to the last).
        jobs: run on HF Jobs instead (`JobsPlan`: how many, which flavor and image, the
            timeout); `output` must then be a Hub dataset. The cost is shown through
            `report` and held to the operator's run cap before anything starts.
        runs_dir: where runs live (and published models and Hub datasets are cached).
        report: lines about downloads, uploads and retries.
        progress: told the rows in all, then each window's rows (the CLI's progress bar).

    Returns:
        `PredictSummary`: rows read, scored and rejected, the part files, rows/s, and the
        Hub commit when the output went to the Hub.

    Raises:
        [`UserError`]: no such model or input, an unreadable file, an output folder that
            holds another prediction, or a Hub output outside the allowed namespaces.

    Example:
        ```python
        >>> predict("narrative", "crawl/2026-12-07/*.jsonl", "scored/2026-12-07",
        ...         id_columns=["id"]).scored
        48211
        ```
    """
    from dexter_autotrain.corpus import hub
    from dexter_autotrain.corpus.local import PredictOptions, predict_corpus

    runs = Path(runs_dir)
    target = hub.HubDatasetRef.named(str(output), "--output")
    if jobs is not None and target is None:
        raise UserError("--backend hf-jobs: --output must be hf://datasets/ORG/NAME[/PATH]")
    if target is not None:
        _check_namespace(target.repo_id)
    folder = hub.output_folder(target, runs) if target else Path(output)
    served, corpus = _model_and_corpus(model, str(source), runs, report)
    options = PredictOptions(
        tuple(text_columns), tuple(id_columns), top_k, shard_rows, precision=precision, rows=rows
    )
    if jobs is not None and target is not None:  # (target is set where jobs are: see above)
        from dexter_autotrain.corpus.hf_jobs import predict_on_jobs

        return predict_on_jobs(served, corpus, target, options, jobs, folder, report)
    if engine == "ray":
        summary = _on_ray(served, corpus, folder, options, replicas)
    else:
        summary = predict_corpus(served, corpus, folder, options, progress)
    if target is not None:
        summary.commit = hub.push_predictions(target, folder, served.name, report)
        summary.output = str(target)
    return summary


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
    (the reason) and `row` (its number) instead. Nothing is written.

    Example:
        ```python
        >>> next(iter_predictions("narrative", "tweets.tsv", id_columns=["id"]))
        {'id': 1, 'label': 'neutral', 'score': 0.91}
        ```
    """
    from dexter_autotrain.corpus.local import PredictOptions, predictions

    served, corpus = _model_and_corpus(model, str(source), Path(runs_dir), _quiet)
    options = PredictOptions(tuple(text_columns), tuple(id_columns), top_k)
    yield from predictions(served, corpus, options)


def _model_and_corpus(
    model: str, source: str, runs_dir: Path, report: Report
) -> tuple[ServedModel, Corpus]:
    """The model (its task says what the input holds: texts or images) and the input."""
    from dexter_autotrain.corpus import hub
    from dexter_autotrain.corpus.reading import open_corpus
    from dexter_autotrain.serve.model import resolve_model
    from dexter_autotrain.tasks import get_task

    source_ref = hub.HubDatasetRef.named(source, "--input")
    served = resolve_model(model, runs_dir, report)
    images = get_task(served.task).reads_images
    if source_ref is not None:
        return served, hub.pull_corpus(source_ref, runs_dir, images, report)
    return served, open_corpus(source, images)


def _on_ray(
    served: ServedModel, corpus: Corpus, folder: Path, options: PredictOptions, replicas: int
) -> PredictSummary:
    from dexter_autotrain.policy.operator import OperatorPolicy

    try:
        from dexter_autotrain.corpus.ray_engine import predict_with_ray
    except ImportError:
        raise UserError(
            "--engine ray: Ray is not installed; pip install 'dexter-autotrain[ray]'"
        ) from None
    address = OperatorPolicy.load().ray_address
    return predict_with_ray(served, corpus, folder, options, address, replicas)


def _check_namespace(repo_id: str) -> None:
    from dexter_autotrain.policy.operator import OperatorPolicy, require

    policy = OperatorPolicy.load()
    require("--output", policy.staging_problem(repo_id, None, "predictions"))
