"""Read one resolved source into Examples, per split, naming the file and line of any problem."""

from __future__ import annotations

import csv
import json
import re
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dexter_autotrain.data.examples import Examples
from dexter_autotrain.data.sources import IMAGE_EXTENSIONS, SPLIT_STEMS, ResolvedSource
from dexter_autotrain.errors import Problem, UserError
from dexter_autotrain.policy.spec_paths import confine, printable, snippet
from dexter_autotrain.spec import JobSpec
from dexter_autotrain.tasks import get_task
from dexter_autotrain.tasks.text_join import join_text

UNDETERMINED_LANGUAGE = "und"
MAX_PROBLEMS_PER_FILE = 20
csv.field_size_limit(2**31 - 1)  # news articles are long
CONLL_DOCUMENT_MARKER = "-DOCSTART-"
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
"""A JSON escape that may decode to half a surrogate pair (a lone one cannot be written)."""


@dataclass(frozen=True)
class Roles:
    """Which source columns feed the example input, its label and its language."""

    inputs: tuple[str, ...]
    """The input column, or the text columns joined into one text (`tasks.text_join`)."""
    label: str
    language: str | None
    input_field: str
    label_field: str
    extras: tuple[str, ...] = ()
    """Columns kept for evaluation slices and fairness groups."""

    @classmethod
    def for_spec(cls, spec: JobSpec) -> Roles:
        input_role, label_role = get_task(spec.task).columns
        return cls(
            spec.input_columns(),
            spec.column(label_role),
            spec.data.columns.language,
            f"data.columns.{input_role}",
            f"data.columns.{label_role}",
            slice_columns(spec),
        )

    def columns(self) -> list[tuple[str, str]]:
        """(column, spec field that names it) for every column a record must have."""
        named = [(name, self.input_field) for name in self.inputs]
        named.append((self.label, self.label_field))
        if self.language:
            named.append((self.language, "data.columns.language"))
        return named + [(extra, "evaluation.slices") for extra in self.extras]


def slice_columns(spec: JobSpec) -> tuple[str, ...]:
    """Columns other than language that evaluation slices or fairness groups need."""
    wanted = [*spec.evaluation.slices]
    if spec.evaluation.fairness is not None:
        wanted.append(spec.evaluation.fairness.group_by)
    return tuple(dict.fromkeys(c for c in wanted if c != "language"))


class _Collector:
    """Builds Examples for one file, keeping at most a screenful of problems."""

    def __init__(self, source: ResolvedSource, display: str):
        self.source, self.display = source, display
        self.examples = Examples(files=[display])
        self.problems: list[Problem] = []
        self.skipped = 0
        self._interned: dict[str, str] = {}

    def add(
        self,
        value: Any,
        label: Any,
        language: str | None,
        line: int,
        extras: dict[str, Any] | None = None,
    ) -> None:
        examples = self.examples
        for name, extra in (extras or {}).items():
            examples.extras.setdefault(name, []).append(str(extra))
        if isinstance(label, str):
            label = self._interned.setdefault(label, label)
        examples.inputs.append(value)
        examples.labels.append(label)
        language = language or self.source.language or UNDETERMINED_LANGUAGE
        examples.languages.append(self._interned.setdefault(language, language))
        examples.origin_file.append(0)
        examples.origin_line.append(line)

    def problem(self, line: int | None, message: str, hint: str = "") -> None:
        if len(self.problems) < MAX_PROBLEMS_PER_FILE:
            self.problems.append(Problem.at(self.display, line, message, hint))
        else:
            self.skipped += 1

    def finish(self) -> Examples:
        if not self.problems and not len(self.examples):
            self.problem(None, "holds no examples", "fill the file, or remove it from the sources")
        if self.skipped:
            self.problems.append(
                Problem(
                    self.display,
                    None,
                    None,
                    "",
                    f"... and {self.skipped} more problems like these",
                    "",
                )
            )
        if self.problems:
            raise UserError(self.problems)
        return self.examples


def read_source(source: ResolvedSource, spec: JobSpec) -> dict[str | None, Examples]:
    """Examples by split (None: to be split by ratio)."""
    roles = Roles.for_spec(spec)
    if source.format in ("hf-dataset", "hub"):
        return _read_datasets(source, roles)
    collector = _Collector(source, source.location)
    assert source.path is not None
    try:
        _READERS[source.format](source.path, roles, collector)
    except csv.Error as error:
        collector.problem(None, f"cannot parse: {snippet(str(error), 80)}", "check quoting")
    except UnicodeDecodeError:
        line, column, byte = _first_bad_byte(source.path)
        raise UserError(
            [
                Problem(
                    source.location,
                    line,
                    column,
                    "",
                    f"byte 0x{byte:02x} is not valid UTF-8",
                    "save the file as UTF-8",
                )
            ]
        ) from None
    return {source.split: collector.finish()}


def _read_delimited(
    path: Path, roles: Roles, out: _Collector, delimiter: str, resolve_image: bool = False
) -> None:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        header = next(reader, None)
        if header is None:
            out.problem(None, "file is empty", "write a header row, then one row per example")
            return
        positions = _column_positions(header, roles, out)
        if positions is None:
            return
        width = len(header)
        start = reader.line_num + 1
        for row in reader:
            line, start = start, reader.line_num + 1
            if len(row) != width:
                if row:
                    out.problem(
                        line,
                        f"row has {len(row)} fields, the header has {width}",
                        "check quoting and delimiters on this row",
                    )
                continue
            _add_record(
                {name: row[at] for name, at in positions.items()},
                roles,
                out,
                line,
                base=path.parent if resolve_image else None,
            )


def _column_positions(header: list[str], roles: Roles, out: _Collector) -> dict[str, int] | None:
    duplicated = sorted(name for name, count in Counter(header).items() if count > 1)
    for name in duplicated[:3]:
        out.problem(
            1,
            f"column {snippet(name)} appears more than once in the header",
            "give every column its own name",
        )
    missing = [(name, field) for name, field in roles.columns() if name not in header]
    for name, field in missing:
        out.problem(
            1,
            f"column `{name}` not found (columns: {_listing(header)})",
            f"set `{field}` to the right column name",
        )
    if missing or duplicated:
        return None
    return {name: header.index(name) for name, _ in roles.columns()}


def _read_jsonl(path: Path, roles: Roles, out: _Collector) -> None:
    with path.open(encoding="utf-8") as handle:
        for line, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            row = _json_object(text, line, out)
            if row is not None:
                _add_record(row, roles, out, line)


def _listing(names: Iterable[Any], limit: int = 120) -> str:
    """Column or field names for an error: escaped, and cut short if the header is huge."""
    text = ", ".join(map(str, names))
    return printable(text[:limit]) + ("…" if len(text) > limit else "")


def _json_object(text: str, line: int, out: _Collector) -> dict[str, Any] | None:
    """The JSON object on one line, or None after reporting why it is not one."""
    try:
        row = json.loads(text)
    except json.JSONDecodeError as error:
        out.problem(line, f"invalid JSON: {error.msg}", "write one JSON object per line")
        return None
    except RecursionError:
        out.problem(line, "JSON nested too deeply", "write one flat JSON object per line")
        return None
    except ValueError:  # the one other ValueError: an integer too long to convert
        out.problem(
            line,
            f"invalid JSON: a number with more than {sys.get_int_max_str_digits()} digits",
            "write it as a string",
        )
        return None
    if not isinstance(row, dict):
        out.problem(line, "line is not a JSON object", "write one JSON object per line")
        return None
    if _SURROGATE_ESCAPE.search(text) and not _encodable(row):
        out.problem(
            line,
            "holds a lone surrogate escape (\\ud800-\\udfff)",
            "write real characters, or complete surrogate pairs",
        )
        return None
    return row


def _encodable(row: dict[str, Any]) -> bool:
    try:
        json.dumps(row, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _add_record(
    row: dict[str, Any], roles: Roles, out: _Collector, line: int, base: Path | None = None
) -> None:
    """One example from a record; `base` resolves relative image paths."""
    missing = [(name, field) for name, field in roles.columns() if name not in row]
    for name, field in missing:
        out.problem(
            line,
            f"field `{name}` is missing (fields: {_listing(row)})",
            f"set `{field}` to the right field name",
        )
    if missing:
        return
    joined = len(roles.inputs) > 1
    value = join_text(row[name] for name in roles.inputs) if joined else row[roles.inputs[0]]
    if base is not None:
        value = _image_path(base / value, line, out)
        if value is None:
            return
    language = row[roles.language] if roles.language else None
    if language is not None and not isinstance(language, str):
        out.problem(
            line,
            f"language `{roles.language}` must be a string, not {snippet(repr(language))}",
            "write a language code such as `en` or `pcm`",
        )
        return
    out.add(value, row[roles.label], language, line, {extra: row[extra] for extra in roles.extras})


def _image_path(path: Path, line: int | None, out: _Collector) -> str | None:
    """The resolved image path, or None after reporting that it leaves the allowed roots."""
    try:
        return str(confine(path, out.source.root or path.parent, "image path"))
    except UserError as error:
        problem = error.problems[0]
        out.problem(line, f"image {problem.file}: {problem.message}", problem.hint)
        return None


def _read_parquet(path: Path, roles: Roles, out: _Collector) -> None:
    import pyarrow.parquet as pq

    columns = [name for name, _ in roles.columns()]
    try:
        available = pq.read_schema(path).names
        table = pq.read_table(path, columns=[c for c in columns if c in available]).to_pydict()
    except (OSError, ValueError) as error:  # pyarrow.ArrowInvalid is a ValueError
        out.problem(
            None,
            f"not a readable Parquet file ({snippet(str(error), 80)})",
            "write it with pyarrow or pandas `to_parquet`",
        )
        return
    missing = [c for c in columns if c not in available]
    for name in missing:
        out.problem(
            None,
            f"column `{name}` not found (columns: {_listing(available)})",
            "set `data.columns` to the right column names",
        )
    if missing:
        return
    for row_number, row in enumerate(_rows(table), start=1):
        _add_record(row, roles, out, row_number)


def _rows(table: dict[str, list[Any]]) -> Iterator[dict[str, Any]]:
    names = list(table)
    for values in zip(*table.values(), strict=True):
        yield dict(zip(names, values, strict=True))


def _no_extras(roles: Roles, out: _Collector, kind: str) -> bool:
    """CoNLL files and image folders have no columns to slice by."""
    if roles.extras:
        out.problem(
            None,
            f"{kind} have no `{'`, `'.join(roles.extras)}` column",
            "slice these jobs by language only (evaluation.slices)",
        )
    return not roles.extras


def _read_conll(path: Path, roles: Roles, out: _Collector) -> None:
    if not _no_extras(roles, out, "CoNLL files"):
        return
    tokens: list[str] = []
    tags: list[str] = []
    first_line = 0
    with path.open(encoding="utf-8") as handle:
        for line, text in enumerate(handle, start=1):
            fields = text.split()
            if not fields or fields[0] == CONLL_DOCUMENT_MARKER:
                if tokens:
                    out.add(tokens, tags, None, first_line)
                    tokens, tags = [], []
                continue
            if len(fields) < 2:
                out.problem(
                    line,
                    f"expected `token TAG`, got {snippet(text.strip())}",
                    "write one token and its tag per line, a blank line between sentences",
                )
                continue
            if not tokens:
                first_line = line
            tokens.append(fields[0])
            tags.append(fields[-1])
    if tokens:
        out.add(tokens, tags, None, first_line)


def _read_image_folder(path: Path, roles: Roles, out: _Collector) -> None:
    if not _no_extras(roles, out, "image folders"):
        return
    classes = sorted(p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        out.problem(
            None, "holds no class folders", "put each class's images in a folder of its own"
        )
    for class_dir in classes:
        for image in sorted(class_dir.rglob("*")):
            if image.suffix.lower() in IMAGE_EXTENSIONS and image.is_file():
                confined = _image_path(image, None, out)
                if confined is not None:
                    out.add(confined, class_dir.name, None, 0)


def _read_datasets(source: ResolvedSource, roles: Roles) -> dict[str | None, Examples]:
    import datasets

    try:
        if source.format == "hub":
            loaded = datasets.load_dataset(source.location, source.subset, revision=source.revision)
        else:
            loaded = datasets.load_from_disk(str(source.path))
    except Exception as error:  # datasets raises many kinds; all mean "cannot load this"
        if source.format == "hub":
            problem = Problem(
                source.location,
                None,
                None,
                "",
                "cannot load the dataset from the Hub (offline?)",
                "download it where there is network, `save_to_disk` it, "
                "and use `path:` with `format: hf-dataset`",
            )
        else:
            problem = Problem(
                source.location,
                None,
                None,
                "",
                f"cannot load dataset: {type(error).__name__}",
                "write it with Dataset.save_to_disk",
            )
        raise UserError([problem]) from None
    parts = loaded.items() if isinstance(loaded, datasets.DatasetDict) else [(None, loaded)]
    result: dict[str | None, Examples] = {}
    for name, dataset in parts:
        split = _split_of(name) if name is not None else source.split
        collector = _Collector(source, f"{source.location}[{name}]" if name else source.location)
        columns = [name for name, _ in roles.columns()]
        missing = [c for c in columns if c not in dataset.column_names]
        for column in missing:
            collector.problem(
                None,
                f"column `{column}` not found (columns: {_listing(dataset.column_names)})",
                "set `data.columns` to the right column names",
            )
        if not missing:
            feature = dataset.features[roles.label]
            names = getattr(feature, "names", None) or getattr(
                getattr(feature, "feature", None), "names", None
            )
            for row_number, row in enumerate(
                _rows(dataset.select_columns(columns).to_dict()), start=1
            ):
                if names is not None:
                    row[roles.label] = _class_names(row[roles.label], names)
                _add_record(row, roles, collector, row_number)
        result[split] = collector.finish()
    return result


def _class_names(value: Any, names: list[str]) -> Any:
    return [names[v] for v in value] if isinstance(value, list) else names[value]


def _split_of(name: str) -> str | None:
    return next((split for split, stems in SPLIT_STEMS.items() if name in stems), None)


def _first_bad_byte(path: Path) -> tuple[int, int, int]:
    with path.open("rb") as handle:
        for line, raw in enumerate(handle, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as error:
                return line, error.start + 1, raw[error.start]
    return 1, 1, 0


_READERS: dict[str, Callable[[Path, Roles, _Collector], None]] = {
    "csv": lambda p, r, o: _read_delimited(p, r, o, ","),
    "tsv": lambda p, r, o: _read_delimited(p, r, o, "\t"),
    "image-csv": lambda p, r, o: _read_delimited(p, r, o, ",", resolve_image=True),
    "jsonl": _read_jsonl,
    "parquet": _read_parquet,
    "conll": _read_conll,
    "imagefolder": _read_image_folder,
}
