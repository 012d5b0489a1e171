"""Safe, strict YAML loading that remembers where every value was written.

PyYAML's own loaders forget line numbers, accept duplicate keys, read `no` as a boolean and
`5e-5` as a string. Job specs are small, reviewed files, so we compose the node tree
ourselves and build plain Python data from it, keeping a map from each value's path to its
file position, and refusing anything surprising with a located problem.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from dexter_autotrain.errors import Problem, UserError
from dexter_autotrain.policy.spec_paths import printable, read_bounded, snippet

MAX_SPEC_BYTES = 1024 * 1024
MAX_VALUES = 20_000
MAX_DEPTH = 64

FieldPath = tuple[str | int, ...]
_SURROGATE = re.compile("[\ud800-\udfff]")
_PLAIN_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("map", "seq", "str", "int", "float", "bool", "null")
)


@dataclass(frozen=True)
class Mark:
    """Where a value was written: 1-based line and column in a named file."""

    file: str
    line: int
    column: int


@dataclass
class YamlDocument:
    """A loaded YAML mapping with the position of every key and list item in it."""

    data: dict[str, Any]
    marks: dict[FieldPath, Mark]


class _SpecLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 core booleans and floats (`no` is a string, `5e-5` a float)
    and no implicit timestamps."""


_BOOL = "tag:yaml.org,2002:bool"
_FLOAT = "tag:yaml.org,2002:float"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"  # dates stay strings
_SpecLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in (_BOOL, _FLOAT, _TIMESTAMP)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_SpecLoader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_SpecLoader.add_implicit_resolver(
    _FLOAT,
    re.compile(
        r"^(?:[-+]?(?:[0-9][0-9_]*)?\.?[0-9]+(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


def load_yaml_mapping(path: Path, display: str) -> YamlDocument:
    """Read `path` as one YAML mapping, or raise UserError listing every problem found."""
    text = _read_text(path, display)
    problems = [
        Problem(
            display,
            number,
            line.index("\t") + 1,
            "",
            "tab used for indentation",
            "indent with spaces; YAML does not allow tabs there",
        )
        for number, line in enumerate(text.splitlines(), start=1)
        if "\t" in line[: len(line) - len(line.lstrip(" \t"))]
    ]
    if problems:
        raise UserError(problems)
    loader, root = _compose(text, display)
    if root is None:
        raise _file_error(
            display,
            "file has no content",
            "write a job spec mapping, e.g. `task: text-classification`",
        )
    builder = _Builder(display, loader)
    data = builder.build(root, ())
    if builder.problems:
        raise UserError(builder.problems)
    if not isinstance(data, dict):
        mark = _mark(root, display)
        raise UserError(
            [
                Problem(
                    display,
                    mark.line,
                    mark.column,
                    "",
                    f"top level is a {_kind(root)}, not a mapping",
                    "a job spec is a mapping of `key: value` lines",
                )
            ]
        )
    return YamlDocument(data=data, marks=builder.marks)


def _compose(text: str, display: str) -> tuple[_SpecLoader, yaml.Node | None]:
    """The loader (kept to construct scalars) and the document's node tree."""
    try:
        loader = _SpecLoader(text)  # the reader checks every character here
        try:
            return loader, loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as error:
        raise UserError([_yaml_problem(error, display)]) from None
    except yaml.reader.ReaderError as error:
        raise UserError([_reader_problem(error, text, display)]) from None
    except RecursionError:
        raise _file_error(
            display, "YAML is nested too deeply", f"keep nesting under {MAX_DEPTH} levels"
        ) from None


def _read_text(path: Path, display: str) -> str:
    raw = read_bounded(path, MAX_SPEC_BYTES, display, what="job spec")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        before = raw[: error.start]
        line = before.count(b"\n") + 1
        column = error.start - (before.rfind(b"\n") + 1) + 1
        raise UserError(
            [
                Problem(
                    display,
                    line,
                    column,
                    "",
                    f"byte 0x{raw[error.start]:02x} is not valid UTF-8",
                    "save the file as UTF-8",
                )
            ]
        ) from None
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise _file_error(
            display, "file is empty", "write a job spec, or run `dexter-auto init TASK NAME`"
        )
    return text


class _Builder:
    """Turns a composed node tree into Python data, recording marks and problems."""

    def __init__(self, display: str, loader: _SpecLoader):
        self.display = display
        self.loader = loader
        self.marks: dict[FieldPath, Mark] = {}
        self.problems: list[Problem] = []
        self.values = 0

    def build(self, node: yaml.Node, path: FieldPath, depth: int = 0) -> Any:
        self.values += 1
        if self.values > MAX_VALUES or depth > MAX_DEPTH:
            raise _file_error(
                self.display,
                f"document expands to more than {MAX_VALUES} values or {MAX_DEPTH} levels",
                "remove the anchors/aliases that repeat content (an alias bomb?)",
            )
        self.marks.setdefault(path, _mark(node, self.display))
        if node.tag not in _PLAIN_TAGS:
            self._problem(
                _mark(node, self.display),
                path,
                f"unsupported tag {node.tag}",
                "use plain strings, numbers, booleans, lists and maps",
            )
            return None
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            return [
                self.build(item, (*path, index), depth + 1) for index, item in enumerate(node.value)
            ]
        return self._scalar(node, path)

    def _scalar(self, node: yaml.Node, path: FieldPath) -> Any:
        try:
            value = self.loader.construct_object(node, deep=True)
        except (ValueError, yaml.YAMLError):
            self._problem(
                _mark(node, self.display),
                path,
                f"cannot read the value {snippet(str(node.value))}",
                "write a plain number or a quoted string",
            )
            return None
        if isinstance(value, str) and _SURROGATE.search(value):
            self._problem(
                _mark(node, self.display),
                path,
                "holds a lone surrogate escape (\\ud800-\\udfff), which is not text",
                "write the character itself, or escape a whole surrogate pair as \\U000XXXXX",
            )
            return None
        return value

    def _mapping(self, node: yaml.MappingNode, path: FieldPath, depth: int) -> dict[str, Any]:
        try:
            self.loader.flatten_mapping(node)
        except yaml.MarkedYAMLError as error:
            self.problems.append(_yaml_problem(error, self.display))
            return {}
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            mark = _mark(key_node, self.display)
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str) or key_node.tag != "tag:yaml.org,2002:str":
                self._problem(
                    mark, path, "keys must be plain strings", "quote the key or rename it"
                )
                continue
            child = (*path, key)
            if key in result:
                self._problem(
                    mark,
                    child,
                    f"duplicate key (first written on line {self.marks[child].line})",
                    "keep one of them; YAML would silently use the last",
                )
                continue
            self.marks[child] = mark
            result[key] = self.build(value_node, child, depth + 1)
        return result

    def _problem(self, mark: Mark, path: FieldPath, message: str, hint: str) -> None:
        self.problems.append(
            Problem(self.display, mark.line, mark.column, dotted(path), message, hint)
        )


def _file_error(display: str, message: str, hint: str) -> UserError:
    """A problem with the file as a whole (no line to point at)."""
    return UserError([Problem(display, None, None, "", message, hint)])


def _yaml_problem(error: yaml.MarkedYAMLError, display: str) -> Problem:
    mark = error.problem_mark or error.context_mark
    message = " ".join(part for part in (error.context, error.problem) if part)
    return Problem(
        display,
        mark.line + 1 if mark else None,
        mark.column + 1 if mark else None,
        "",
        f"invalid YAML: {message}",
        "check indentation, colons and quotes around this position",
    )


def _reader_problem(error: yaml.reader.ReaderError, text: str, display: str) -> Problem:
    """A character YAML refuses (control characters, some unicode): PyYAML gives only its
    offset, so count lines ourselves."""
    before = text[: error.position]
    return Problem(
        display,
        before.count("\n") + 1,
        error.position - (before.rfind("\n") + 1) + 1,
        "",
        f"character {printable(_as_text(error.character))} is not allowed in YAML",
        "remove it, or write it as an escape inside a double-quoted string",
    )


def _as_text(character: str | int) -> str:
    return character if isinstance(character, str) else chr(character)


def _mark(node: yaml.Node, display: str) -> Mark:
    return Mark(display, node.start_mark.line + 1, node.start_mark.column + 1)


def _kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.SequenceNode):
        return "list"
    return "scalar value"


def dotted(path: FieldPath) -> str:
    """`data.sources[0].path` for ('data', 'sources', 0, 'path')."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text
