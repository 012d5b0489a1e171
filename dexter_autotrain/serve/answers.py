"""Answers shaped as Inference Endpoints give them, from the logits the evaluation's
Predictor computed.

Classification: `[{"label", "score"}]`, best first (ties keep the model's class order, so the
first label is the evaluation's argmax). Token classification: the words of a text are its
whitespace-separated runs (their character offsets are kept), tagged as the evaluation tags
them; tags become entities as transformers' pipeline groups them (`B-X` starts an entity,
`I-X` after `X` continues it) and an entity's score is the mean of its words' scores.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np

_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class Word:
    """A whitespace-separated run of a text and where it lies in it."""

    text: str
    start: int
    end: int


def split_words(text: str) -> list[Word]:
    """The words the model tags, with their character offsets."""
    return [Word(m.group(), m.start(), m.end()) for m in _WORD.finditer(text)]


def scores(logits: np.ndarray, function: str) -> np.ndarray:
    """`softmax`, `sigmoid` or `none` (the logits as they are) over the last axis."""
    logits = np.asarray(logits, dtype=np.float64)
    if function == "sigmoid":
        return 1.0 / (1.0 + np.exp(-logits))
    if function == "none":
        return logits
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def classes(
    logits: np.ndarray, labels: list[str], top_k: int | None, function: str
) -> list[dict[str, Any]]:
    """Each class and its score, best first, the `top_k` best (all when None)."""
    values = scores(logits, function)
    order = np.argsort(-values, kind="stable")[: top_k or len(labels)]
    return [{"label": labels[i], "score": float(values[i])} for i in order]


def entities(
    words: list[Word],
    tags: list[str],
    logits: np.ndarray,
    text: str,
    aggregation: str,
    ignore_labels: tuple[str, ...],
) -> list[dict[str, Any]]:
    """The entities of one text (`aggregation` `none`: each tagged word on its own)."""
    # words cut off by the length limit have no logits (NaN): they are tagged O, score 0
    word_scores = np.nan_to_num(scores(logits, "softmax").max(axis=-1), nan=0.0)
    if aggregation == "none":
        return [
            {"entity": tag, "score": float(score), "index": index, "word": word.text,
             "start": word.start, "end": word.end}
            for index, (word, tag, score) in enumerate(zip(words, tags, word_scores, strict=True))
            if tag not in ignore_labels
        ]  # fmt: skip
    found = []
    for group, members in _groups(tags):
        if group in ignore_labels:
            continue
        start, end = words[members[0]].start, words[members[-1]].end
        found.append(
            {
                "entity_group": group,
                "score": float(np.mean(word_scores[members])),
                "word": text[start:end],
                "start": start,
                "end": end,
            }
        )
    return found


def _groups(tags: list[str]) -> list[tuple[str, list[int]]]:
    """Runs of words that form one entity, as transformers' pipeline groups them."""
    groups: list[tuple[str, list[int]]] = []
    for index, tag in enumerate(tags):
        begins, kind = _split_tag(tag)
        if groups and not begins and groups[-1][0] == kind:
            groups[-1][1].append(index)
        else:
            groups.append((kind, [index]))
    return groups


def _split_tag(tag: str) -> tuple[bool, str]:
    """(`B-` starts an entity, its type); a tag without prefix continues like `I-`."""
    if tag.startswith(("B-", "I-")):
        return tag[0] == "B", tag[2:]
    return False, tag
