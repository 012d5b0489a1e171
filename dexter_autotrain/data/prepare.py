"""Data preparation: sources -> checked, split, de-leaked, balanced, written, fingerprinted.

Every check runs before anything is written, so bad data leaves no partial output behind.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from dexter_autotrain.data import checks, leakage
from dexter_autotrain.data.balance import upsample_languages
from dexter_autotrain.data.examples import Examples
from dexter_autotrain.data.fingerprints import file_sha256, tree_sha256
from dexter_autotrain.data.output import write_split
from dexter_autotrain.data.readers import read_source
from dexter_autotrain.data.report import DataReport, describe_split
from dexter_autotrain.data.sources import ResolvedSource, resolve_sources
from dexter_autotrain.data.splitting import sample_indices, stratified_split
from dexter_autotrain.errors import Problem, UserError
from dexter_autotrain.spec import JobSpec, LoadedSpec
from dexter_autotrain.system.files import display_path
from dexter_autotrain.tasks import get_task

SPLITS = ("train", "validation", "test")


def _handle_leakage(splits: dict, spec: JobSpec, report: DataReport) -> None:
    """Report overlaps between splits and duplicates; drop leaked train rows and upsample
    low-resource languages where the spec asks."""
    keys = {name: leakage.row_keys(examples, spec.task) for name, examples in splits.items()}
    report.overlaps = leakage.overlaps(splits, keys)
    report.duplicates_in_train = leakage.duplicates_within(keys["train"])
    if spec.data.remove_leaked_from_train:
        leaked = set(leakage.leaked_train_rows(keys))
        report.removed_leaked_from_train = len(leaked)
        splits["train"] = splits["train"].take(
            [i for i in range(len(splits["train"])) if i not in leaked]
        )
    if spec.data.upsample is not None:
        splits["train"], report.upsampled = upsample_languages(
            splits["train"], spec.data.upsample.target, spec.data.upsample.cap, spec.data.split.seed
        )


def prepare_data(
    loaded: LoadedSpec,
    data_dir: Path | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> DataReport:
    """Prepare the job's data; write splits under `data_dir` when given. Raises UserError."""
    spec = loaded.spec
    task = spec.task
    token_task = get_task(task).per_token
    report = DataReport(job=spec.name, task=task)
    sources = resolve_sources(spec, loaded.path.parent)

    progress("reading sources")
    parts = _read_parts(sources, spec, report)
    progress("checking")
    parts, result = check_examples(parts, spec, display_path(loaded.path))

    progress("splitting")
    splits = _split(parts, spec)
    if "validation" not in splits or not len(splits["validation"]):
        raise UserError(
            [
                Problem.about(
                    "data",
                    "no validation examples",
                    "add dev files, or set data.split.validation above 0",
                )
            ]
        )
    checks.check_minimum_counts(splits["train"], spec, token_task, result)
    if get_task(task).reads_images:
        checks.check_image_splits(splits, result)
    if result.errors:
        raise UserError(result.errors)
    train_languages = set(splits["train"].languages)
    test_languages = set(splits["test"].languages) if "test" in splits else set()
    report.languages_without_test = sorted(train_languages - test_languages)

    progress("looking for leakage")
    _handle_leakage(splits, spec, report)
    progress("writing" if data_dir else "fingerprinting")
    for name in SPLITS:
        if name in splits:
            report.splits[name] = describe_split(splits[name], task)
            report.outputs.append(write_split(splits[name], name, task, data_dir))
    report.warnings = [str(w) for w in result.warnings] + [
        f"language `{language}` has no test examples: evaluation will not cover it "
        "(add a test file for it, or leave it out of the test-based gates)"
        for language in report.languages_without_test
    ]
    return report


def check_examples(
    parts: dict[str, Examples], spec: JobSpec, spec_file: str
) -> tuple[dict[str, Examples], checks.CheckResult]:
    """The checks every labelled data set gets, for training and for `evaluate --data`:
    label map, types, empty inputs dropped, known labels, IOB2, images and their folder
    names. Returns the parts without empty inputs, and the warnings. Raises UserError."""
    kind = get_task(spec.task)
    token_task = kind.per_token
    result = checks.CheckResult()
    for examples in parts.values():
        checks.apply_label_map(examples, spec.data.label_map)
        checks.check_types(examples, token_task, result)
    if result.errors:
        raise UserError(result.errors)
    parts = {name: checks.drop_empty_inputs(examples, result) for name, examples in parts.items()}
    allowed = spec.data.labels or sorted(
        {
            v
            for e in parts.values()
            for label in e.labels
            for v in (label if token_task else (label,))
        }
    )
    for examples in parts.values():
        checks.check_labels(examples, allowed, result)
        if token_task:
            checks.check_iob2(examples, result, spec.data.fix_iob2)
        if kind.reads_images:
            checks.check_folder_names(examples, spec.data.labels or (), spec_file, result)
            if not result.errors:
                checks.check_images(examples, result)
    if result.errors:
        raise UserError(result.errors)
    if result.repaired_iob2:
        result.warnings.append(
            Problem.about(
                "data.fix_iob2", f"{result.repaired_iob2} stray I- tags turned into B- tags", ""
            )
        )
    return parts, result


def _split(parts: dict[str, Examples], spec) -> dict[str, Examples]:
    """Given splits as they are; unsplit rows cut by the spec's ratios; a missing
    validation split carved out of train."""
    ratios = spec.data.split
    splits = {name: parts[name] for name in SPLITS if name in parts}
    if "unsplit" in parts:
        unsplit = parts["unsplit"]
        indices = stratified_split(
            unsplit,
            {"validation": ratios.validation, "test": ratios.test},
            ratios.seed,
            ratios.stratify_by,
        )
        for name in SPLITS:
            piece = unsplit.take(indices[name])
            if name in splits:
                splits[name].extend(piece)
            elif len(piece):
                splits[name] = piece
    if "train" not in splits:
        raise UserError(
            [
                Problem.about(
                    "data.sources",
                    "no training examples",
                    "add a train file or data to split",
                )
            ]
        )
    if "validation" not in splits and ratios.validation > 0:
        train = splits["train"]
        indices = stratified_split(
            train, {"validation": ratios.validation}, ratios.seed, ratios.stratify_by
        )
        splits["train"], splits["validation"] = (
            train.take(indices["train"]),
            train.take(indices["validation"]),
        )
    limit = spec.data.max_rows_per_split
    if limit is not None:
        splits = {
            name: examples.take(sample_indices(len(examples), limit, ratios.seed))
            for name, examples in splits.items()
        }
    return splits


def _read_parts(
    sources: list[ResolvedSource], spec: JobSpec, report: DataReport
) -> dict[str, Examples]:
    """Every source read, by the split it names (`unsplit`: to be cut by ratio)."""
    given: dict[str, list[Examples]] = {name: [] for name in SPLITS}
    unsplit: list[Examples] = []
    for source in sources:
        report.inputs.append(_input_record(source))
        for split, examples in read_source(source, spec).items():
            (given[split] if split else unsplit).append(examples)
    parts = {name: Examples.concatenate(found) for name, found in given.items() if found}
    if unsplit:
        parts["unsplit"] = Examples.concatenate(unsplit)
    return parts


def _input_record(source: ResolvedSource) -> dict:
    if source.path is None:
        return {"path": source.location, "revision": source.revision, "sha256": None}
    digest = tree_sha256(source.path) if source.path.is_dir() else file_sha256(source.path)
    return {
        "path": source.location,
        "split": source.split,
        "language": source.language,
        "sha256": digest,
    }
