"""The input of `predict`: CSV, TSV, JSONL or Parquet, as a file, a folder or a glob, read
as a stream of rows (Arrow record batches for CSV, TSV and Parquet; a line at a time for
JSONL), so a corpus of any size is never held in memory. For an image model: a folder of
images, or an image-csv whose image column holds paths relative to the CSV."""

from __future__ import annotations

import glob
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dexter_autotrain.data.sources import IMAGE_EXTENSIONS
from dexter_autotrain.errors import UserError

FORMATS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".parquet": "parquet"}
READ_ROWS = 4096
"""Rows a record batch holds while reading."""
IMAGE_COLUMN = "image"
"""An image row's path as the input wrote it (relative to its folder or its CSV)."""
IMAGE_FILE = "_image_file"
"""An image row's file, resolved and kept inside its folder (None: it leaves it)."""

Row = tuple[dict[str, Any], str | None]
"""A row's values for the asked columns (a missing one is None), and why it could not be
read at all (None: it could)."""


@dataclass(frozen=True)
class Corpus:
    """What `predict` reads: the files, whether they are images, and the input's fingerprint.

    Attributes:
        files: the input files, sorted (shards are the same rows in every run).
        image_folder: the folder when the input is a folder of images (each file a row).
        fingerprint: what identifies the input for a resume (`fingerprint`).
        shown: the input as the user named it (a Hub dataset with its commit).
    """

    files: list[Path]
    image_folder: Path | None
    fingerprint: str
    shown: str

    def rows(self, columns: list[str], texts: list[str]) -> Iterator[Row]:
        """Every row in order (`read_rows`); an image folder's rows are its images."""
        if self.image_folder is not None:
            return _folder_images(self.files, self.image_folder)
        return read_rows(self.files, columns, texts)

    def count(self) -> int | None:
        """Rows in all (for the progress bar's ETA): Parquet's from its metadata, text files
        counted by a fast pass; None when a file cannot be counted."""
        if self.image_folder is not None:
            return len(self.files)
        try:
            return sum(_count(file, FORMATS[file.suffix.lower()]) for file in self.files)
        except (OSError, ValueError):
            return None


def open_corpus(source: str, images: bool = False) -> Corpus:
    """The corpus `source` names: a file, every readable file of a folder, or a glob's
    matches; for an image model (`images`), a folder of images or image-csv files.

    Raises:
        [`UserError`]: nothing there, or a file of a format `predict` does not read.
    """
    path = Path(source)
    if images and path.is_dir():
        folder = path.resolve()
        files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS)
        if not files:
            kinds = ", ".join(IMAGE_EXTENSIONS)
            raise UserError(f"--input {source}: a folder with no images ({kinds})")
        return Corpus(files, folder, fingerprint(files), source)
    files = _named_files(source, path)
    known = (".csv",) if images else tuple(FORMATS)
    unknown = [f for f in files if f.suffix.lower() not in known]
    if unknown:
        read = "a folder of images or image-csv files" if images else ", ".join(FORMATS)
        raise UserError(f"--input {unknown[0]}: cannot tell its format (read: {read})")
    return Corpus(files, None, fingerprint(files), source)


def _named_files(source: str, path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() in FORMATS and p.is_file())
    elif glob.has_magic(source):
        files = sorted(Path(p) for p in glob.glob(source, recursive=True) if Path(p).is_file())
    else:
        files = [path] if path.is_file() else []
    if not files:
        raise UserError(f"--input {source}: no such file, or no CSV, TSV, JSONL or Parquet in it")
    return files


def fingerprint(files: list[Path]) -> str:
    """What identifies the input for a resume: each file's path, size and modification
    time (a changed file is a new input), hashed."""
    stats = [(file, file.stat()) for file in files]
    described = [(str(f.resolve()), stat.st_size, stat.st_mtime_ns) for f, stat in stats]
    return hashlib.sha256(json.dumps(described).encode()).hexdigest()


def read_rows(files: list[Path], columns: list[str], texts: list[str]) -> Iterator[Row]:
    """Every row of `files` in order: its `columns` (the `texts` among them read as
    strings, whatever they look like), or the reason it could not be read, so a bad row
    is rejected with its reason rather than the run failing. An image-csv's rows also get
    their image's file (`IMAGE_FILE`), resolved against the CSV's folder.

    Raises:
        [`UserError`]: a file that cannot be parsed at all (a CSV with unbalanced quotes).
    """
    for file in files:
        kind = FORMATS[file.suffix.lower()]
        rows = (
            _jsonl_rows(file, columns)
            if kind == "jsonl"
            else _table_rows(file, kind, columns, texts)
        )
        if IMAGE_COLUMN in texts and kind == "csv":
            rows = _with_image_files(rows, file.parent.resolve())
        yield from rows


def _table_rows(file: Path, kind: str, columns: list[str], texts: list[str]) -> Iterator[Row]:
    for batch in _batches(file, kind, texts):
        present = [c for c in columns if c in batch.schema.names]
        values = {c: batch.column(c).to_pylist() for c in present}
        for index in range(batch.num_rows):
            yield {c: values[c][index] if c in values else None for c in columns}, None


def _folder_images(files: list[Path], folder: Path) -> Iterator[Row]:
    rows = (({IMAGE_COLUMN: file.relative_to(folder).as_posix()}, None) for file in files)
    return _with_image_files(rows, folder)


def _with_image_files(rows: Iterator[Row], base: Path) -> Iterator[Row]:
    """Each row's image path resolved against `base`; a path that leaves it is no file."""
    for row, problem in rows:
        yield {**row, IMAGE_FILE: image_file(row.get(IMAGE_COLUMN), base)}, problem


def image_file(written: str | None, base: Path) -> Path | None:
    """The image `written` names, resolved against `base`; None when it leaves `base`."""
    resolved = (base / written).resolve() if written else None
    return resolved if resolved is not None and base in resolved.parents else None


def _batches(file: Path, kind: str, texts: list[str]) -> Iterator[Any]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    if kind == "parquet":
        yield from pq.ParquetFile(file).iter_batches(batch_size=READ_ROWS)
        return
    try:
        yield from _csv_reader(file, kind, texts)
    except pa.ArrowInvalid as error:
        raise UserError(f"{file}: cannot be read as {kind.upper()} ({error})") from None


def _csv_reader(file: Path, kind: str, texts: list[str]) -> Any:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    return pacsv.open_csv(
        file,
        read_options=pacsv.ReadOptions(block_size=1 << 22),
        parse_options=pacsv.ParseOptions(
            delimiter="\t" if kind == "tsv" else ",", newlines_in_values=True
        ),
        convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(texts, pa.string())),
    )


def _count(file: Path, kind: str) -> int:
    """The rows `read_rows` yields for `file`, without converting a value."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if kind == "parquet":
        return pq.ParquetFile(file).metadata.num_rows
    if kind == "jsonl":
        with file.open("rb") as lines:
            return sum(1 for line in lines if line.strip())
    try:
        return sum(batch.num_rows for batch in _csv_reader(file, kind, []))
    except pa.ArrowInvalid as error:
        raise ValueError(str(error)) from None


def _jsonl_rows(file: Path, columns: list[str]) -> Iterator[Row]:
    with file.open(encoding="utf-8", errors="replace") as lines:
        for number, text in enumerate(lines, start=1):
            if text.strip():
                yield jsonl_row(text, columns, f"{file.name} line {number}")


def jsonl_row(text: str, columns: list[str], where: str) -> Row:
    """One JSONL line's `columns`, or (`where` named) why it is not a JSON object."""
    try:
        row = json.loads(text)
    except ValueError:
        row = None
    if not isinstance(row, dict):
        return dict.fromkeys(columns), f"{where}: not a JSON object"
    return {c: row.get(c) for c in columns}, None
