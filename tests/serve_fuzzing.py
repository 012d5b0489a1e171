"""Hypothesis strategies for fuzzing `dexter-auto serve`: well-formed requests with any
inputs and parameters, and anything else (any JSON, any bytes, any content type, deep
nesting, images of every mode, size and format, broken and bombed ones)."""

from __future__ import annotations

import base64
import io
import json

from hypothesis import strategies as st
from serve_requests import png_declaring

JSON = "application/json"
CONTENT_TYPES = [
    JSON,
    "application/json; charset=utf-8",
    "text/plain",
    "",
    "image/png",
    "application/octet-stream",
    "multipart/form-data; boundary=x",
]
IMAGE_MODES = ["1", "L", "P", "RGB", "RGBA", "LA", "I;16", "I", "F", "CMYK", "YCbCr"]
IMAGE_FORMATS = ["PNG", "JPEG", "GIF", "BMP", "WEBP", "TIFF", "ICO", "PPM"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=6) | st.dictionaries(st.text(max_size=12), children, max_size=6)
    ),
    max_leaves=30,
)
texts = st.text(max_size=300) | st.sampled_from(["", " ", "\u202e", "Na wa o", "Kano ya"])
parameters = st.dictionaries(
    st.sampled_from(
        ["top_k", "function_to_apply", "aggregation_strategy", "ignore_labels", "stride", ""]
    ),
    json_values | st.integers(-5, 2000) | st.lists(st.text(max_size=8), max_size=70)
    | st.sampled_from(["softmax", "sigmoid", "none", "simple", "first", "max"]),
    max_size=4,
)  # fmt: skip


VALID_PARAMETERS = {
    "token-classification": st.fixed_dictionaries(
        {},
        optional={
            "aggregation_strategy": st.sampled_from(["none", "simple", "first", "max"]),
            "ignore_labels": st.lists(st.sampled_from(["O", "B-PER", "I-LOC", "X"]), max_size=5),
        },
    ),
    **dict.fromkeys(
        ["text-classification", "image-classification"],
        st.fixed_dictionaries(
            {},
            optional={
                "top_k": st.integers(1, 5) | st.none(),
                "function_to_apply": st.sampled_from(["softmax", "sigmoid", "none"]),
            },
        ),
    ),
}


@st.composite
def images(draw) -> bytes:
    """An image of any mode, size and format, or a broken or bombed one."""
    from PIL import Image

    kind = draw(st.sampled_from(["image", "image", "image", "truncated", "bomb", "bytes"]))
    if kind == "bomb":
        return png_declaring(draw(st.integers(4001, 200_000)), draw(st.integers(4001, 200_000)))
    if kind == "bytes":
        return draw(st.binary(max_size=300))
    size = (draw(st.integers(1, 96)), draw(st.integers(1, 96)))
    image = Image.new(draw(st.sampled_from(IMAGE_MODES)), size)
    buffer = io.BytesIO()
    try:
        image.save(buffer, draw(st.sampled_from(IMAGE_FORMATS)))
    except (OSError, ValueError, KeyError):  # a mode the format cannot hold
        image.convert("RGB").save(buffer, "PNG")
    data = buffer.getvalue()
    return data[: draw(st.integers(1, len(data)))] if kind == "truncated" else data


def _json_body(inputs: st.SearchStrategy) -> st.SearchStrategy[bytes]:
    payload = st.fixed_dictionaries(
        {"inputs": inputs | st.lists(inputs, max_size=8) | json_values},
        optional={"parameters": parameters | json_values},
    )
    return payload.map(lambda value: json.dumps(value).encode())


def fuzzed_requests(task: str) -> st.SearchStrategy[tuple[bytes, str]]:
    """Well-formed requests with any inputs and parameters half the time, anything else (any
    JSON, any bytes, deep nesting, raw images) with any content type the other half."""
    encoded = images().map(lambda data: base64.b64encode(data).decode())
    inputs = encoded if task == "image-classification" else texts
    valid = st.fixed_dictionaries(
        {"inputs": inputs | st.lists(inputs, min_size=1, max_size=8)},
        optional={"parameters": VALID_PARAMETERS[task]},
    )
    well_formed = st.tuples(valid.map(lambda v: json.dumps(v).encode()), st.just(JSON))
    hostile = st.one_of(
        _json_body(inputs | st.just("x" * 100_001)),
        json_values.map(lambda value: json.dumps(value).encode()),
        st.binary(max_size=500),
        st.integers(1, 50_000).map(lambda depth: b"[" * depth),
        *([images()] if task == "image-classification" else []),
    )
    return well_formed | st.tuples(hostile, st.sampled_from(CONTENT_TYPES))
