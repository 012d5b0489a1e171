"""Predictions from a trained model, in the toolkit's own environment (current transformers).

Inputs are tokenized once, sorted by length and batched by tokens: up to `TOKENS_PER_BATCH`
padded tokens a batch, so short texts go many to a forward pass (a pass costs a few
milliseconds however small), and a new batch wherever padding the batch up to the next
example would cost more than a pass (`PASS_COST_IN_TOKENS`). Widths are rounded up to a
multiple of 8, so there are few distinct shapes to build kernels for. Inference runs under
`torch.inference_mode()`, on a GPU when there is one. Results come back in input order.

Precision `auto` runs a bfloat16 copy of the model where the hardware computes bfloat16
natively (CPUs with AMX or AVX512-BF16, GPUs that support it), which is 2-3x faster than
float32 on such CPUs, and then re-scores in float32 every close call, so the labels are
float32's. A label can differ from float32's only where bfloat16 moved the logit difference
between two classes (its drift) by more than the gap between the example's two best classes
(for NER: at any word). So the closest calls are re-scored first, which measures the drift,
then every example whose gap is under `DRIFT_SAFETY` times the largest drift seen so far,
until no more are under it.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dexter_autotrain.runner_scripts.subwords import first_subtokens
from dexter_autotrain.spec.model import Precision
from dexter_autotrain.tasks import get_task

DEFAULT_BATCH_SIZE = 32
"""Images a batch (their inputs have no length to budget by)."""
TOKENS_PER_BATCH = {"bfloat16": 4096, "float32": 1024}
"""Best measured on a 2-core AMX CPU: bfloat16 tiles like big batches; float32 slows down
once a batch's activations no longer fit the cache."""
DRIFT_SAFETY = 3.0
"""Calls closer than this many times bfloat16's largest measured drift are re-scored (on the
sentiment model benchmarked, the largest drift over all 5,000 examples was 1.55x the largest
among the re-scored)."""
PASS_COST_IN_TOKENS = 64
"""About what a forward pass costs beyond its tokens, in tokens (a few milliseconds)."""
PAD_TO_MULTIPLE = 8
CLOSEST_FIRST = 32
"""Calls re-scored first, to measure bfloat16's drift, whatever their gaps."""


@dataclass(frozen=True)
class Rescoring:
    """How the close calls of a bfloat16 pass were re-scored in float32."""

    examples: int = 0
    gap: float = 0.0
    """Every call whose two best classes were less than this apart in logits was re-scored
    (and the `CLOSEST_FIRST` closest, whatever their gaps)."""
    drift: float = 0.0
    """The most bfloat16 moved any logit difference among the re-scored examples."""


@dataclass
class Predictions:
    labels: list[Any]
    """A label per example, or a tag per word for token classification."""
    probabilities: np.ndarray | None = None
    """Class probabilities per example (text and image classification)."""
    rescoring: Rescoring = field(default_factory=Rescoring)
    """Close calls re-scored in float32 after a bfloat16 pass."""
    logits: list[np.ndarray] | None = None
    """The logits behind each example's labels, for scores (the server's): a row for a
    classification, a row per word for NER (NaN for words cut off by the length limit)."""

    @property
    def confidence(self) -> np.ndarray | None:
        return None if self.probabilities is None else self.probabilities.max(axis=1)

    def head(self, count: int) -> Predictions:
        """The predictions for the first `count` inputs."""
        probabilities = None if self.probabilities is None else self.probabilities[:count]
        logits = None if self.logits is None else self.logits[:count]
        return Predictions(self.labels[:count], probabilities, self.rescoring, logits)


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
        from transformers.utils import logging

        logging.disable_progress_bar()
        self.task, self.max_length, self.batch_size = task, max_length, batch_size
        self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        kind = get_task(task)
        model_class = kind.auto_model()
        self.model = model_class.from_pretrained(
            model_dir, dtype=torch.float32, trust_remote_code=False
        )
        self.model = self.model.to(self.device).eval()
        self.fast_model = None
        if precision == "bfloat16" or (precision == "auto" and native_bfloat16(self.device.type)):
            self.fast_model = copy.deepcopy(self.model).to(torch.bfloat16)
        if kind.reads_images:  # imported only here: image processing costs ~2 CPU-s to import
            from transformers import AutoImageProcessor

            self.processor = AutoImageProcessor.from_pretrained(model_dir, trust_remote_code=False)
        else:
            from transformers import AutoTokenizer

            self.tokenizer = AutoTokenizer.from_pretrained(model_dir, trust_remote_code=False)
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
        return "bfloat16, close calls re-scored in float32"

    def predict(
        self, inputs: list[Any], batch_size: int | None = None, rescore: bool = True
    ) -> Predictions:
        """Labels (and class probabilities) for `inputs`; `batch_size` fixes the batches'
        size instead of budgeting them by tokens."""
        kind = get_task(self.task)
        if kind.reads_images:
            batch_size = batch_size or self.batch_size
        first_tokens: list[dict[int, int]] = []
        if kind.reads_images:
            lengths = [0] * len(inputs)
            make_batch = self._image_batch(inputs)
        else:
            encoded = self.tokenizer(
                inputs,
                is_split_into_words=kind.per_token,
                truncation=True,
                max_length=self.max_length,
            )
            lengths = [len(ids) for ids in encoded["input_ids"]]
            make_batch = self._text_batch(encoded)
            if kind.per_token:
                first_tokens = [first_subtokens(encoded.word_ids(i)) for i in range(len(inputs))]
        positions = [list(words.values()) for words in first_tokens] if kind.per_token else None
        passes = _Passes(make_batch, lengths, positions, batch_size)
        logits = passes.run(self.fast_model or self.model)
        rescoring = Rescoring()
        if self.fast_model is not None and rescore:
            rescoring = passes.rescore(self.model, logits)
        if kind.per_token:
            tags = [["O"] * len(words) for words in inputs]  # words cut off by the length limit
            rows = [np.full((len(words), len(self.id2label)), np.nan) for words in inputs]
            for index, words in enumerate(first_tokens):
                for word, label in zip(words, logits[index].argmax(axis=1), strict=True):
                    tags[index][word] = self.id2label[int(label)]
                rows[index][list(words)] = logits[index]
            return Predictions(tags, None, rescoring, rows)
        return self._classes(logits, rescoring)

    def time_batches(self, batches: list[list[Any]]) -> list[float]:
        """Seconds for each batch, predicted whole by the main pass alone (no re-scoring)."""
        latencies = []
        for batch in batches:
            began = time.perf_counter()
            self.predict(batch, len(batch), rescore=False)
            latencies.append(time.perf_counter() - began)
        return latencies

    def _classes(self, logits: dict[int, np.ndarray], rescoring: Rescoring) -> Predictions:
        import torch

        if not logits:
            return Predictions([], np.zeros((0, len(self.id2label)), np.float32), rescoring)
        stacked = np.concatenate([logits[index] for index in range(len(logits))])
        probabilities = torch.softmax(torch.from_numpy(stacked), dim=-1).numpy()
        labels = [self.id2label[int(i)] for i in stacked.argmax(axis=1)]
        return Predictions(labels, probabilities, rescoring, list(stacked))

    def _text_batch(self, encoded) -> Callable[[list[int]], dict]:
        """Right-padded tensors for some of the pre-tokenized examples."""
        import torch

        pad_id = self.tokenizer.pad_token_id or 0
        names = [name for name in ("input_ids", "token_type_ids") if name in encoded]

        def make_batch(indices: list[int]) -> dict:
            rows = [encoded["input_ids"][i] for i in indices]
            longest = max(len(row) for row in rows)
            # few distinct shapes: kernels are compiled per shape on first use
            width = max(longest, min(_padded(longest), self.max_length))
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


class _Passes:
    """Forward passes over some examples in length-sorted batches (of `batch_size`, or else
    budgeted by tokens, see the module docstring), keeping for each example
    the logits that decide its labels (a row per class decision: one for a classification,
    one per word's first sub-token for NER)."""

    def __init__(
        self,
        make_batch: Callable[[list[int]], dict],
        lengths: list[int],
        positions: list[list[int]] | None,
        batch_size: int | None,
    ):
        self.make_batch, self.lengths = make_batch, lengths
        self.positions, self.batch_size = positions, batch_size

    def run(self, model: Any, indices: list[int] | range | None = None) -> dict[int, np.ndarray]:
        import torch

        indices = range(len(self.lengths)) if indices is None else indices
        logits = {}
        with torch.inference_mode():
            order = sorted(indices, key=self.lengths.__getitem__)
            for batch in self._batches(
                order, TOKENS_PER_BATCH[str(model.dtype).removeprefix("torch.")]
            ):
                values = model(**self.make_batch(batch)).logits.float().cpu().numpy()
                for row, index in enumerate(batch):
                    logits[index] = (
                        values[row][None]
                        if self.positions is None
                        else values[row][self.positions[index]]
                    )
        return logits

    def _batches(self, order: list[int], budget: int) -> list[list[int]]:
        """Batches of `order` (shortest first), of `batch_size` or budgeted by tokens."""
        if self.batch_size:
            return [order[i : i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        batches: list[list[int]] = []
        width = 0
        for index in order:
            longer = _padded(self.lengths[index])
            rows = len(batches[-1]) if batches else 0
            padding = rows * (longer - width)
            if not rows or (rows + 1) * longer > budget or padding > PASS_COST_IN_TOKENS:
                batches.append([])
            batches[-1].append(index)
            width = longer
        return batches

    def rescore(self, model: Any, logits: dict[int, np.ndarray]) -> Rescoring:
        """Re-score the close calls with `model`, replacing their logits; see the module
        docstring."""
        gaps = np.array([_smallest_gap(logits[index]) for index in range(len(logits))])
        closest_first = np.argsort(gaps, kind="stable")
        done, count, drift = 0, min(CLOSEST_FIRST, len(gaps)), 0.0
        while count > done:
            exact = self.run(model, closest_first[done:count].tolist())
            for index, values in exact.items():
                drift = max(drift, _drift(logits[index], values))
                logits[index] = values
            done = count
            count = int(np.sum(gaps < DRIFT_SAFETY * drift))
        return Rescoring(done, DRIFT_SAFETY * drift, drift)


def _padded(length: int) -> int:
    """`length` rounded up to a multiple of `PAD_TO_MULTIPLE`."""
    return -(-length // PAD_TO_MULTIPLE) * PAD_TO_MULTIPLE


def _smallest_gap(logits: np.ndarray) -> float:
    """The smallest logit gap between the two best classes over the rows."""
    if logits.shape[0] == 0 or logits.shape[1] < 2:
        return float("inf")
    top_two = np.partition(logits, -2, axis=1)[:, -2:]
    return float((top_two[:, 1] - top_two[:, 0]).min())


def _drift(approximate: np.ndarray, exact: np.ndarray) -> float:
    """The most any difference between two logits of a row moved."""
    if exact.size == 0:
        return 0.0
    moved = exact - approximate
    return float((moved.max(axis=1) - moved.min(axis=1)).max())
