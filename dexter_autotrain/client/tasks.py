"""What the sync and async clients share: the endpoints they were given, the call each
typed method makes, and how a list of inputs is cut into batches."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dexter_autotrain.client.retry import RetryPolicy
from dexter_autotrain.client.types import NotConfigured, actors, meme, narrative

ImageInput = bytes | Path | str
"""Image bytes, a local file, or a URL the endpoint can fetch."""
TextInput = str | Mapping[str, str]
"""A text, or the text columns of a model trained on several (`{"headline", "text"}`)."""


@dataclass(frozen=True)
class Task:
    """One typed method: the endpoint it calls, the `InferenceClient` method that calls it,
    and how an answer becomes a typed result."""

    endpoint: str
    method: str
    convert: Callable[[Any, Any], Any]


NARRATIVES = Task("narratives", "text_classification", lambda output, _: narrative(output))
ACTORS = Task("actors", "token_classification", lambda output, text: actors(output, text))
MEMES = Task("memes", "image_classification", lambda output, _: meme(output))


@dataclass(frozen=True)
class Endpoints:
    """The URL of each model: a `dexter-auto serve` URL or an Inference Endpoint's URL.

    Attributes:
        narratives: the narrative classifier (text classification).
        actors: the actor extractor (token classification).
        memes: the meme classifier (image classification).
    """

    narratives: str | None = None
    actors: str | None = None
    memes: str | None = None

    def url(self, task: Task) -> str:
        url = getattr(self, task.endpoint)
        if not url:
            raise NotConfigured(f"no URL for the {task.endpoint} model: pass {task.endpoint}=URL")
        return url.rstrip("/")


class Settings:
    """What both clients are configured with; see `DexterClient` for the arguments."""

    def __init__(
        self,
        endpoints: Endpoints,
        token: str | None = None,
        timeout: float = 30.0,
        batch_size: int = 16,
        retry: RetryPolicy | None = None,
    ):
        self.endpoints, self.token, self.timeout = endpoints, token, timeout
        self.batch_size, self.retry = batch_size, retry or RetryPolicy()


def batches(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    """`items` in consecutive slices of `size`: each slice's requests are in flight together,
    and the server's dynamic batching answers them in one forward pass."""
    for start in range(0, len(items), size):
        yield items[start : start + size]
