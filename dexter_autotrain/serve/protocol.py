"""Requests as Hugging Face Inference Endpoints take them, checked before they are queued.

Text and token classification take JSON `{"inputs": str | [str], "parameters": {...}}`;
image classification takes the raw image bytes, or JSON with base64 `inputs` (what
`InferenceClient` sends when there are parameters). A request that is not JSON where JSON is
needed is a 400; JSON of the wrong shape or values is a 422; each names what is wrong.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
from dataclasses import dataclass, field
from typing import Any

from dexter_autotrain.tasks import get_task

MAX_INPUTS = 256
"""Inputs one request may carry (a longer list is split by the client)."""
FUNCTIONS = ("softmax", "sigmoid", "none")
AGGREGATIONS = ("none", "simple", "first", "average", "max")
"""All but `none` give the same entities here: the model tags words by their first
sub-token, so every word has one tag and one score."""


class BadRequest(Exception):
    """A request the server cannot answer; `status` is 400 (unreadable) or 422 (invalid)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Query:
    """One request's inputs and parameters, as the inference worker receives them.

    Attributes:
        inputs: texts, or image bytes.
        single: the request sent one input (its answer is not wrapped in a list).
        top_k: classes to return (all when None).
        function_to_apply: `softmax`, `sigmoid` or `none` (the raw logits).
        aggregation: how token tags become entities (`none`: one entry per tagged word).
        ignore_labels: entity groups left out of the answer.
    """

    inputs: list[Any]
    single: bool = True
    top_k: int | None = None
    function_to_apply: str = "softmax"
    aggregation: str = "simple"
    ignore_labels: tuple[str, ...] = ("O",)
    parameters: dict[str, Any] = field(default_factory=dict)
    """The parameters as sent, for the prediction log."""


def parse_request(task: str, body: bytes, content_type: str) -> Query:
    """The query a request body holds.

    Raises:
        [`BadRequest`]: the body is empty, not JSON, or not a valid request for `task`.

    Example:
        ```python
        >>> parse_request("text-classification", b'{"inputs": "Na wa o"}', "application/json")
        Query(inputs=['Na wa o'], single=True, ...)
        ```
    """
    if not body:
        raise BadRequest(400, 'body: empty; send JSON {"inputs": ...}')
    if get_task(task).serving.binary_body and not _looks_like_json(body, content_type):
        return Query([_checked_image(body, "body")])
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise BadRequest(400, f"body: not valid JSON ({error})") from None
    if not isinstance(payload, dict) or "inputs" not in payload:
        raise BadRequest(422, "body: must be a JSON object with `inputs`")
    single, inputs = _inputs(task, payload["inputs"])
    return _with_parameters(task, Query(inputs, single), payload.get("parameters"))


def _looks_like_json(body: bytes, content_type: str) -> bool:
    return content_type.startswith("application/json") or body.lstrip()[:1] == b"{"


def _inputs(task: str, value: Any) -> tuple[bool, list[Any]]:
    single = not isinstance(value, list)
    values = [value] if single else value
    if not values or len(values) > MAX_INPUTS:
        raise BadRequest(422, f"inputs: give 1 to {MAX_INPUTS} inputs (got {len(values)})")
    for index, item in enumerate(values):
        if not isinstance(item, str):
            where = "inputs" if single else f"inputs[{index}]"
            kind = "a base64 image" if get_task(task).reads_images else "a string"
            raise BadRequest(422, f"{where}: must be {kind}, not {type(item).__name__}")
    if get_task(task).reads_images:
        values = [_decoded_image(item, "inputs" if single else f"inputs[{i}]")
                  for i, item in enumerate(values)]  # fmt: skip
    return single, values


def _decoded_image(text: str, where: str) -> bytes:
    try:
        data = base64.b64decode(text.split(",", 1)[-1], validate=True)  # data URLs too
    except (binascii.Error, ValueError):
        raise BadRequest(422, f"{where}: not base64") from None
    return _checked_image(data, where)


def _checked_image(data: bytes, where: str) -> bytes:
    """`data` if it decodes as an image (a broken one would fail its whole batch later)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise BadRequest(
            400 if where == "body" else 422, f"{where}: not an image ({error})"
        ) from None
    return data


def _with_parameters(task: str, query: Query, parameters: Any) -> Query:
    if parameters is None:
        return query
    if not isinstance(parameters, dict):
        raise BadRequest(422, "parameters: must be a JSON object")
    unknown = sorted(set(parameters) - get_task(task).serving.parameters)
    if unknown:
        known = ", ".join(sorted(get_task(task).serving.parameters))
        raise BadRequest(422, f"parameters.{unknown[0]}: not supported for {task} ({known})")
    values = {key: value for key, value in parameters.items() if value is not None}
    top_k = values.get("top_k")
    if top_k is not None and (not isinstance(top_k, int) or isinstance(top_k, bool) or top_k < 1):
        raise BadRequest(422, "parameters.top_k: must be a positive integer")
    function = _choice(values, "function_to_apply", FUNCTIONS, query.function_to_apply)
    aggregation = _choice(values, "aggregation_strategy", AGGREGATIONS, query.aggregation)
    ignored = values.get("ignore_labels", list(query.ignore_labels))
    if not isinstance(ignored, list) or not all(isinstance(x, str) for x in ignored):
        raise BadRequest(422, "parameters.ignore_labels: must be a list of labels")
    return Query(
        query.inputs, query.single, top_k, function, aggregation, tuple(ignored), parameters
    )


def _choice(values: dict[str, Any], key: str, allowed: tuple[str, ...], default: str) -> str:
    value = values.get(key, default)
    if value not in allowed:
        raise BadRequest(422, f"parameters.{key}: must be one of {', '.join(allowed)}")
    return value
