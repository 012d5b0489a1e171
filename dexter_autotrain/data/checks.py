"""Content checks on read examples: empty inputs, unknown labels, IOB2, counts, images."""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from dexter_autotrain.data.examples import Examples
from dexter_autotrain.errors import Problem
from dexter_autotrain.policy.spec_paths import is_safe_name, snippet
from dexter_autotrain.spec import JobSpec
from dexter_autotrain.spec.rules import did_you_mean
from dexter_autotrain.system.files import display_path

MAX_EXAMPLE_PROBLEMS = 5
NAME_CHARS = 40
"""Labels and tokens longer than this are cut short in messages."""
_UNSAFE = "cannot be a folder name"


@dataclass
class CheckResult:
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    repaired_iob2: int = 0


def _short(text: str, quote: str = "`") -> str:
    """A label or token for a message: itself (in `quote`s), or a cut, escaped snippet."""
    return f"{quote}{text}{quote}" if len(text) <= NAME_CHARS else snippet(text, NAME_CHARS)


def _at(examples: Examples, index: int, message: str, hint: str = "") -> Problem:
    file, line = examples.origin(index)
    return Problem.at(file, line or None, message, hint)


def apply_label_map(examples: Examples, label_map: dict[str, str]) -> None:
    if not label_map:
        return
    labels = examples.labels
    for index, label in enumerate(labels):
        if isinstance(label, list):
            labels[index] = [label_map.get(tag, tag) for tag in label]
        else:
            labels[index] = label_map.get(label, label)


def drop_empty_inputs(examples: Examples, result: CheckResult) -> Examples:
    """Rows whose text (or token list) is empty are dropped, with a warning naming them."""
    empty = [
        i
        for i, value in enumerate(examples.inputs)
        if not (value.strip() if isinstance(value, str) else value)
    ]
    if not empty:
        return examples
    where = ", ".join(":".join(map(str, examples.origin(i))) for i in empty[:MAX_EXAMPLE_PROBLEMS])
    more = (
        f" and {len(empty) - MAX_EXAMPLE_PROBLEMS} more"
        if len(empty) > MAX_EXAMPLE_PROBLEMS
        else ""
    )
    result.warnings.append(
        Problem.about(
            "",
            f"{len(empty)} examples with empty input dropped ({where}{more})",
            "remove or fill those rows",
        )
    )
    keep = sorted(set(range(len(examples))) - set(empty))
    return examples.take(keep)


def check_types(examples: Examples, token_task: bool, result: CheckResult) -> None:
    """JSONL and Parquet can hold anything: texts must be strings, tokens lists of strings."""
    expected = "a list of strings" if token_task else "a string"
    bad = [
        i
        for i, (value, label) in enumerate(zip(examples.inputs, examples.labels, strict=True))
        if not _fits(value, token_task)
        or not _fits(label, token_task)
        or (token_task and len(value) != len(label))
    ]
    for index in bad[:MAX_EXAMPLE_PROBLEMS]:
        result.errors.append(
            _at(
                examples,
                index,
                f"input and label must each be {expected}"
                + (" of equal length" if token_task else ""),
                "fix this row",
            )
        )


def _fits(value: object, token_task: bool) -> bool:
    if token_task:
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    return isinstance(value, str)


def check_labels(examples: Examples, allowed: list[str], result: CheckResult) -> None:
    """Every label (or tag) must be one of `allowed`; each unknown one is reported once."""
    allowed_set = set(allowed)
    first_seen: dict[str, int] = {}
    counts: Counter[str] = Counter()
    for index, label in enumerate(examples.labels):
        for value in label if isinstance(label, list) else (label,):
            if value not in allowed_set:
                first_seen.setdefault(value, index)
                counts[value] += 1
    for value, index in first_seen.items():
        hint = "add it to data.labels, or map it with data.label_map"
        if len(value) <= NAME_CHARS:
            hint = f"{did_you_mean(value, allowed)} Or {hint}"
        result.errors.append(
            _at(
                examples,
                index,
                f"label {_short(value)} is not in data.labels ({counts[value]} rows, first here)",
                hint,
            )
        )


def check_folder_names(
    examples: Examples, declared: Iterable[str], spec_file: str, result: CheckResult
) -> None:
    """Image labels become folder names (`data/<split>/<label>/`): each must be a safe name,
    never a path such as `../../x`. `declared` are the spec's data.labels."""
    hint = "use letters, digits and `._ +-` (image labels become folder names)"
    for label in dict.fromkeys(declared):
        if not is_safe_name(label):
            result.errors.append(
                Problem(spec_file, None, None, "data.labels", f"{snippet(label)} {_UNSAFE}", hint)
            )
    first_seen: dict[str, int] = {}
    for index, label in enumerate(examples.labels):
        first_seen.setdefault(label, index)
    for label, index in first_seen.items():
        if not is_safe_name(label):
            result.errors.append(_at(examples, index, f"label {snippet(label)} {_UNSAFE}", hint))


def check_iob2(examples: Examples, result: CheckResult, repair: bool) -> None:
    """An I-X tag must follow B-X or I-X (strict IOB2). With `repair`, a stray I-X becomes
    B-X and a warning counts them."""
    found = 0
    for index, tags in enumerate(examples.labels):
        previous = "O"
        for position, tag in enumerate(tags):
            if tag.startswith("I-") and previous[2:] != tag[2:]:
                found += 1
                if repair:
                    tags[position] = tag = "B-" + tag[2:]
                elif found <= MAX_EXAMPLE_PROBLEMS:
                    token = examples.inputs[index][position]
                    result.errors.append(
                        _at(
                            examples,
                            index,
                            f"invalid IOB2: token {position + 1} ({_short(token)}) is "
                            f"{_short(tag, '')} after {_short(previous, '')}",
                            f"an entity starts with B-{tag[2:]}; or set data.fix_iob2: true",
                        )
                    )
            previous = tag
    if repair:
        result.repaired_iob2 += found
    elif found > MAX_EXAMPLE_PROBLEMS:
        result.errors.append(
            Problem.about(
                "",
                f"... and {found - MAX_EXAMPLE_PROBLEMS} more invalid IOB2 tags",
                "",
            )
        )


def check_minimum_counts(
    train: Examples, spec: JobSpec, token_task: bool, result: CheckResult
) -> None:
    """Enough training examples per label (entity type for NER) and per language."""
    if token_task:
        per_label = Counter(tag[2:] for tags in train.labels for tag in tags if tag[:2] == "B-")
        declared = [tag[2:] for tag in spec.data.labels or () if tag[:2] in ("B-", "I-")]
    else:
        per_label = Counter(train.labels)
        declared = list(spec.data.labels or ())
    for name in declared:  # declared in data.labels, yet no training example: a dead class
        per_label.setdefault(name, 0)
    limits = (
        (
            "label",
            per_label,
            spec.data.min_examples_per_label,
            "add examples, merge the label with data.label_map, or lower the minimum",
        ),
        (
            "language",
            Counter(train.languages),
            spec.data.min_examples_per_language,
            "add examples or lower data.min_examples_per_language",
        ),
    )
    for kind, counts, minimum, hint in limits:
        for name, count in sorted(counts.items()):
            if count < minimum:
                result.errors.append(
                    Problem.about(
                        "data",
                        f"{kind} {_short(name)} has {count} training examples, "
                        f"fewer than data.min_examples_per_{kind} ({minimum})",
                        hint,
                    )
                )


def check_images(examples: Examples, result: CheckResult) -> None:
    """Every image opens, and none claims more pixels than PIL's decompression-bomb limit
    (a small file whose header claims 30000x30000 would take gigabytes to decode)."""
    from PIL import Image

    for path in examples.inputs:
        message = _image_problem(Image, path)
        if message:
            result.errors.append(
                Problem(
                    display_path(Path(path)), None, None, "", message, "replace or remove the file"
                )
            )


def _image_problem(image_module, path: str) -> str | None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", image_module.DecompressionBombWarning)
        try:
            with image_module.open(path) as image:
                image.verify()
        except (image_module.DecompressionBombError, image_module.DecompressionBombWarning):
            limit = image_module.MAX_IMAGE_PIXELS or 0
            return f"image claims more than {limit // 1_000_000} million pixels"
        except (OSError, SyntaxError, ValueError):  # UnidentifiedImageError is an OSError
            return "unreadable image"
    return None


AUTOTRAIN_MIN_IMAGES = 5


def check_image_splits(splits: dict[str, Examples], result: CheckResult) -> None:
    """AutoTrain's image loader wants every class, with 5 or more images, in both train and
    validation; say so before it fails deep inside the runner."""
    counts = {name: Counter(splits[name].labels) for name in ("train", "validation")}
    for label in sorted(set(counts["train"]) | set(counts["validation"])):
        for name in ("train", "validation"):
            if counts[name][label] < AUTOTRAIN_MIN_IMAGES:
                result.errors.append(
                    Problem.about(
                        "data",
                        f"class {_short(label)} has {counts[name][label]} "
                        f"{name} images; AutoTrain needs at least {AUTOTRAIN_MIN_IMAGES}",
                        "add images, or raise data.split.validation",
                    )
                )
