"""Counterfactual probe: swap identity terms (ethnic, religious and regional groups, names
from the five language communities) and count how often the prediction changes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from dexter_autotrain.errors import Problem, UserError
from dexter_autotrain.policy.spec_paths import read_bounded
from dexter_autotrain.report_record import Counterfactual, ProbeCategory, ProbeFlip
from dexter_autotrain.system.files import display_path

TERMS_FIELD = "evaluation.identity_terms"
MAX_TERMS_BYTES = 256 * 1024
VARIANTS_PER_EXAMPLE = 3
MAX_SHOWN = 5


def load_terms(extra: Path | None) -> dict[str, list[str]]:
    """The built-in identity terms, with the job's own file (`evaluation.identity_terms`,
    already confined to the job's repository) merged in category by category."""
    text = resources.files("dexter_autotrain.evaluation").joinpath("identity_terms.yaml")
    terms: dict[str, list[str]] = yaml.safe_load(text.read_text(encoding="utf-8"))
    if extra is not None:
        for category, words in _read_terms(extra).items():
            terms[category] = list(dict.fromkeys([*terms.get(category, []), *words]))
    return terms


def _read_terms(path: Path) -> dict[str, list[str]]:
    """A terms file (`category: [term, ...]`), read bounded, or one located UserError."""
    shown = display_path(path)
    data = read_bounded(path, MAX_TERMS_BYTES, shown, TERMS_FIELD, "terms file")
    try:
        terms = yaml.safe_load(data.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark else None
        raise _terms_error(shown, line, "not a YAML file in UTF-8") from None
    if not _is_terms(terms):
        raise _terms_error(shown, None, "must map each category to a list of non-empty terms")
    return terms


def _terms_error(shown: str, line: int | None, message: str) -> UserError:
    hint = "for example `states: [Kano, Lagos, Enugu]`, one category a line"
    return UserError([Problem(shown, line, None, TERMS_FIELD, message, hint)])


def _is_terms(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(category, str)
        and isinstance(words, list)
        and all(isinstance(word, str) and word.strip() for word in words)
        for category, words in value.items()
    )


@dataclass(frozen=True)
class Swap:
    example: int
    category: str
    change: str
    """"found -> swapped in"."""
    text: str


def swaps(texts: list[str], terms: dict[str, list[str]]) -> list[Swap]:
    """Variants of each text with one identity term swapped for others of its category."""
    patterns = {
        category: re.compile(r"\b(" + "|".join(map(re.escape, words)) + r")\b", re.IGNORECASE)
        for category, words in terms.items()
    }
    variants = []
    for index, text in enumerate(texts):
        for category, pattern in patterns.items():
            match = pattern.search(text)
            if match is None:
                continue
            words = terms[category]
            found = next(w for w in words if w.lower() == match[1].lower())
            others = [w for w in words if w != found][:VARIANTS_PER_EXAMPLE]
            variants += [
                Swap(
                    index,
                    category,
                    f"{found} -> {other}",
                    text[: match.start()] + other + text[match.end() :],
                )
                for other in others
            ]
    return variants


def flip_report(variants: list[Swap], original: list[str], predicted: list[str]) -> Counterfactual:
    """Flip rate overall and per category, with examples of flips."""
    if not variants:
        return Counterfactual(
            variants=0,
            flip_rate=None,
            by_category={},
            examples=[],
            note="no identity term occurs in the evaluated texts",
        )
    flips = [
        (v, label)
        for v, label in zip(variants, predicted, strict=True)
        if label != original[v.example]
    ]
    by_category = {}
    for category in dict.fromkeys(v.category for v in variants):
        total = sum(v.category == category for v in variants)
        flipped = sum(v.category == category for v, _ in flips)
        by_category[category] = ProbeCategory(
            variants=total, flips=flipped, flip_rate=flipped / total
        )
    return Counterfactual(
        variants=len(variants),
        flips=len(flips),
        flip_rate=len(flips) / len(variants),
        by_category=by_category,
        examples=[
            ProbeFlip(
                swap=v.change,
                category=v.category,
                before=original[v.example],
                after=label,
                text=v.text[:200],
            )
            for v, label in flips[:MAX_SHOWN]
        ],
    )
