"""`training.max_seq_length: auto`: a length that fits almost every training example.

Padding every tweet (about 24 tokens) to 128 spends most of a forward pass on padding, and a
length cut too short silently drops text. So `auto` measures the training split with the base
model's own tokenizer and takes the 99th percentile, rounded up to a multiple of 8 (tensor
cores and oneDNN kernels like such shapes), capped by what the model can read.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from dexter_autotrain.data.output import INPUT_KEY
from dexter_autotrain.tasks import get_task

PERCENTILE = 99
MULTIPLE = 8
MINIMUM = 8
_NO_LIMIT = 1_000_000
"""Tokenizers without a configured limit report a huge sentinel (1e30) as their maximum."""


@dataclass(frozen=True)
class TokenLengths:
    """Token lengths of the training examples, and the max_seq_length chosen from them."""

    examples: int
    p50: int
    p95: int
    p99: int
    longest: int
    model_max: int
    chosen: int
    truncated: int
    """Training examples longer than `chosen` (cut at training and evaluation)."""

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


def measure_token_lengths(
    model_dir: str | Path, task: str, train_file: Path, cap: int | None = None
) -> TokenLengths:
    """Tokenize the prepared training split with the model's tokenizer and choose the length.

    The model's `tokenizer.json` is read with the `tokenizers` library, the Rust tokenizer
    that transformers' fast tokenizers wrap (the same token ids, special tokens included),
    so a submit imports neither transformers nor torch before training (a detached submit
    never does). A model with no `tokenizer.json` (a slow tokenizer's files only) is
    measured with transformers' `AutoTokenizer`.

    Args:
        model_dir: a local folder holding the base model's tokenizer and config.
        task: the job's task (token classification tokenizes pre-split words).
        train_file: the prepared `data/train.jsonl`.
        cap: an upper bound of the caller's (smoke runs keep sequences short).

    Returns:
        The length percentiles and the chosen `max_seq_length`.
    """
    folder = Path(model_dir)
    key = INPUT_KEY[task]
    with train_file.open(encoding="utf-8") as rows:
        inputs = [json.loads(line)[key] for line in rows if line.strip()]
    counts, tokenizer_max = _token_counts(folder, inputs, get_task(task).per_token)
    lengths = np.array(counts or [MINIMUM])
    model_max = _model_max(tokenizer_max, _read_json(folder / "config.json"))
    p99 = int(np.percentile(lengths, PERCENTILE, method="higher"))
    chosen = max(MINIMUM, min(-(-p99 // MULTIPLE) * MULTIPLE, model_max, cap or model_max))
    return TokenLengths(
        examples=len(inputs),
        p50=int(np.percentile(lengths, 50, method="higher")),
        p95=int(np.percentile(lengths, 95, method="higher")),
        p99=p99,
        longest=int(lengths.max()),
        model_max=model_max,
        chosen=chosen,
        truncated=int((lengths > chosen).sum()),
    )


def _token_counts(folder: Path, inputs: list, split_words: bool) -> tuple[list[int], int]:
    """Each input's token count (special tokens included) and the tokenizer's own limit."""
    if not (folder / "tokenizer.json").is_file():
        from transformers import AutoTokenizer

        slow = AutoTokenizer.from_pretrained(str(folder), trust_remote_code=False)
        encoded = slow(inputs, is_split_into_words=split_words, verbose=False)["input_ids"]
        return [len(ids) for ids in encoded], slow.model_max_length
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.no_truncation()  # a file may carry settings that transformers switches off
    tokenizer.no_padding()
    encoded = tokenizer.encode_batch(inputs, is_pretokenized=split_words)
    limit = _read_json(folder / "tokenizer_config.json").get("model_max_length", _NO_LIMIT)
    return [len(encoding.ids) for encoding in encoded], limit


def _read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _model_max(tokenizer_max: int, config: dict) -> int:
    """The longest input the model reads: its tokenizer's limit, and its position embeddings
    (`config.json`; RoBERTa-style models reserve two of those for the padding offset)."""
    positions = config.get("max_position_embeddings")
    if isinstance(positions, int) and "roberta" in str(config.get("model_type", "")):
        positions -= 2
    limits = [n for n in (tokenizer_max, positions) if isinstance(n, int) and 0 < n < _NO_LIMIT]
    return min(limits) if limits else 512
