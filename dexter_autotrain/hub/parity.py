"""The smoke and parity test of a deployed model: evaluation-split examples sent through
`InferenceClient` to its URL, each answer compared with the run's own prediction.

The run's evaluation wrote `predictions.jsonl`, one row per example of the prepared
`data/<split>.jsonl`, in the same order. Text and image classification compare the top label;
token classification compares the entity spans (type, start, end) of the words joined by
spaces, which is the text a caller sends.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dexter_autotrain.data.output import INPUT_KEY
from dexter_autotrain.errors import ToolError
from dexter_autotrain.hub.retry import DEFAULT_POLICY, Report, RetryPolicy, with_retries
from dexter_autotrain.record import Parity as ParityRecord
from dexter_autotrain.tasks import get_task

if TYPE_CHECKING:
    from huggingface_hub import InferenceClient

Span = tuple[str, int, int]
REQUEST_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Example:
    """One example to send (text, word list or image path) and the run's own answer."""

    inputs: Any
    expected: Any


@dataclass(frozen=True)
class Parity:
    """How many answers of the deployed model equal the run's predictions.

    Attributes:
        compared: examples sent.
        matching: answers equal to the run's prediction.
        mismatch: the first example that differed, as one short line (None when all matched).
    """

    compared: int
    matching: int
    mismatch: str | None

    @property
    def share(self) -> float:
        return self.matching / self.compared if self.compared else 0.0

    def record(self) -> ParityRecord:
        """The counts as a deployment's record keeps them (`deployed.parity`)."""
        return ParityRecord(compared=self.compared, matching=self.matching, share=self.share)


def parity_examples(run_path: Path, task: str, split: str, count: int) -> list[Example]:
    """The first `count` examples of the run's evaluation split with its predictions.

    Raises:
        [`ToolError`]: the run has no predictions or prepared split to compare with.
    """
    data = run_path / "data" / f"{split}.jsonl"
    predicted = run_path / "predictions.jsonl"
    try:
        rows = data.read_text(encoding="utf-8").splitlines()[:count]
        guesses = predicted.read_text(encoding="utf-8").splitlines()[:count]
    except OSError as error:
        raise ToolError(
            f"{run_path}: no {error.filename} to compare the deployed model with; run "
            f"`dexter-auto evaluate {run_path}` first"
        ) from None
    examples = []
    for row, guess in zip(rows, guesses, strict=False):
        value = json.loads(row)[INPUT_KEY[task]]
        inputs = str(data.parent / value) if get_task(task).reads_images else value
        examples.append(Example(inputs, json.loads(guess)["prediction"]))
    return examples


def check_parity(
    url: str,
    token: str | None,
    task: str,
    examples: list[Example],
    report: Report = lambda line: None,
    policy: RetryPolicy = DEFAULT_POLICY,
) -> Parity:
    """Send `examples` to the model at `url` and compare its answers with the run's.

    Args:
        url (`str`): the deployed model's URL (an endpoint's or `serve`'s).
        token (`str`, *optional*): sent as the bearer token (an endpoint asks for it).
        task (`str`): the job's task.
        examples (`list[Example]`): from `parity_examples`.
        report (`Callable[[str], None]`, *optional*): one line per retry (a waking endpoint
            answers 503 for a while).
        policy (`RetryPolicy`, *optional*): retries of each request.

    Returns:
        `Parity`: the counts and the first mismatch.

    Example:
        ```python
        >>> parity = check_parity(url, token, "text-classification", examples[:8])
        >>> parity.share
        1.0
        ```
    """
    from huggingface_hub import InferenceClient

    client = InferenceClient(model=url, token=token, timeout=REQUEST_TIMEOUT_S)
    ask = _ASK[get_task(task).input_kind]
    matching, mismatch = 0, None
    for index, example in enumerate(examples):
        request = partial(ask, client, example.inputs)
        got = with_retries(request, "parity request", report, policy)
        want = example.expected
        if get_task(task).per_token:
            want = word_spans(example.inputs, example.expected)
        if got == want:
            matching += 1
        elif mismatch is None:
            mismatch = f"example {index}: the run predicted {want!r}, the deployment {got!r}"
    return Parity(len(examples), matching, mismatch)


def _top_label(elements: list[Any]) -> str | None:
    return max(elements, key=lambda e: e.score).label if elements else None


def _text_label(client: InferenceClient, text: str) -> str | None:
    return _top_label(client.text_classification(text))


def _image_label(client: InferenceClient, path: str) -> str | None:
    return _top_label(client.image_classification(path))


def _entity_spans(client: InferenceClient, words: list[str]) -> set[Span]:
    found = client.token_classification(" ".join(words))
    return {(e.entity_group, int(e.start), int(e.end)) for e in found}


def word_spans(words: list[str], tags: list[str]) -> set[Span]:
    """The entities of BIO `tags` over `words`, as character spans of the words joined by
    spaces (an `I-X` after another type starts an entity, as the pipeline reads it)."""
    spans: set[Span] = set()
    start = end = 0
    kind: str | None = None
    offset = 0
    for word, tag in zip(words, tags, strict=True):
        prefix, _, name = tag.partition("-")
        if kind is not None and (prefix != "I" or name != kind):
            spans.add((kind, start, end))
            kind = None
        if prefix in ("B", "I") and kind is None:
            kind, start = name, offset
        end = offset + len(word)
        offset = end + 1
    if kind is not None:
        spans.add((kind, start, end))
    return spans


_ASK: dict[str, Callable[[InferenceClient, Any], Any]] = {
    "text": _text_label,
    "image": _image_label,
    "tokens": _entity_spans,
}
"""How to ask a deployment for an example's answer, by the task's input kind."""
