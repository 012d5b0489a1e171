"""Turn a spec's `data.sources` into concrete files (or datasets), each with its split."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

from dexter_autotrain.errors import Problem, UserError
from dexter_autotrain.policy.spec_paths import confine, printable
from dexter_autotrain.spec import JobSpec, LoadedSpec
from dexter_autotrain.system.files import display_path

SPLIT_STEMS = {
    "train": ("train",),
    "validation": ("dev", "validation", "valid", "val"),
    "test": ("test",),
}
EXTENSIONS = {
    "csv": (".csv",),
    "tsv": (".tsv",),
    "jsonl": (".jsonl",),
    "parquet": (".parquet",),
    "conll": (".txt", ".conll", ".iob"),
    "image-csv": (".csv",),
}
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".tif", ".tiff")


@dataclass(frozen=True)
class ResolvedSource:
    """One readable unit: a file, a directory (images, saved dataset) or a Hub dataset."""

    location: str
    path: Path | None
    format: str
    language: str | None
    split: str | None
    """None: the rows are split by the spec's ratios."""
    revision: str | None = None
    subset: str | None = None
    root: Path | None = None
    """Files found inside this source (images, image-csv paths) must stay in `root`'s
    repository or `$DEXTER_DATA_ROOTS` (see policy.spec_paths.confine)."""


def resolve_sources(spec: JobSpec, spec_dir: Path) -> list[ResolvedSource]:
    """The files, folders and Hub datasets `data.sources` names, or UserError naming each
    path that does not resolve."""
    resolved, problems = _resolved(spec, spec_dir)
    if problems:
        raise UserError([problem for _, problem in problems])
    return resolved


def source_problems(loaded: LoadedSpec) -> list[Problem]:
    """What `validate` checks of the data without reading it: every local source resolves
    to readable files, each problem at its source's line in the spec (Hub datasets are
    not checked: that needs the Hub).

    Example:
        ```python
        >>> [p.message for p in source_problems(load_spec("jobs/demo.yaml"))]
        ['data/demo/hau: not found']
        ```
    """
    _, problems = _resolved(loaded.spec, loaded.path.parent)
    alike: dict[tuple[int, str], list[Problem]] = {}  # `{language}` paths missing one folder
    for index, problem in problems:
        alike.setdefault((index, problem.hint), []).append(problem)
    return [
        loaded.located(
            ("data", "sources", index, "path"),
            f"{same[0].file}{f' and {len(same) - 1} more' * (len(same) > 1)}: {same[0].message}",
            hint,
        )
        for (index, hint), same in alike.items()
    ]


def _resolved(
    spec: JobSpec, spec_dir: Path
) -> tuple[list[ResolvedSource], list[tuple[int, Problem]]]:
    """The sources that resolve, and the problems of those that do not, with their index."""
    resolved: list[ResolvedSource] = []
    problems: list[tuple[int, Problem]] = []
    for index, source in enumerate(spec.data.sources):
        field = f"data.sources[{index}]"
        if source.hub is not None:
            resolved.append(
                ResolvedSource(
                    source.hub,
                    None,
                    "hub",
                    source.language,
                    source.split,
                    source.revision,
                    source.subset,
                )
            )
            continue
        assert source.path is not None
        expansions = (
            [(source.path.replace("{language}", language), language) for language in spec.languages]
            if "{language}" in source.path
            else [(source.path, source.language)]
        )
        for relative, language in expansions:
            path = spec_dir / relative
            try:
                confined = confine(path, spec_dir, f"{field}.path")
                resolved += _resolve_path(
                    confined, source.format, language, source.split, (spec_dir, f"{field}.path")
                )
            except UserError as error:
                problems += [(index, problem) for problem in error.problems]
            except _SourceProblem as problem:
                if problem.missing and not Path(relative).is_absolute():
                    end = " " if problem.hint.endswith("?") else ". "
                    folder = display_path(spec_dir).rstrip("/") + "/"
                    problem.hint += f"{end}Relative paths start at the spec's folder, {folder}"
                problems.append((index, _located(path, field, problem)))
    return resolved, problems


class _SourceProblem(Exception):
    def __init__(self, message: str, hint: str, *, missing: bool = False):
        super().__init__(message)
        self.message, self.hint, self.missing = message, hint, missing


def _located(path: Path, field: str, problem: _SourceProblem) -> Problem:
    return Problem(printable(display_path(path)), None, None, field, problem.message, problem.hint)


def resolve_path(
    path: Path, fmt: str | None, language: str | None, split: str | None, field: str
) -> list[ResolvedSource]:
    """The sources at a path named on the command line, or UserError naming `field`. The
    path's own folder (its repository) bounds what it may lead to."""
    root = path.absolute().parent
    try:
        return _resolve_path(confine(path, root, field), fmt, language, split, (root, field))
    except _SourceProblem as problem:
        raise UserError([_located(path, field, problem)]) from None


def _resolve_path(
    path: Path, fmt: str | None, language: str | None, split: str | None, bound: tuple[Path, str]
) -> list[ResolvedSource]:
    """Sources at `path` (already confined); files picked inside a folder are confined too,
    to `bound`: (the folder whose repository holds them, the field to blame)."""
    root, field = bound
    if not path.exists():
        raise _SourceProblem("not found", _missing_hint(path), missing=True)
    if path.is_file():
        fmt = fmt or _format_from_extension(path)
        return [ResolvedSource(display_path(path), path, fmt, language, split, root=root)]
    if fmt is None:
        raise _SourceProblem(
            "is a directory and has no `format`",
            "add `format:` (tsv, csv, jsonl, parquet, conll, hf-dataset, imagefolder or image-csv)",
        )
    if fmt == "hf-dataset":
        return [ResolvedSource(display_path(path), path, fmt, language, split, root=root)]
    if fmt == "imagefolder":
        split_dirs = _split_entries(path, lambda p: p.is_dir(), ("",))
        if split_dirs and split is None:
            return [
                ResolvedSource(
                    display_path(p), confine(p, root, field), fmt, language, s, root=root
                )
                for s, p in split_dirs
            ]
        return [ResolvedSource(display_path(path), path, fmt, language, split, root=root)]
    if split is not None:
        raise _SourceProblem(
            f"is a directory, but `split: {split}` names one file's split",
            "point `path` at the file, or remove `split`",
        )
    files = _split_entries(path, lambda p: p.is_file(), EXTENSIONS[fmt])
    if not files:
        raise _SourceProblem(
            f"holds no train/dev/test {'/'.join(EXTENSIONS[fmt])} files",
            "name them train, dev (or validation) and test, or point `path` at one file",
        )
    return [
        ResolvedSource(display_path(p), confine(p, root, field), fmt, language, s, root=root)
        for s, p in files
    ]


def _missing_hint(path: Path) -> str:
    """A did-you-mean for the first part of `path` that does not exist, among what its
    folder holds; else which folder lacks it."""
    absolute = path.absolute()
    existing = next(folder for folder in absolute.parents if folder.is_dir())
    missing = absolute.relative_to(existing).parts[0]
    close = difflib.get_close_matches(missing, [p.name for p in existing.iterdir()], n=1)
    folder = display_path(existing).rstrip("/") + "/"
    return f"did you mean {folder}{close[0]}?" if close else f"{folder} has no `{missing}`"


def _split_entries(directory: Path, accept, extensions: tuple[str, ...]) -> list[tuple[str, Path]]:
    found = []
    for split, stems in SPLIT_STEMS.items():
        for stem in stems:
            matches = [
                directory / f"{stem}{ext}"
                for ext in extensions
                if accept(directory / f"{stem}{ext}")
            ]
            if matches:
                found.append((split, matches[0]))
                break
    return found


def _format_from_extension(path: Path) -> str:
    for fmt, extensions in EXTENSIONS.items():
        if path.suffix.lower() in extensions:
            return fmt
    raise _SourceProblem(
        f"cannot tell the format of a {path.suffix or 'suffix-less'} file",
        "add `format:` to the source",
    )
