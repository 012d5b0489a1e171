"""Requests as Hugging Face Inference Endpoints take them, checked before they are queued.

Text and token classification take JSON `{"inputs": str | [str], "parameters": {...}}` sent
as `application/json`; image classification takes the raw image bytes (no content type, or an
`image/*` one, as `InferenceClient` sends them), or JSON with base64 `inputs` (what
`InferenceClient` sends when there are parameters). Another content type is a 415 (a web
page can send `text/plain` cross-site without asking; it cannot send JSON). A body that cannot
be read is a 400; JSON of the wrong shape or values is a 422; each names what is wrong.
Every value is bounded: inputs per request, characters per text and per request, nesting,
labels to ignore, and the image formats and pixels `images` allows.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dexter_autotrain.serve.images import MAX_REQUEST_PIXELS, ImageRefused, checked_image
from dexter_autotrain.tasks import get_task
from dexter_autotrain.tasks.text_join import join_text

MAX_INPUTS = 256
"""Inputs one request may carry (a longer list is split by the client)."""
MAX_TEXT_CHARS = 100_000
"""Characters in one text: a long article fits; the model reads its first tokens only."""
MAX_REQUEST_CHARS = 1_000_000
MAX_JSON_DEPTH = 16
"""Nesting a request body may have (a valid one has 3)."""
MAX_TOP_K = 1_000
MAX_IGNORED_LABELS = 64
MAX_LABEL_CHARS = 128
FUNCTIONS = ("softmax", "sigmoid", "none")
AGGREGATIONS = ("none", "simple", "first", "average", "max")
"""All but `none` give the same entities here: the model tags words by their first
sub-token, so every word has one tag and one score."""
JSON = "application/json"
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')


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


@dataclass(frozen=True)
class Refused:
    """A worker's answer to a query the model failed on: a 422 with `message`, while the
    other queries of its batch get their answers."""

    message: str


def parse_request(
    task: str, body: bytes, content_type: str, text_columns: tuple[str, ...] = ()
) -> Query:
    """The query a request body holds. A model whose text is joined from `text_columns`
    (`data.columns.text: [headline, text]`) also takes each input as an object with those
    columns, joined as training joined them (`tasks.text_join`).

    Raises:
        [`BadRequest`]: the body is empty, of another content type, not JSON, or not a valid
            request for `task`.

    Example:
        ```python
        >>> parse_request("text-classification", b'{"inputs": "Na wa o"}', "application/json")
        Query(inputs=['Na wa o'], single=True, ...)
        ```
    """
    if not body:
        raise BadRequest(400, 'body: empty; send JSON {"inputs": ...}')
    media = content_type.partition(";")[0].strip().lower()
    if get_task(task).serving.binary_body and _is_raw_image(media, body):
        return Query([_checked_images([body], ["body"])[0]])
    if media != JSON:
        raise BadRequest(415, f"body: send it as {JSON} (got {media or 'no content type'})")
    return _json_query(task, body, text_columns)


def _is_raw_image(media: str, body: bytes) -> bool:
    if media.startswith("image/") or media == "application/octet-stream":
        return True
    return not media and body.lstrip()[:1] != b"{"


def _json_query(task: str, body: bytes, text_columns: tuple[str, ...]) -> Query:
    if _depth(body) > MAX_JSON_DEPTH:
        raise BadRequest(400, f"body: JSON nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise BadRequest(400, f"body: not valid JSON ({error})") from None
    if not isinstance(payload, dict) or "inputs" not in payload:
        raise BadRequest(422, "body: must be a JSON object with `inputs`")
    single, inputs = _inputs(task, payload["inputs"], text_columns)
    return _with_parameters(task, Query(inputs, single), payload.get("parameters"))


def _depth(body: bytes) -> int:
    """How deeply the JSON in `body` nests (brackets inside strings do not count)."""
    codes = np.frombuffer(_STRING.sub(b'""', body), dtype=np.uint8)
    steps = np.isin(codes, (ord("["), ord("{"))).astype(np.int64)
    steps -= np.isin(codes, (ord("]"), ord("}")))
    return int(steps.cumsum().max(initial=0))


def _inputs(task: str, value: Any, text_columns: tuple[str, ...]) -> tuple[bool, list[Any]]:
    single = not isinstance(value, list)
    values = [value] if single else value
    if not values or len(values) > MAX_INPUTS:
        raise BadRequest(422, f"inputs: give 1 to {MAX_INPUTS} inputs (got {len(values)})")
    places = ["inputs"] if single else [f"inputs[{i}]" for i in range(len(values))]
    if text_columns:
        values = [
            _joined(item, where, text_columns) for item, where in zip(values, places, strict=True)
        ]
    for where, item in zip(places, values, strict=True):
        if not isinstance(item, str):
            kind = "a base64 image" if get_task(task).reads_images else "a string"
            raise BadRequest(422, f"{where}: must be {kind}, not {type(item).__name__}")
    if get_task(task).reads_images:
        images = [_decoded_image(item, where) for item, where in zip(values, places, strict=True)]
        return single, _checked_images(images, places)
    return single, _checked_texts(values, places)


def _joined(item: Any, where: str, columns: tuple[str, ...]) -> Any:
    """An object with the model's text columns, joined as training joined them; anything
    else as sent (a string is the joined text already)."""
    if not isinstance(item, dict):
        return item
    unknown = sorted(set(item) - set(columns))
    if unknown:
        raise BadRequest(
            422, f"{where}: unknown field `{unknown[0]}` (this model reads {', '.join(columns)})"
        )
    if not all(isinstance(item.get(name, ""), str) for name in columns):
        raise BadRequest(422, f"{where}: every field must be a string")
    return join_text(item.get(name, "") for name in columns)


def _checked_texts(texts: list[str], places: list[str]) -> list[str]:
    for where, text in zip(places, texts, strict=True):
        if len(text) > MAX_TEXT_CHARS:
            raise BadRequest(
                422, f"{where}: {len(text):,} characters; at most {MAX_TEXT_CHARS:,} (cut it)"
            )
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as error:  # JSON may escape a lone surrogate: "\ud800"
            raise BadRequest(
                422, f"{where}: not valid Unicode (a lone surrogate at character {error.start})"
            ) from None
    total = sum(map(len, texts))
    if total > MAX_REQUEST_CHARS:
        raise BadRequest(
            422, f"inputs: {total:,} characters; at most {MAX_REQUEST_CHARS:,} a request "
            "(send fewer inputs at once)",
        )  # fmt: skip
    return texts


def _decoded_image(text: str, where: str) -> bytes:
    try:
        return base64.b64decode(text.split(",", 1)[-1], validate=True)  # data URLs too
    except (binascii.Error, ValueError):
        raise BadRequest(422, f"{where}: not base64") from None


def _checked_images(images: list[bytes], places: list[str]) -> list[bytes]:
    """`images` if each decodes within the budgets (a broken one would fail its batch)."""
    total = 0
    for where, data in zip(places, images, strict=True):
        try:
            total += checked_image(data)
        except ImageRefused as error:
            raise BadRequest(400 if where == "body" else 422, f"{where}: {error}") from None
        if total > MAX_REQUEST_PIXELS:
            raise BadRequest(
                422, f"{where}: the request's images hold over {MAX_REQUEST_PIXELS:,} pixels; "
                "send fewer at once",
            )  # fmt: skip
    return images


def _with_parameters(task: str, query: Query, parameters: Any) -> Query:
    if parameters is None:
        return query
    if not isinstance(parameters, dict):
        raise BadRequest(422, "parameters: must be a JSON object")
    unknown = sorted(set(parameters) - get_task(task).serving.parameters)
    if unknown:
        known = ", ".join(sorted(get_task(task).serving.parameters))
        name = unknown[0][:64]  # echoed back: a name is short
        raise BadRequest(422, f"parameters.{name}: not supported for {task} ({known})")
    values = {key: value for key, value in parameters.items() if value is not None}
    top_k = values.get("top_k")
    if top_k is not None and (
        not isinstance(top_k, int) or isinstance(top_k, bool) or not 1 <= top_k <= MAX_TOP_K
    ):
        raise BadRequest(422, f"parameters.top_k: must be an integer from 1 to {MAX_TOP_K}")
    function = _choice(values, "function_to_apply", FUNCTIONS, query.function_to_apply)
    aggregation = _choice(values, "aggregation_strategy", AGGREGATIONS, query.aggregation)
    ignored = _ignored_labels(values.get("ignore_labels", list(query.ignore_labels)))
    return Query(query.inputs, query.single, top_k, function, aggregation, ignored, parameters)


def _ignored_labels(value: Any) -> tuple[str, ...]:
    if (
        not isinstance(value, list)
        or len(value) > MAX_IGNORED_LABELS
        or not all(isinstance(x, str) and len(x) <= MAX_LABEL_CHARS for x in value)
    ):
        raise BadRequest(
            422, f"parameters.ignore_labels: must be a list of at most {MAX_IGNORED_LABELS} "
            f"labels of up to {MAX_LABEL_CHARS} characters",
        )  # fmt: skip
    return tuple(value)


def _choice(values: dict[str, Any], key: str, allowed: tuple[str, ...], default: str) -> str:
    value = values.get(key, default)
    if not isinstance(value, str) or value not in allowed:
        raise BadRequest(422, f"parameters.{key}: must be one of {', '.join(allowed)}")
    return value
