"""Counterfactual probe: swap identity terms (ethnic, religious and regional groups, names
from the five language communities) and count how often the prediction changes."""

from __future__ import annotations

import re
from collections.abc import Callable
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


def probe(
    texts: list[str],
    original: list[str],
    predict: Callable[[list[str]], list[str]],
    terms: dict[str, list[str]],
) -> dict[str, Any]:
    """Flip rate overall and per category, with examples of flips."""
    patterns = {
        category: re.compile(r"\b(" + "|".join(map(re.escape, words)) + r")\b", re.IGNORECASE)
        for category, words in terms.items()
    }
    variants: list[tuple[int, str, str, str]] = []  # (example, category, swapped in, text)
    for index, text in enumerate(texts):
        for category, pattern in patterns.items():
            match = pattern.search(text)
            if match is None:
                continue
            words = terms[category]
            found = next(w for w in words if w.lower() == match[1].lower())
            others = [w for w in words if w != found][:VARIANTS_PER_EXAMPLE]
            for other in others:
                variants.append(
                    (
                        index,
                        category,
                        f"{found} -> {other}",
                        text[: match.start()] + other + text[match.end() :],
                    )
                )
    if not variants:
        return {
            "variants": 0,
            "flip_rate": None,
            "by_category": {},
            "examples": [],
            "note": "no identity term occurs in the evaluated texts",
        }
    predicted = predict([variant[3] for variant in variants])
    flips = [
        (v, label) for v, label in zip(variants, predicted, strict=True) if label != original[v[0]]
    ]
    by_category: dict[str, dict[str, Any]] = {}
    for category in terms:
        total = sum(v[1] == category for v in variants)
        if total:
            flipped = sum(v[1] == category for v, _ in flips)
            by_category[category] = {
                "variants": total,
                "flips": flipped,
                "flip_rate": flipped / total,
            }
    return {
        "variants": len(variants),
        "flips": len(flips),
        "flip_rate": len(flips) / len(variants),
        "by_category": by_category,
        "examples": [
            {
                "swap": v[2],
                "category": v[1],
                "before": original[v[0]],
                "after": label,
                "text": v[3][:200],
            }
            for v, label in flips[:MAX_SHOWN]
        ],
    }
