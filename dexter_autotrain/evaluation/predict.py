"""Predictions from a trained model, in the toolkit's own environment (current transformers).

Inputs are sorted by length and batched so padding is minimal; inference runs under
`torch.inference_mode()`, on a GPU when there is one. Results come back in input order.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_BATCH_SIZE = 32


@dataclass
class Predictions:
    labels: list[Any]
    """A label per example, or a tag per word for token classification."""
    probabilities: np.ndarray | None = None
    """Class probabilities per example (text and image classification)."""

    @property
    def confidence(self) -> np.ndarray | None:
        return None if self.probabilities is None else self.probabilities.max(axis=1)


class Predictor:
    """A trained model loaded for inference."""

    def __init__(
        self,
        model_dir: Path,
        task: str,
        max_length: int = 128,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ):
        import torch
        from transformers import (
            AutoImageProcessor,
            AutoModelForImageClassification,
            AutoModelForSequenceClassification,
            AutoModelForTokenClassification,
            AutoTokenizer,
        )
        from transformers.utils import logging

        logging.disable_progress_bar()
        self.task, self.max_length, self.batch_size = task, max_length, batch_size
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        model_class = {
            "text-classification": AutoModelForSequenceClassification,
            "token-classification": AutoModelForTokenClassification,
            "image-classification": AutoModelForImageClassification,
        }[task]
        self.model = model_class.from_pretrained(model_dir).to(self.device).eval()
        if task == "image-classification":
            self.processor = AutoImageProcessor.from_pretrained(model_dir)
        else:
            self.tokenizer = AutoTokenizer.from_pretrained(model_dir)
        self.id2label = {int(k): v for k, v in self.model.config.id2label.items()}

    @property
    def labels(self) -> list[str]:
        return [self.id2label[i] for i in sorted(self.id2label)]

    def predict(self, inputs: list[Any], batch_size: int | None = None) -> Predictions:
        batch_size = batch_size or self.batch_size
        if self.task == "image-classification":
            return self._classify(inputs, batch_size, self._image_batch, lambda x: 0)
        if self.task == "text-classification":
            return self._classify(inputs, batch_size, self._text_batch, len)
        return self._tag(inputs, batch_size)

    def _classify(self, inputs, batch_size, make_batch, length) -> Predictions:
        import torch

        order = sorted(range(len(inputs)), key=lambda i: length(inputs[i]))
        probabilities = np.zeros((len(inputs), len(self.id2label)), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                indices = order[start : start + batch_size]
                logits = self.model(**make_batch([inputs[i] for i in indices])).logits
                probabilities[indices] = torch.softmax(logits.float(), dim=-1).cpu().numpy()
        labels = [self.id2label[i] for i in probabilities.argmax(axis=1)]
        return Predictions(labels, probabilities)

    def _text_batch(self, texts: list[str]) -> dict:
        encoded = self.tokenizer(
            texts, truncation=True, max_length=self.max_length, padding=True, return_tensors="pt"
        )
        return {k: v.to(self.device) for k, v in encoded.items()}

    def _image_batch(self, paths: list[str]) -> dict:
        from PIL import Image

        images = []
        for path in paths:
            with Image.open(path) as image:
                images.append(image.convert("RGB"))
        encoded = self.processor(images=images, return_tensors="pt")
        return {k: v.to(self.device) for k, v in encoded.items()}

    def _tag(self, sentences: list[list[str]], batch_size: int) -> Predictions:
        """A tag per word: the prediction for the word's first sub-token; words cut off by
        the length limit are tagged O."""
        import torch

        order = sorted(range(len(sentences)), key=lambda i: len(sentences[i]))
        tags: list[list[str]] = [[] for _ in sentences]
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                indices = order[start : start + batch_size]
                batch = [sentences[i] for i in indices]
                encoded = self.tokenizer(
                    batch,
                    is_split_into_words=True,
                    truncation=True,
                    max_length=self.max_length,
                    padding=True,
                    return_tensors="pt",
                )
                logits = self.model(**{k: v.to(self.device) for k, v in encoded.items()}).logits
                best = logits.argmax(dim=-1).cpu().numpy()
                for row, index in enumerate(indices):
                    words = ["O"] * len(sentences[index])
                    seen = set()
                    for position, word in enumerate(encoded.word_ids(row)):
                        if word is not None and word not in seen:
                            seen.add(word)
                            words[word] = self.id2label[int(best[row, position])]
                    tags[index] = words
        return Predictions(tags)
