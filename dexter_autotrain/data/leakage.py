"""Find examples shared between splits, exactly and after normalisation.

Normalisation lower-cases, removes URLs and @mentions and collapses whitespace, so a tweet
re-posted with another link or handle still counts as the same example.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass

from dexter_autotrain.data.examples import Examples
from dexter_autotrain.tasks import get_task

_URL = re.compile(r"https?://\S+|www\.\S+")
_MENTION = re.compile(r"@\w+")
PAIRS = (("train", "validation"), ("train", "test"), ("validation", "test"))


def normalise(text: str) -> str:
    return " ".join(_MENTION.sub(" ", _URL.sub(" ", text.lower())).split())


@dataclass(frozen=True)
class Keys:
    """Per-row keys of one split: exact and normalised (hashes, to keep memory small)."""

    exact: list[int]
    normalised: list[int]


def row_keys(examples: Examples, task: str) -> Keys:
    kind = get_task(task)
    if kind.reads_images:
        digests = [_file_digest(path) for path in examples.inputs]
        return Keys(digests, digests)
    texts = [" ".join(tokens) for tokens in examples.inputs] if kind.per_token else examples.inputs
    return Keys([hash(text) for text in texts], [hash(normalise(text)) for text in texts])


def _file_digest(path: str) -> int:
    with open(path, "rb") as handle:
        return int.from_bytes(hashlib.sha256(handle.read()).digest()[:8], "big")


def overlaps(splits: dict[str, Examples], keys: dict[str, Keys]) -> dict[str, dict]:
    """For each pair (earlier, later): rows of `later` also found in `earlier`, per language."""
    report: dict[str, dict] = {}
    for earlier, later in PAIRS:
        if earlier not in keys or later not in keys:
            continue
        exact_seen, normal_seen = set(keys[earlier].exact), set(keys[earlier].normalised)
        exact: Counter[str] = Counter()
        normal: Counter[str] = Counter()
        for index, language in enumerate(splits[later].languages):
            exact[language] += keys[later].exact[index] in exact_seen
            normal[language] += keys[later].normalised[index] in normal_seen
        report[f"{later}_in_{earlier}"] = {
            "exact": sum(exact.values()),
            "normalised": sum(normal.values()),
            "by_language": {
                language: {"exact": exact[language], "normalised": normal[language]}
                for language in sorted(normal)
                if normal[language]
            },
        }
    return report


def duplicates_within(keys: Keys) -> int:
    """Rows that repeat an earlier row of the same split exactly."""
    return len(keys.exact) - len(set(keys.exact))


def leaked_train_rows(keys: dict[str, Keys]) -> list[int]:
    """Train rows whose normalised text occurs in validation or test."""
    held_out = {
        key for name in ("validation", "test") if name in keys for key in keys[name].normalised
    }
    return [index for index, key in enumerate(keys["train"].normalised) if key in held_out]
