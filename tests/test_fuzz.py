"""Property-based fuzzing: hostile spec documents and malformed data rows.

The property, for `validate` and `data check -o OUT`: the exit code is 0 or 2, nothing
escapes as an exception (no traceback), and nothing is written outside OUT. The CLI runs
in-process (tests/inprocess.py) so a few hundred examples take about a minute;
`derandomize=True` makes every CI run try the same examples.
"""

from __future__ import annotations

import copy
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml
from data_cases import balanced, tsv
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from inprocess import invoke, snapshot, written_outside

from dexter_autotrain.spec import load_spec

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = os.environ.get("DEXTER_FUZZ_EXAMPLES")
"""Set it (e.g. 5000) for a longer search with fresh random examples each run."""
FUZZ = settings(
    max_examples=int(EXAMPLES or 400),
    deadline=None,
    derandomize=not EXAMPLES,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
LANGUAGES = ("hau", "pcm")


def _valid_spec() -> dict[str, Any]:
    """jobs/narrative.yaml as loaded (with its `extends:` merged in), reading small local
    data so that `data check` gets past the spec and into the data."""
    data = copy.deepcopy(load_spec(REPO / "jobs/narrative.yaml").data)
    data.pop("extends", None)
    data["languages"] = list(LANGUAGES)
    data["data"]["sources"] = [{"path": "data/{language}.tsv", "format": "tsv"}]
    data["data"]["labels"] = ["good", "bad"]
    data["data"]["min_examples_per_label"] = 2
    data["data"]["min_examples_per_language"] = 2
    return data


VALID = _valid_spec()


class _Digits(int):
    """An integer written with `len(self)` digits in the YAML: Python refuses to turn one
    over 4300 digits into a string, so it is kept as its digit count until dumped."""

    def __len__(self) -> int:
        return int(self)


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(
    _Digits,
    lambda dumper, value: dumper.represent_scalar("tag:yaml.org,2002:int", "9" * len(value)),
)
ODD_TEXT = st.lists(
    st.sampled_from(
        [
            "a",
            "é",
            " ",
            "\x00",
            "\x1b",
            "\x7f",
            "\u202e",
            "\u2028",
            "\ufeff",
            "\ud800",
            "{",
            "}",
            "$",
            "%",
            ":",
            "-",
            "[",
            "\n",
            "\t",
            "..",
            "/",
            "~",
            "\\",
            "*",
            "&",
            "!",
            "#",
        ]
    ),
    max_size=10,
).map("".join)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([_Digits(5000), _Digits(100_000), -(2**64), 2**32, -1, 0]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, -math.inf, 1e308]),
    st.just(""),
    ODD_TEXT,
    st.sampled_from(
        [
            "/proc/self/environ",
            "~/.cache/huggingface/token",
            "../../../../etc",
            "/dev/zero",
            "{language}",
            "${HF_TOKEN}",
            "${X:-${Y:-z}}",
            "*a",
            "<<",
        ]
    ),
)
SHAPES = st.sampled_from([["a", "b"], {"x": 1}, [], {}, [{"x": None}], {"backend": {"x": 1}}])
ODD_VALUES = st.recursive(
    st.one_of(SCALARS, SHAPES),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.one_of(ODD_TEXT, SCALARS), inner, max_size=3),
    ),
    max_leaves=6,
)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path into a nested spec document (the root is `()`)."""
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


PATHS = _paths(VALID)


def _mutate(document: Any, path: tuple, operation: str, value: Any, key: Any) -> Any:
    """`document` with one change at `path`: replaced, removed, or given an odd key."""
    if not path:
        return value if operation == "replace" else document
    parent = document
    for step in path[:-1]:
        parent = parent[step]
    last = path[-1]
    if operation == "replace":
        parent[last] = value
    elif operation == "remove":
        del parent[last]
    elif isinstance(parent[last], dict):
        parent[last][key] = value
    else:
        parent[last] = [parent[last], value]
    return document


@st.composite
def spec_documents(draw) -> bytes:
    """A valid spec with one to three odd changes, as YAML, or now and then raw bytes."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=200))
    document: Any = copy.deepcopy(VALID)
    for _ in range(draw(st.integers(1, 3))):
        live = _paths(document) if isinstance(document, dict | list) else [()]
        shallow = draw(st.booleans())  # half the changes at the first two levels
        candidates = [p for p in PATHS if p in live and (not shallow or len(p) <= 2)]
        path = draw(st.sampled_from(candidates or [()]))
        operation = draw(st.sampled_from(["replace", "replace", "remove", "add"]))
        document = _mutate(document, path, operation, draw(ODD_VALUES), draw(ODD_TEXT))
    try:
        text = yaml.dump(document, Dumper=_Dumper, allow_unicode=True, sort_keys=False)
    except (yaml.YAMLError, UnicodeEncodeError, ValueError):
        text = repr(document)
    return text.encode("utf-8", "surrogatepass")


def _check_property(folder: Path, *args: str) -> int:
    before = snapshot(folder)
    outcome = invoke(*args, cwd=folder / "repo")
    assert outcome.crash is None, f"{args}: {type(outcome.crash).__name__}: {outcome.crash}"
    assert outcome.code in (0, 2), (outcome.code, outcome.stderr[-2000:])
    assert "Traceback" not in outcome.stdout + outcome.stderr
    assert written_outside(before, snapshot(folder), "repo/out") == []
    return outcome.code


def _repo(folder: Path, spec: bytes, data: dict[str, bytes]) -> None:
    (folder / "repo/data").mkdir(parents=True)
    (folder / "repo/job.yaml").write_bytes(spec)
    for name, content in data.items():
        (folder / "repo/data" / name).write_bytes(content)


GOOD_DATA = {f"{language}.tsv": tsv(balanced(6)).encode() for language in LANGUAGES}


def test_the_unmutated_spec_passes_both_commands():
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        _repo(folder, yaml.safe_dump(VALID).encode(), GOOD_DATA)
        for args in (("validate", "job.yaml"), ("data", "check", "job.yaml", "-o", "out")):
            outcome = invoke(*args, cwd=folder / "repo")
            assert outcome.code == 0, outcome.stderr
        assert (folder / "repo/out/data/train.jsonl").is_file()


WRONG_TYPES = (["a", "b"], {"x": 1}, "x", 7, None)


def test_a_wrong_type_at_every_path():
    """Exhaustive, not sampled: each path of the valid spec given each other JSON type."""
    for path in PATHS[1:]:
        for value in WRONG_TYPES:
            document = _mutate(copy.deepcopy(VALID), path, "replace", value, None)
            with tempfile.TemporaryDirectory() as name:
                folder = Path(name)
                _repo(folder, yaml.safe_dump(document).encode(), GOOD_DATA)
                _check_property(folder, "validate", "job.yaml")
                _check_property(folder, "data", "check", "job.yaml", "-o", "out")


@FUZZ
@given(spec=spec_documents())
def test_hostile_specs_end_in_exit_0_or_2_and_write_only_the_output(spec: bytes):
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        _repo(folder, spec, GOOD_DATA)
        for args in (("validate", "job.yaml"), ("data", "check", "job.yaml", "-o", "out")):
            event(
                f"{args[0]} exit {_check_property(folder, *args)}"
            )  # --hypothesis-show-statistics


FIELD = st.lists(
    st.sampled_from(
        [
            "a",
            "b",
            "good",
            "bad",
            " ",
            "\t",
            ",",
            '"',
            "'",
            "\n",
            "\r",
            "\x00",
            "\x1b",
            "é",
            "\u202e",
            "{",
            "}",
            "[",
            "]",
            ":",
            "\\",
            "-DOCSTART-",
            "B-PER",
            "I-PER",
            "O",
            "null",
        ]
    ),
    max_size=6,
).map("".join)
ROW = st.lists(FIELD, min_size=0, max_size=4)
FORMATS = {"tsv": "\t", "csv": ",", "jsonl": None, "conll": " "}


def _good_lines(fmt: str, count: int) -> list[str]:
    """Well-formed rows (header first) for `fmt`: enough for `data check` to pass."""
    if fmt == "conll":
        return ["Buhari B-PER\nya O\nje O\nAbuja B-LOC\n"] * count
    if fmt == "jsonl":
        return [json.dumps({"text": t, "label": label}) for t, label in balanced(count)]
    return tsv(balanced(count)).replace("\t", FORMATS[fmt]).splitlines()


@st.composite
def data_files(draw) -> tuple[str, bytes]:
    """A format and a file of good rows with malformed ones mixed in (now and then all
    malformed, or raw bytes)."""
    fmt = draw(st.sampled_from(sorted(FORMATS)))
    if draw(st.integers(0, 9)) == 0:
        return fmt, draw(st.binary(max_size=300))
    lines = _good_lines(fmt, draw(st.sampled_from([0, 4])))
    for row in draw(st.lists(ROW, max_size=6)):
        if fmt == "jsonl":
            keys = draw(st.lists(st.sampled_from(["text", "label", "x", ""]), max_size=3))
            line = _json_line(dict(zip(keys, row, strict=False)), draw)
        else:
            line = FORMATS[fmt].join(row)
        lines.insert(draw(st.integers(0, len(lines))), line)
    return fmt, ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")


def _json_line(row: dict[str, Any], draw) -> str:
    choice = draw(st.integers(0, 5))
    if choice == 0:
        return "[" * 2000 + "]" * 2000
    if choice == 1:
        row["label"] = draw(st.one_of(st.none(), st.integers(), st.lists(FIELD, max_size=2)))
    return json.dumps(row, ensure_ascii=draw(st.booleans()))


def _data_spec(fmt: str) -> bytes:
    task = "token-classification" if fmt == "conll" else "text-classification"
    return (
        f"task: {task}\nbase_model: {{path: .}}\ndata:\n  sources:\n"
        f"    - path: data/train.{fmt}\n      format: {fmt}\n"
        "  min_examples_per_label: 1\n  min_examples_per_language: 1\n"
        "  split: {validation: 0.3, test: 0.0}\n"
    ).encode()


@FUZZ
@given(file=data_files())
def test_malformed_data_ends_in_exit_0_or_2_and_writes_only_the_output(file: tuple[str, bytes]):
    fmt, content = file
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        _repo(folder, _data_spec(fmt), {f"train.{fmt}": content})
        event(f"data exit {_check_property(folder, 'data', 'check', 'job.yaml', '-o', 'out')}")
