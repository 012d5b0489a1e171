"""Predictions from a trained model, in the toolkit's own environment (current transformers).

Inputs are tokenized once, sorted by length and batched so padding is minimal (lengths are
rounded up to a multiple of 8, so few distinct shapes need kernels); inference
runs under `torch.inference_mode()`, on a GPU when there is one. Results come back in input
order.

Precision `auto` runs a bfloat16 copy of the model where the hardware computes bfloat16
natively (CPUs with AMX or AVX512-BF16, GPUs that support it), which is 2-3x faster than
float32 on such CPUs, and then re-scores in float32 every close call: each example whose two
best classes (for NER: at any word) are less than `CLOSE_CALL_MARGIN` apart in probability.
bfloat16 moves probabilities by a few hundredths at most, so the labels are float32's.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dexter_autotrain.spec.model import Precision

DEFAULT_BATCH_SIZE = 32
CLOSE_CALL_MARGIN = 0.1
PAD_TO_MULTIPLE = 8


@dataclass
class Predictions:
    labels: list[Any]
    """A label per example, or a tag per word for token classification."""
    probabilities: np.ndarray | None = None
    """Class probabilities per example (text and image classification)."""
    rescored: int = 0
    """Close calls re-scored in float32 after the bfloat16 pass."""
    batch_seconds: list[float] = field(default_factory=list)
    """Seconds per batch of the main pass (length-sorted batches)."""

    @property
    def confidence(self) -> np.ndarray | None:
        return None if self.probabilities is None else self.probabilities.max(axis=1)

    def head(self, count: int) -> Predictions:
        """The predictions for the first `count` inputs."""
        probabilities = None if self.probabilities is None else self.probabilities[:count]
        return Predictions(self.labels[:count], probabilities, self.rescored, self.batch_seconds)


def native_bfloat16(device_type: str) -> bool:
    """Whether the device computes bfloat16 natively (elsewhere it is emulated, and slow)."""
    import torch

    if device_type == "cuda":
        return torch.cuda.is_bf16_supported()
    probes = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
    return any(getattr(torch.cpu, probe, lambda: False)() for probe in probes)


class Predictor:
    """A trained model loaded for inference."""

    def __init__(
        self,
        model_dir: Path,
        task: str,
        max_length: int = 128,
        batch_size: int = DEFAULT_BATCH_SIZE,
        precision: Precision = "auto",
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
        self.model = model_class.from_pretrained(model_dir, dtype=torch.float32)
        self.model = self.model.to(self.device).eval()
        self.fast_model = None
        if precision == "bfloat16" or (precision == "auto" and native_bfloat16(self.device.type)):
            self.fast_model = copy.deepcopy(self.model).to(torch.bfloat16)
        if task == "image-classification":
            self.processor = AutoImageProcessor.from_pretrained(model_dir)
        else:
            self.tokenizer = AutoTokenizer.from_pretrained(model_dir)
        self.id2label = {int(k): v for k, v in self.model.config.id2label.items()}

    @property
    def labels(self) -> list[str]:
        return [self.id2label[i] for i in sorted(self.id2label)]

    @property
    def dtype(self) -> str:
        """The dtype of the main pass."""
        return "float32" if self.fast_model is None else "bfloat16"

    @property
    def precision(self) -> str:
        """What the predictions were computed in, for reports."""
        if self.fast_model is None:
            return "float32"
        return f"bfloat16, close calls (margin < {CLOSE_CALL_MARGIN}) re-scored in float32"

    def predict(
        self, inputs: list[Any], batch_size: int | None = None, rescore: bool = True
    ) -> Predictions:
        batch_size = batch_size or self.batch_size
        if self.task == "image-classification":
            lengths = [0] * len(inputs)
            make_batch = self._image_batch(inputs)
        else:
            encoded = self.tokenizer(
                inputs,
                is_split_into_words=self.task == "token-classification",
                truncation=True,
                max_length=self.max_length,
            )
            lengths = [len(ids) for ids in encoded["input_ids"]]
            make_batch = self._text_batch(encoded)
        if self.task == "token-classification":
            read = self._word_tags(encoded, [len(words) for words in inputs])
        else:
            read = _class_probabilities
        results, rescored, seconds = self._passes(lengths, make_batch, read, batch_size, rescore)
        if self.task == "token-classification":
            return Predictions(results, None, rescored, seconds)
        probabilities = np.stack(results) if results else np.zeros((0, len(self.id2label)))
        labels = [self.id2label[int(i)] for i in probabilities.argmax(axis=1)]
        return Predictions(labels, probabilities.astype(np.float32), rescored, seconds)

    def time_batches(self, inputs: list[Any], batch_size: int) -> list[float]:
        """Seconds per batch, in input order, for the main pass alone (no re-scoring)."""
        latencies = []
        for start in range(0, len(inputs), batch_size):
            began = time.perf_counter()
            self.predict(inputs[start : start + batch_size], batch_size, rescore=False)
            latencies.append(time.perf_counter() - began)
        return latencies

    def _passes(
        self,
        lengths: list[int],
        make_batch: Callable[[list[int]], dict],
        read: Callable[[np.ndarray, int], tuple[Any, float]],
        batch_size: int,
        rescore: bool,
    ) -> tuple[list[Any], int, list[float]]:
        """The main pass (bfloat16 where native), then float32 over the close calls."""
        results: list[Any] = [None] * len(lengths)
        margins = np.zeros(len(lengths))
        order = sorted(range(len(lengths)), key=lengths.__getitem__)
        main = self.fast_model or self.model
        seconds = self._pass(main, order, make_batch, read, results, margins, batch_size)
        if self.fast_model is None or not rescore:
            return results, 0, seconds
        close = [index for index in order if margins[index] < CLOSE_CALL_MARGIN]
        self._pass(self.model, close, make_batch, read, results, margins, batch_size)
        return results, len(close), seconds

    def _pass(self, model, order, make_batch, read, results, margins, batch_size) -> list[float]:
        import torch

        seconds = []
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                began = time.perf_counter()
                indices = order[start : start + batch_size]
                logits = model(**make_batch(indices)).logits
                probabilities = torch.softmax(logits.float(), dim=-1).cpu().numpy()
                for row, index in enumerate(indices):
                    results[index], margins[index] = read(probabilities[row], index)
                seconds.append(time.perf_counter() - began)
        return seconds

    def _text_batch(self, encoded) -> Callable[[list[int]], dict]:
        """Right-padded tensors for some of the pre-tokenized examples."""
        import torch

        pad_id = self.tokenizer.pad_token_id or 0
        names = [name for name in ("input_ids", "token_type_ids") if name in encoded]

        def make_batch(indices: list[int]) -> dict:
            rows = [encoded["input_ids"][i] for i in indices]
            longest = max(len(row) for row in rows)
            # few distinct shapes: kernels are compiled per shape on first use
            width = max(
                longest, min(-(-longest // PAD_TO_MULTIPLE) * PAD_TO_MULTIPLE, self.max_length)
            )
            mask = np.zeros((len(rows), width), dtype=np.int64)
            batch = {}
            for name in names:
                values = np.full((len(rows), width), pad_id if name == "input_ids" else 0)
                for row, index in enumerate(indices):
                    values[row, : len(rows[row])] = encoded[name][index]
                batch[name] = torch.from_numpy(values).to(self.device)
            for row, ids in enumerate(rows):
                mask[row, : len(ids)] = 1
            batch["attention_mask"] = torch.from_numpy(mask).to(self.device)
            return batch

        return make_batch

    def _image_batch(self, paths: list[str]) -> Callable[[list[int]], dict]:
        def make_batch(indices: list[int]) -> dict:
            from PIL import Image

            images = []
            for index in indices:
                with Image.open(paths[index]) as image:
                    images.append(image.convert("RGB"))
            encoded = self.processor(images=images, return_tensors="pt")
            return {k: v.to(self.device) for k, v in encoded.items()}

        return make_batch

    def _word_tags(self, encoded, word_counts: list[int]):
        """A tag per word: the prediction for the word's first sub-token; words cut off by
        the length limit are tagged O. The margin is the closest call among the words."""

        def read(probabilities: np.ndarray, index: int) -> tuple[list[str], float]:
            words, margin, seen = ["O"] * word_counts[index], 1.0, set()
            for position, word in enumerate(encoded.word_ids(index)):
                if word is not None and word not in seen:
                    seen.add(word)
                    words[word] = self.id2label[int(probabilities[position].argmax())]
                    margin = min(margin, _top_two_margin(probabilities[position]))
            return words, margin

        return read


def _top_two_margin(probabilities: np.ndarray) -> float:
    if len(probabilities) < 2:
        return 1.0
    second, first = np.partition(probabilities, -2)[-2:]
    return float(first - second)


def _class_probabilities(probabilities: np.ndarray, index: int) -> tuple[np.ndarray, float]:
    return probabilities, _top_two_margin(probabilities)
