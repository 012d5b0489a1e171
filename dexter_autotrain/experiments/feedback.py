"""`feedback import`: reviewed predictions become a training data source of their job.

Input: the JSONL `serve --log-predictions` writes (`input`, `prediction`, ...) with the
reviewer's `label` added to each row they reviewed (rows without one are skipped as
unreviewed), or a CSV, TSV or JSONL file of `text,label[,language]`.

Output: one JSONL file per language under `data/feedback/<job>/`, named by date and content
hash (the same corrections imported twice make the same file), in the job's own column names
plus a `provenance` column, and a report beside them. Rows are checked first, and nothing is
written when any check fails:
- labels must be the job's (did-you-mean), languages the job's;
- a row whose text is in the job's test or validation split (after `data.leakage`'s
  normalisation) is leakage: the whole file is refused, each such row located;
- duplicates within the file, and rows already in the job's training split, are dropped and
  counted.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import tempfile
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dexter_autotrain.data.leakage import normalise
from dexter_autotrain.errors import Problem, UserError
from dexter_autotrain.policy.spec_paths import printable
from dexter_autotrain.spec import LoadedSpec
from dexter_autotrain.spec.rules import did_you_mean
from dexter_autotrain.system.files import write_atomically
from dexter_autotrain.tasks import get_task

FEEDBACK_ROOT = Path("data/feedback")
HELD_OUT = ("test", "validation")


@dataclass(frozen=True)
class FeedbackRow:
    """One reviewed example and where it came from."""

    text: str
    label: str
    language: str
    provenance: str
    line: int


@dataclass
class ImportReport:
    """What an import read, kept, dropped and wrote (`feedback import --json`)."""

    job: str
    source: str
    read: int = 0
    unreviewed: int = 0
    duplicates_in_file: int = 0
    already_in_train: int = 0
    disagreeing_with_train: list[int] = field(default_factory=list)
    """Lines of rows already in training under another label: fix the training data itself."""
    imported: int = 0
    labels: dict[str, int] = field(default_factory=dict)
    languages: dict[str, int] = field(default_factory=dict)
    written: list[str] = field(default_factory=list)
    spec_sources: str = ""
    """The lines to add under the spec's `data.sources` to train on the imported rows."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def import_feedback(
    loaded: LoadedSpec,
    path: Path,
    language: str | None = None,
    out_root: Path = FEEDBACK_ROOT,
) -> ImportReport:
    """Check the reviewed rows in `path` against the job and write them as its data source.

    Raises:
        [`UserError`]: a job that is not text classification, an unreadable row, an unknown
            label or language, or rows leaked from the job's test or validation split
            (nothing is written then).

    Example:
        ```python
        >>> report = import_feedback(load_spec(Path("jobs/narrative.yaml")), Path("reviewed.jsonl"))
        >>> report.imported, report.written
        (42, ['data/feedback/narrative/20261126-3f2a9c1b-pcm.jsonl'])
        ```
    """
    spec = loaded.spec
    if get_task(spec.task).input_kind != "text":
        raise UserError(
            f"{spec.name}: feedback import takes text-classification jobs (a text and a "
            f"label per example); this job is {spec.task}"
        )
    report = ImportReport(job=spec.name, source=str(path))
    rows, report.read, report.unreviewed = read_feedback(path, language, spec.languages)
    splits = _job_splits(loaded)
    _check_labels(rows, path, spec.data.labels or sorted(set(splits["train"].values())))
    _refuse_leaked(rows, path, splits)
    kept = _drop_duplicates(rows, splits["train"], report)
    report.imported = len(kept)
    report.labels = dict(sorted(Counter(r.label for r in kept).items()))
    report.languages = dict(sorted(Counter(r.language for r in kept).items()))
    if kept:
        written = _write(kept, loaded, out_root)
        report.written = [str(p) for p in written]
        report.spec_sources = _spec_sources(written, loaded.path.parent)
        write_atomically(
            written[0].with_name(written[0].name.rsplit("-", 1)[0] + "-report.json"),
            json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n",
        )
    return report


def read_feedback(
    path: Path, language: str | None, languages: list[str]
) -> tuple[list[FeedbackRow], int, int]:
    """The reviewed rows of `path`, the rows read and the unreviewed rows skipped.

    A row's language is its `language`, else `language`, else the job's only language."""
    default = language or (languages[0] if len(languages) == 1 else None)
    rows, read, unreviewed = [], 0, 0
    problems: list[Problem] = []
    for line, record in _records(path):
        read += 1
        label = record.get("label")
        if label in (None, ""):
            unreviewed += 1
            continue
        text = record.get("text", record.get("input"))
        lang = record.get("language") or default
        problem = _row_problem(text, label, lang, languages)
        if problem:
            problems.append(Problem.at(printable(str(path)), line, *problem))
            continue
        rows.append(FeedbackRow(text, label, lang, _provenance(path, line, record), line))
    if problems:
        raise UserError(problems)
    return rows, read, unreviewed


def _row_problem(text: Any, label: Any, language: Any, languages: list[str]) -> tuple | None:
    if not isinstance(text, str) or not text.strip():
        return ("no text (`text`, or `input` in a prediction log)", "review another row")
    if not isinstance(label, str):
        return (f"label must be a string, not {printable(repr(label))[:40]}", "")
    if language is None:
        return ("no language", "add a `language` column, or pass --language")
    if languages and language not in languages:
        return (f"language `{printable(str(language))}` is not the job's", did_you_mean(
            str(language), languages))  # fmt: skip
    return None


def _records(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(line number, row) for each row of a JSONL, CSV or TSV file."""
    where = printable(str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise UserError(f"{where}: cannot read: {error}") from None
    if path.suffix.lower() in (".csv", ".tsv"):
        delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
        reader = csv.DictReader(text.splitlines(), delimiter=delimiter)
        return [(index + 2, dict(row)) for index, row in enumerate(reader)]
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as error:
            raise UserError(f"{where}:{number}: not JSON ({error.msg})") from None
        if not isinstance(record, dict):
            raise UserError(f"{where}:{number}: a row must be a JSON object")
        records.append((number, record))
    return records


def _provenance(path: Path, line: int, record: dict[str, Any]) -> str:
    """Where a row came from: the file and line, and the model and its answer if logged."""
    where = f"feedback {path.name}:{line}"
    if "model" not in record:
        return where
    revision = str(record.get("revision") or "")[:12]
    answer = record.get("prediction")
    predicted = answer[0].get("label") if isinstance(answer, list) and answer else None
    return f"{where}; served by {record['model']}@{revision} at {record.get('time')}; " + (
        f"predicted {predicted}, reviewed {record['label']}"
    )


def _job_splits(loaded: LoadedSpec) -> dict[str, dict[str, str]]:
    """{split: {normalised text: label}} of the job's prepared data, as `submit` would cut it."""
    from dexter_autotrain.data import prepare_data
    from dexter_autotrain.evaluation.examples import load_prepared

    with tempfile.TemporaryDirectory(prefix="dexter-feedback-") as folder:
        prepare_data(loaded, Path(folder))
        splits = {}
        for name in ("train", *HELD_OUT):
            if (Path(folder) / f"{name}.jsonl").is_file():
                examples = load_prepared(Path(folder), name, loaded.spec.task)
                splits[name] = {
                    normalise(text): label
                    for text, label in zip(examples.inputs, examples.labels, strict=True)
                }
    return splits


def _check_labels(rows: list[FeedbackRow], path: Path, allowed: list[str]) -> None:
    problems = [
        Problem.at(
            printable(str(path)),
            row.line,
            f"label `{printable(row.label)}` is not one of the job's labels",
            did_you_mean(row.label, allowed),
        )
        for row in rows
        if row.label not in allowed
    ]
    if problems:
        raise UserError(problems)


def _refuse_leaked(rows: list[FeedbackRow], path: Path, splits: dict[str, dict[str, str]]) -> None:
    """Refuse the file when a row's text is in a held-out split: training on it would make
    that split's score a lie."""
    problems = []
    for row in rows:
        held = [name for name in HELD_OUT if normalise(row.text) in splits.get(name, {})]
        if held:
            problems.append(
                Problem.at(
                    printable(str(path)),
                    row.line,
                    f"leaked: this text is in the job's {held[0]} split (after normalising "
                    "case, URLs, @mentions and spaces); training on it would inflate the "
                    f"{held[0]} score",
                    "remove the row; nothing was imported",
                )
            )
    if problems:
        raise UserError(problems)


def _drop_duplicates(
    rows: list[FeedbackRow], train: dict[str, str], report: ImportReport
) -> list[FeedbackRow]:
    """Rows whose text is new: neither earlier in the file nor in the training split (whose
    rows are counted, and listed when their label disagrees with the training one)."""
    kept, seen = [], set()
    for row in rows:
        key = normalise(row.text)
        if key in seen:
            report.duplicates_in_file += 1
        elif key in train:
            report.already_in_train += 1
            if train[key] != row.label:
                report.disagreeing_with_train.append(row.line)
        else:
            kept.append(row)
        seen.add(key)
    return kept


def _write(rows: list[FeedbackRow], loaded: LoadedSpec, out_root: Path) -> list[Path]:
    """One JSONL per language, in the job's column names, named by date and content hash."""
    spec = loaded.spec
    first, *others = spec.input_columns()  # joined text goes whole into the first column
    label_column, language_column = spec.column("label"), spec.data.columns.language
    lines: dict[str, list[str]] = {}
    for row in rows:
        record = {first: row.text, **dict.fromkeys(others, ""), label_column: row.label}
        if language_column:
            record[language_column] = row.language
        record["provenance"] = row.provenance
        lines.setdefault(row.language, []).append(json.dumps(record, ensure_ascii=False) + "\n")
    content = "".join(line for language in sorted(lines) for line in lines[language])
    digest = hashlib.sha256(content.encode()).hexdigest()[:8]
    stem = f"{dt.datetime.now(dt.UTC):%Y%m%d}-{digest}"
    folder = out_root / spec.name
    written = []
    for language in sorted(lines):
        target = folder / f"{stem}-{language}.jsonl"
        write_atomically(target, "".join(lines[language]))
        written.append(target)
    return written


def _spec_sources(written: list[Path], spec_dir: Path) -> str:
    """YAML for the spec's `data.sources`: each file, its language, as training data."""
    entries = []
    for path in written:
        relative = Path(os.path.relpath(path.resolve(), spec_dir.resolve())).as_posix()
        language = path.stem.rsplit("-", 1)[1]
        entries.append(f"- path: {relative}\n  language: {language}\n  split: train\n")
    return "".join(entries)
