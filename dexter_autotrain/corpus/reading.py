"""The input of `predict`: CSV, TSV, JSONL or Parquet, as a file, a folder or a glob, read
as a stream of rows (Arrow record batches for CSV, TSV and Parquet; a line at a time for
JSONL), so a corpus of any size is never held in memory."""

from __future__ import annotations

import glob
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dexter_autotrain.errors import UserError

FORMATS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".parquet": "parquet"}
READ_ROWS = 4096
"""Rows a record batch holds while reading."""


def input_files(source: str) -> list[Path]:
    """The files `source` names: a file, every readable file of a folder, or a glob's
    matches; sorted, so shards are the same rows in every run.

    Raises:
        [`UserError`]: nothing there, or a file of a format `predict` does not read.
    """
    path = Path(source)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() in FORMATS and p.is_file())
    elif glob.has_magic(source):
        files = sorted(Path(p) for p in glob.glob(source, recursive=True) if Path(p).is_file())
    else:
        files = [path] if path.is_file() else []
    if not files:
        raise UserError(f"--input {source}: no such file, or no CSV, TSV, JSONL or Parquet in it")
    unknown = [f for f in files if f.suffix.lower() not in FORMATS]
    if unknown:
        raise UserError(
            f"--input {unknown[0]}: cannot tell its format (read: {', '.join(FORMATS)})"
        )
    return files


def fingerprint(files: list[Path]) -> str:
    """What identifies the input for a resume: each file's path, size and modification
    time (a changed file is a new input), hashed."""
    described = [(str(f.resolve()), f.stat().st_size, f.stat().st_mtime_ns) for f in files]
    return hashlib.sha256(json.dumps(described).encode()).hexdigest()


Row = tuple[dict[str, Any], str | None]
"""A row's values for the asked columns (a missing one is None), and why it could not be
read at all (None: it could)."""


def read_rows(files: list[Path], columns: list[str], texts: list[str]) -> Iterator[Row]:
    """Every row of `files` in order: its `columns` (the `texts` among them read as
    strings, whatever they look like), or the reason it could not be read, so a bad row
    is rejected with its reason rather than the run failing.

    Raises:
        [`UserError`]: a file that cannot be parsed at all (a CSV with unbalanced quotes).
    """
    for file in files:
        kind = FORMATS[file.suffix.lower()]
        if kind == "jsonl":
            yield from _jsonl_rows(file, columns)
            continue
        for batch in _batches(file, kind, texts):
            present = [c for c in columns if c in batch.schema.names]
            values = {c: batch.column(c).to_pylist() for c in present}
            for index in range(batch.num_rows):
                yield {c: values[c][index] if c in values else None for c in columns}, None


def _batches(file: Path, kind: str, texts: list[str]) -> Iterator[Any]:
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    if kind == "parquet":
        yield from pq.ParquetFile(file).iter_batches(batch_size=READ_ROWS)
        return
    options = pacsv.ParseOptions(delimiter="\t" if kind == "tsv" else ",", newlines_in_values=True)
    conversion = pacsv.ConvertOptions(column_types=dict.fromkeys(texts, pa.string()))
    try:
        reader = pacsv.open_csv(
            file,
            read_options=pacsv.ReadOptions(block_size=1 << 22),
            parse_options=options,
            convert_options=conversion,
        )
        yield from reader
    except pa.ArrowInvalid as error:
        raise UserError(f"{file}: cannot be read as {kind.upper()} ({error})") from None


def _jsonl_rows(file: Path, columns: list[str]) -> Iterator[Row]:
    with file.open(encoding="utf-8", errors="replace") as lines:
        for number, text in enumerate(lines, start=1):
            if not text.strip():
                continue
            try:
                row = json.loads(text)
            except ValueError:
                row = None
            if not isinstance(row, dict):
                yield dict.fromkeys(columns), f"{file.name} line {number}: not a JSON object"
                continue
            yield {c: row.get(c) for c in columns}, None
