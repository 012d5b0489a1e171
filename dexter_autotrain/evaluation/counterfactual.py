"""Counterfactual probe: swap identity terms (ethnic, religious and regional groups, names
from the five language communities) and count how often the prediction changes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

VARIANTS_PER_EXAMPLE = 3
MAX_SHOWN = 5


def load_terms(extra: Path | None) -> dict[str, list[str]]:
    text = resources.files("dexter_autotrain.evaluation").joinpath("identity_terms.yaml")
    terms: dict[str, list[str]] = yaml.safe_load(text.read_text(encoding="utf-8"))
    if extra is not None:
        for category, words in (yaml.safe_load(extra.read_text(encoding="utf-8")) or {}).items():
            terms[category] = list(dict.fromkeys([*terms.get(category, []), *words]))
    return terms


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


def flip_report(variants: list[Swap], original: list[str], predicted: list[str]) -> dict[str, Any]:
    """Flip rate overall and per category, with examples of flips."""
    if not variants:
        return {
            "variants": 0,
            "flip_rate": None,
            "by_category": {},
            "examples": [],
            "note": "no identity term occurs in the evaluated texts",
        }
    flips = [
        (v, label)
        for v, label in zip(variants, predicted, strict=True)
        if label != original[v.example]
    ]
    by_category: dict[str, dict[str, Any]] = {}
    for category in dict.fromkeys(v.category for v in variants):
        total = sum(v.category == category for v in variants)
        flipped = sum(v.category == category for v, _ in flips)
        by_category[category] = {"variants": total, "flips": flipped, "flip_rate": flipped / total}
    return {
        "variants": len(variants),
        "flips": len(flips),
        "flip_rate": len(flips) / len(variants),
        "by_category": by_category,
        "examples": [
            {
                "swap": v.change,
                "category": v.category,
                "before": original[v.example],
                "after": label,
                "text": v.text[:200],
            }
            for v, label in flips[:MAX_SHOWN]
        ],
    }
