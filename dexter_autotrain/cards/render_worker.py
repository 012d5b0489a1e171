"""The card renderer's worker process: renders one template under hard limits.

A template can loop for minutes inside one expression-free `for`, or allocate gigabytes in
one C call (`'%09999999999d' % 1`, `'x' | center(10**9)`); neither can be stopped from
inside the same process by checks in Python code. So rendering runs in its own Python
process, started by `render.render_body` with `-I` and an empty environment (no token in
reach), which caps its own address space (RLIMIT_AS: an allocation over it is a
MemoryError) and CPU time (RLIMIT_CPU), and arms a CPU-time timer (ITIMER_PROF: a busy
machine does not shorten it) whose signal raises inside the template's code, so a long loop
is reported at its template line. The parent kills it if even that fails. Protocol: one
JSON request on stdin, one JSON answer on stdout.
"""

from __future__ import annotations

import json
import math
import resource
import signal
import sys
import traceback
from collections.abc import Generator
from pathlib import Path
from typing import Any

from jinja2 import TemplateNotFound, TemplateSyntaxError
from jinja2.exceptions import SecurityError, UndefinedError

from dexter_autotrain.cards.sandbox import (
    CardEnvironment,
    ConfinedLoader,
    Limits,
    Refused,
    TooLarge,
)
from dexter_autotrain.policy.spec_paths import printable

MAX_MESSAGE_CHARS = 300


class RenderTimeout(Exception):
    """Raised by the timer signal wherever the template's code is running."""


def main() -> None:
    request = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    limits = Limits(**request["limits"])
    _cap_resources(limits)
    loader = ConfinedLoader(
        [Path(p) for p in request["search"]], [Path(p) for p in request["roots"]]
    )
    environment = CardEnvironment(loader, limits)
    try:
        answer: dict[str, Any] = {
            "body": _render(environment, request["template"], request["context"], limits)
        }
    except Exception as error:  # whatever a template does wrong is reported at its line
        file, line = _locate(error, request["template"], loader.loaded)
        message, hint = _explain(error, limits)
        answer = {"problem": {"file": file, "line": line, "message": message, "hint": hint}}
    sys.stdout.buffer.write(json.dumps(answer).encode("ascii"))


def _cap_resources(limits: Limits) -> None:
    caps = (
        (resource.RLIMIT_AS, limits.memory_bytes),
        (resource.RLIMIT_CPU, math.ceil(limits.seconds) + 1),
    )
    for kind, value in caps:
        hard = resource.getrlimit(kind)[1]
        soft = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(kind, (soft, hard))


def _out_of_time(signum: int, frame: Any) -> None:
    raise RenderTimeout


def _render(
    environment: CardEnvironment, name: str, context: dict[str, Any], limits: Limits
) -> str:
    signal.signal(signal.SIGPROF, _out_of_time)
    signal.setitimer(signal.ITIMER_PROF, limits.seconds)
    try:
        return _collect(environment.get_template(name).generate(**context), limits.output_chars)
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)


def _collect(chunks: Generator[str, None, None], limit: int) -> str:
    """The rendered text, stopped (at the template line writing it) once it passes `limit`."""
    parts, size = [], 0
    for chunk in chunks:
        size += len(chunk)
        if size > limit:
            chunks.throw(TooLarge(f"the card would be longer than {limit} characters"))
        parts.append(chunk)
    return "".join(parts)


def _locate(error: Exception, name: str, loaded: set[str]) -> tuple[str, int | None]:
    """The template file and line where rendering failed (Jinja rewrites the traceback so
    template lines appear as frames of the template's file)."""
    if isinstance(error, TemplateSyntaxError) and error.filename:
        return error.filename, error.lineno
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if frame.filename in loaded:
            return frame.filename, frame.lineno
    return name, None


_EXPLAINED: tuple[tuple[type[BaseException], str, str], ...] = (
    (
        RenderTimeout,
        "rendering took longer than {seconds:g} s",
        "look for a loop that runs too long",
    ),
    (MemoryError, "rendering needed more than {mib} MiB of memory", "build smaller values"),
    (
        RecursionError,
        "template recursion is too deep",
        "look for a macro, include or extends that calls itself",
    ),
    (
        TemplateSyntaxError,
        "template syntax error: {error.message}",
        "fix the Jinja syntax on this line",
    ),
    (
        TemplateNotFound,
        "template {error.name} not found",
        "templates are looked up next to the job's template, then in templates/",
    ),
    (
        SecurityError,
        "template tried to reach Python internals ({error})",
        "templates may only use the card's variables and filters",
    ),
    (UndefinedError, "{error.message}", "use a variable the card provides, or `| default(...)`"),
    (TooLarge, "{error}", ""),
    (Refused, "{error}", "templates may come only from templates/ or the job's repository"),
)


def _explain(error: Exception, limits: Limits) -> tuple[str, str]:
    """One message and hint for any failure, escaped and shortened for a terminal."""
    message, hint = "template error: {kind}: {error}", ""
    for kind, text, advice in _EXPLAINED:
        if isinstance(error, kind):
            message, hint = text, advice
            break
    shown = message.format(
        error=error,
        kind=type(error).__name__,
        seconds=limits.seconds,
        mib=limits.memory_bytes // 2**20,
    )
    return printable(shown[:MAX_MESSAGE_CHARS]), hint
