"""A Dexter linear model, loaded and queried without the Dexter toolkit.

This file is copied as `handler.py` into every published linear model repository. It is
the custom handler Hugging Face Inference Endpoints run for a repository that is not a
transformers model (`EndpointHandler`), and a usage example anywhere else:

    from handler import EndpointHandler
    model = EndpointHandler("path/to/the/downloaded/repo")
    model({"inputs": "Gwamnati ta sanar da sabon tsari"})

It needs only `requirements.txt` (scikit-learn and skops, or python-crfsuite): the text
model is a scikit-learn pipeline stored with skops, loaded with only the types below
trusted (a skops file cannot run code); a NER model is a crfsuite model file with its
feature code, `crf_features.py`, beside it.
"""

from __future__ import annotations

import json
import math
import re
import sys
from pathlib import Path
from typing import Any

SKOPS_TRUSTED = (
    "collections.defaultdict",
    "numpy.float64",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "sklearn.feature_extraction.text.TfidfVectorizer",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.pipeline.FeatureUnion",
    "sklearn.pipeline.Pipeline",
)
"""The only types a stored text model may hold; skops refuses to load any other."""
WORD = re.compile(r"\S+")


class EndpointHandler:
    """Answers `{"inputs": text or [texts]}` as Inference Endpoints' text and
    token classification tasks answer."""

    def __init__(self, path: str = "") -> None:
        folder = Path(path or ".")
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        self.kind = config["dexter_linear"]["kind"]
        if self.kind == "crf":
            import pycrfsuite

            sys.path.insert(0, str(folder))
            from crf_features import sentence_features

            self.features = sentence_features
            self.tagger = pycrfsuite.Tagger()
            self.tagger.open(str(folder / "model.crfsuite"))
        else:
            import skops.io

            self.pipeline = skops.io.load(folder / "model.skops", trusted=list(SKOPS_TRUSTED))

    def __call__(self, data: dict[str, Any]) -> list[Any]:
        inputs = data["inputs"]
        texts = [inputs] if isinstance(inputs, str) else list(inputs)
        if self.kind == "crf":
            answers = [self._entities(text) for text in texts]
            return answers[0] if isinstance(inputs, str) else answers
        probabilities = self.pipeline.predict_proba(texts)
        classes = [str(label) for label in self.pipeline.classes_]
        return [
            sorted(
                (
                    {"label": label, "score": float(p)}
                    for label, p in zip(classes, row, strict=True)
                ),
                key=lambda answer: -answer["score"],
            )
            for row in probabilities
        ]

    def _entities(self, text: str) -> list[dict[str, Any]]:
        """Entities as the NER pipeline groups them with `aggregation_strategy=simple`."""
        words = list(WORD.finditer(text))
        if not words:
            return []
        self.tagger.set(self.features([word.group() for word in words]))
        entities: list[dict[str, Any]] = []
        for index, tag in enumerate(self.tagger.tag()):
            score = self.tagger.marginal(tag, index)
            start, end = words[index].span()
            kind = tag[2:]
            if tag.startswith("I-") and entities and entities[-1]["entity_group"] == kind:
                last = entities[-1]
                last["end"], last["scores"] = end, [*last["scores"], score]
            elif tag != "O":
                entities.append(
                    {"entity_group": kind, "start": start, "end": end, "scores": [score]}
                )
        for entity in entities:
            scores = entity.pop("scores")
            entity["score"] = math.fsum(scores) / len(scores)
            entity["word"] = text[entity["start"] : entity["end"]]
        return entities
