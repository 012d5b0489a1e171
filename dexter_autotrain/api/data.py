"""A job's data without training: check it, and bring reviewed predictions back into it.

Example:
    ```python
    >>> from dexter_autotrain import api
    >>> report = api.check_data("jobs/narrative.yaml")
    >>> report.splits["train"].rows
    1200
    ```
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from dexter_autotrain.system.files import write_atomically

if TYPE_CHECKING:
    from dexter_autotrain.data.report import DataReport
    from dexter_autotrain.experiments.feedback import ImportReport

__all__ = ["check_data", "import_feedback", "spec_of_job"]

DATA_REPORT_FILE = "data-report.json"


def check_data(
    spec_path: str | Path,
    output_dir: str | Path | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> DataReport:
    """Read, check, split and fingerprint the data of a job spec: rows per split, language
    and label, overlaps between splits, lengths, sha256 of every input and output.

    Args:
        spec_path: the job spec.
        output_dir: also write the prepared splits (`data/`) and `data-report.json` here.
        progress: one line per step.

    Returns:
        `DataReport` (`.to_dict()` is `data-report.json`; `.warnings` what to look at).

    Raises:
        [`UserError`]: a bad spec, or data with errors (nothing written).
    """
    from dexter_autotrain.data import prepare_data
    from dexter_autotrain.spec import load_spec

    folder = None if output_dir is None else Path(output_dir)
    report = prepare_data(
        load_spec(Path(spec_path)), None if folder is None else folder / "data", progress
    )
    if folder is not None:
        text = json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"
        write_atomically(folder / DATA_REPORT_FILE, text)
    return report


def spec_of_job(job: str | Path) -> Path:
    """A job's spec file: `job` itself when it is a path, else `jobs/<job>.yaml` at the
    project's top (found from any subdirectory)."""
    from dexter_autotrain.spec.job_names import job_spec_path

    return job_spec_path(job)


def import_feedback(
    file: str | Path,
    job: str | Path,
    language: str | None = None,
    out_dir: str | Path = "data/feedback",
) -> ImportReport:
    """Import reviewed predictions (what `serve --log-predictions` writes, each reviewed row
    with its correct `label`; or a CSV, TSV or JSONL of text,label[,language]) as a data
    source the job can add to its spec.

    Args:
        file: the reviewed rows.
        job: the job's spec, or its name under `jobs/`.
        language: the language of rows that do not say.
        out_dir: where imported files go, under a folder per job.

    Returns:
        `ImportReport`: counts, labels, languages, the files written and the lines to add
        under the spec's `data.sources`.

    Raises:
        [`UserError`]: an unreadable row, an unknown label, or rows leaked from the job's
            test or validation split (nothing written).

    Example:
        ```python
        >>> import_feedback("reviewed.jsonl", "narrative").imported
        42
        ```
    """
    from dexter_autotrain.experiments.feedback import import_feedback as import_rows
    from dexter_autotrain.spec import load_spec

    return import_rows(load_spec(spec_of_job(job)), Path(file), language, Path(out_dir))
