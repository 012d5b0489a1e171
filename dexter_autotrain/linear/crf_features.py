"""The token features of the linear family's NER model (a CRF), by name.

This file is copied as it is into every published CRF model repository, beside
`model.crfsuite`, so the model can be used without this toolkit: it imports only the
standard library. Changing a feature changes every model trained after: bump
`FEATURE_SET` so a model and the features it was trained on can never be mixed up.

The set (`FEATURE_SET`, gazetteer-free: nothing but the sentence itself):
- the word: lower-cased, and its prefixes and suffixes of 1-3 characters (affixes carry
  much of Hausa's, Yorùbá's and Igbo's morphology);
- its shape: `Xxxx`, `XX`, `dd`... (each run of one character class kept once: `Xx`, `X`,
  `d`), capitalised, all capitals, a digit, a hyphen, punctuation only, its length bucket;
- its neighbours: the lower-cased word, capitalisation and shape one and two words to
  each side, and the pairs (previous, current) and (current, next);
- the sentence: first word, last word.
"""

from __future__ import annotations

import unicodedata

FEATURE_SET = "dexter-crf-1"
"""The name of this feature set, recorded in the model's config.json."""


def shape(word: str) -> str:
    """`Abuja` -> `Xx`, `APC` -> `X`, `2023` -> `d`, `Ọ̀yọ́` -> `Xx`: each run of a
    character class once."""
    classes = []
    for char in word:
        if unicodedata.category(char).startswith("M"):
            continue  # a combining tone mark belongs to the letter before it
        kind = "X" if char.isupper() else "x" if char.isalpha() else "d" if char.isdigit() else char
        if not classes or classes[-1] != kind:
            classes.append(kind)
    return "".join(classes)


def _length_bucket(word: str) -> str:
    return str(len(word)) if len(word) < 4 else "4-7" if len(word) < 8 else "8+"


def _word(word: str) -> dict[str, str | float]:
    lower = word.lower()
    features: dict[str, str | float] = {
        "lower": lower,
        "shape": shape(word),
        "length": _length_bucket(word),
        "title": float(word[:1].isupper()),
        "upper": float(word.isupper()),
        "digit": float(any(char.isdigit() for char in word)),
        "hyphen": float("-" in word),
        "punctuation": float(not any(char.isalnum() for char in word)),
    }
    for size in (1, 2, 3):
        features[f"prefix{size}"] = lower[:size]
        features[f"suffix{size}"] = lower[-size:]
    return features


def _neighbour(word: str) -> dict[str, str | float]:
    return {"lower": word.lower(), "title": float(word[:1].isupper()), "shape": shape(word)}


def sentence_features(words: list[str]) -> list[dict[str, str | float]]:
    """The features of each word of a sentence, for crfsuite (`Tagger.tag`).

    Example:
        ```python
        >>> sentence_features(["Tinubu", "visited", "Kano"])[0]["shape"]
        'Xx'
        ```
    """
    rows = []
    for index, word in enumerate(words):
        features = _word(word)
        for offset in (-2, -1, 1, 2):
            position = index + offset
            if 0 <= position < len(words):
                for name, value in _neighbour(words[position]).items():
                    features[f"{offset:+d}:{name}"] = value
        if index == 0:
            features["first"] = 1.0
        else:
            features["-1|0"] = f"{words[index - 1].lower()}|{word.lower()}"
        if index == len(words) - 1:
            features["last"] = 1.0
        else:
            features["0|+1"] = f"{word.lower()}|{words[index + 1].lower()}"
        rows.append(features)
    return rows
