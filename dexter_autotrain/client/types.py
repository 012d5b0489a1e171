"""What Dexter's backend gets back from the models, and what it may catch."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Prediction:
    """A classification: the best class, its probability, and every class returned.

    Attributes:
        label: the most likely class.
        score: its probability.
        scores: every class the endpoint returned and its probability.
    """

    label: str
    score: float
    scores: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class NarrativePrediction(Prediction):
    """The narrative a text is classified as (the narrative model's classes)."""


@dataclass(frozen=True)
class Actor:
    """A named entity (person, organisation, location) found in a text.

    Attributes:
        text: the entity as written, `source[start:end]`.
        type: `PER`, `ORG`, `LOC` (the model's entity types).
        start: character offset of its first character in the text.
        end: character offset just past its last character.
        score: the mean confidence of its words.
    """

    text: str
    type: str
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class MemePrediction(Prediction):
    """What an image is: `meme`, `photo` or `screenshot` (the meme model's classes)."""


class InferenceFailed(Exception):
    """An endpoint did not answer a request.

    Attributes:
        url: the endpoint.
        status: the HTTP status, or None when no answer came at all.
    """

    def __init__(self, url: str, message: str, status: int | None = None):
        super().__init__(f"{url}: {message}")
        self.url, self.status = url, status


class EndpointBusy(InferenceFailed):
    """The endpoint kept answering 503 (overloaded, or still waking from scale-to-zero) or
    429 (rate limited) until the client's retry budget ran out."""


class InvalidRequest(InferenceFailed):
    """The endpoint refused the input itself (4xx): retrying cannot help."""


class EndpointTimeout(InferenceFailed):
    """No answer within the client's timeout."""


class NotConfigured(ValueError):
    """The client was given no URL for the model a method needs."""


def narrative(output: list[Any]) -> NarrativePrediction:
    """A text classification answer (`[{label, score}]`, best first) as a prediction."""
    scores = {element.label: float(element.score) for element in output}
    best = max(output, key=lambda element: element.score)
    return NarrativePrediction(best.label, float(best.score), scores)


def meme(output: list[Any]) -> MemePrediction:
    """An image classification answer as a prediction."""
    found = narrative(output)
    return MemePrediction(found.label, found.score, found.scores)


def actors(output: list[Any], text: str) -> list[Actor]:
    """A token classification answer (`[{entity_group, score, word, start, end}]`)."""
    return [
        Actor(
            text[element.start : element.end],
            element.entity_group or element.entity,
            int(element.start),
            int(element.end),
            float(element.score),
        )
        for element in output
    ]
