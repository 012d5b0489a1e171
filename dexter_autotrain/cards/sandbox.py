"""The Jinja environment a card template runs in.

Card templates arrive in pull requests. On top of Jinja's immutable sandbox (no Python
internals, no mutating the card's data, `range()` capped at 100000 items), this environment
refuses the one-expression blow-ups before they run (`10 ** 10 ** 10`, `'x' * 10**9`) and
loads templates (including `include`, `import` and `extends`) only from files that resolve,
symlinks followed, inside the allowed folders. Time and memory are bounded by the worker
process that renders (see `render_worker`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import BaseLoader, Environment, StrictUndefined, TemplateNotFound
from jinja2.exceptions import TemplateRuntimeError
from jinja2.loaders import split_template_path
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from dexter_autotrain.errors import UserError
from dexter_autotrain.policy.spec_paths import read_bounded

MAX_TEMPLATE_BYTES = 256 * 1024
MAX_NUMBER_BITS = 4096
MAX_DIGITS = 12


@dataclass(frozen=True)
class Limits:
    """What one card render may use (`seconds`: of CPU time, so a busy machine does not
    shorten it)."""

    seconds: float = 5.0
    output_chars: int = 1024 * 1024
    memory_bytes: int = 512 * 1024 * 1024


DEFAULT_LIMITS = Limits()


class TooLarge(TemplateRuntimeError):
    """An expression, or the card itself, would exceed a limit."""


class Refused(TemplateRuntimeError):
    """A template file that may not be used: outside the allowed folders, special, too big."""


class ConfinedLoader(BaseLoader):
    """Finds a template name in `search` folders in order, like FileSystemLoader, but only
    returns a file that resolves inside `roots`, is a regular file and is small enough."""

    def __init__(self, search: list[Path], roots: list[Path]):
        self.search = search
        self.roots = roots
        self.loaded: set[str] = set()

    def get_source(
        self, environment: Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        pieces = split_template_path(template)  # refuses `..` and separators in names
        for folder in self.search:
            try:
                path = folder.joinpath(*pieces).resolve()
                found = path.exists() and not path.is_dir()
            except (OSError, RuntimeError, ValueError):
                raise TemplateNotFound(template) from None
            if found:
                return self._read(path, template), str(path), lambda: True
        raise TemplateNotFound(template)

    def _read(self, path: Path, name: str) -> str:
        if not any(path == root or root in path.parents for root in self.roots):
            raise Refused(f"template {name} resolves outside templates/ and the job's repository")
        try:
            data = read_bounded(path, MAX_TEMPLATE_BYTES, name, what="card template")
            text = data.decode("utf-8")
        except UserError as error:
            raise Refused(f"template {name}: {error.problems[0].message}") from None
        except UnicodeDecodeError:
            raise Refused(f"template {name} is not UTF-8 text") from None
        self.loaded.add(str(path))
        return text


class CardEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox, with `*` and `**` checked before they build a huge value."""

    intercepted_binops = frozenset({"*", "**"})

    def __init__(self, loader: ConfinedLoader, limits: Limits):
        super().__init__(
            loader=loader,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            autoescape=False,
        )
        self.limits = limits
        self.filters["num"] = number
        del self.globals["lipsum"]  # text generation has no place in a card

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            _check_power(left, right)
        else:
            _check_product(left, right, self.limits.output_chars)
        return super().call_binop(context, operator, left, right)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_power(base: Any, exponent: Any) -> None:
    if not (_is_int(base) and _is_int(exponent) and abs(base) > 1 and exponent > 0):
        return
    if abs(base).bit_length() * exponent > MAX_NUMBER_BITS:
        raise TooLarge(f"the power {_short(base)} ** {_short(exponent)} is too large")


def _check_product(left: Any, right: Any, max_chars: int) -> None:
    if _is_int(left) and _is_int(right):
        if left.bit_length() + right.bit_length() > MAX_NUMBER_BITS:
            raise TooLarge("the product is too large a number")
        return
    sequence, count = (left, right) if _is_int(right) else (right, left)
    repeats = isinstance(sequence, str | list | tuple) and _is_int(count)
    if repeats and len(sequence) * count > max_chars:
        raise TooLarge(
            f"repeating {len(sequence)} items {_short(count)} times is over the {max_chars} allowed"
        )


def _short(number: int) -> str:
    return str(number) if number.bit_length() < 64 else f"a {number.bit_length()}-bit number"


def number(value: Any, digits: int = 3) -> str:
    """`num` filter: a fixed-point number, or `-` for a missing value."""
    if not _is_int(digits) or not 0 <= digits <= MAX_DIGITS:
        raise TooLarge(f"num: digits must be 0 to {MAX_DIGITS}")
    return "-" if value is None else f"{value:.{digits}f}"
