"""Terminal output: rich for people, plain text when stdout is not a terminal, JSON for scripts.

Everything that came from input (file names, field names, values, log lines) is passed
through `printable()` before it reaches a terminal, so control characters in a hostile spec
cannot move the cursor or rewrite a CI log.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from dexter_autotrain.api import printable
from dexter_autotrain.errors import Problem

PIPED_WIDTH = 10_000
"""Piped output is as wide as its content: a run id or a path is never cut to 80 columns."""
out = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else PIPED_WIDTH)
err = Console(stderr=True, highlight=False, soft_wrap=True)
"""Progress and notes on stderr: silenced by `-q`."""
failures = Console(stderr=True, highlight=False, soft_wrap=True)
"""Errors and problems on stderr: never silenced."""


def new_table(*headers: str, **options: Any) -> Table:
    """A table: boxed on a terminal; piped, plain columns with no box drawing (for grep, CI
    logs and copying ids)."""
    if not out.is_terminal:
        options.setdefault("box", None)
        options.setdefault("pad_edge", False)
    return Table(*headers, **options)


class _Mode:
    """Whether the running command was given `--json` (errors then go to stdout as JSON)."""

    json = False


mode = _Mode()


def _remember_json(_ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    if value:
        mode.json = True
    return value


def json_option(help_text: str = "Print the result as JSON for scripts (errors too)."):
    """The `--json` flag every command takes; with it, errors are JSON on stdout as well:
    `{"ok": false, "problems": [...]}`."""
    return click.option(
        "--json", "as_json", is_flag=True, is_eager=True, callback=_remember_json, help=help_text
    )


def hub_line(line: str) -> None:
    """One line of Hub progress (a retry, ...) on stderr."""
    err.print(f"[yellow]hub[/yellow]: {escape(line)}")


def print_json(payload: Any) -> None:
    """Machine-readable output: plain JSON on stdout, never styled."""
    sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")


def print_problems(problems: list[Problem]) -> None:
    """One line per problem on stderr, escaped; as `{"ok": false, ...}` on stdout in JSON mode."""
    if mode.json:
        print_json({"ok": False, "problems": [p.to_dict() for p in problems]})
        return
    for problem in problems:
        failures.print(f"[red]{escape(printable(str(problem)))}[/red]")


def print_error(kind: str, message: str) -> None:
    """A failure that is not a located problem (exit 1): `error: ...`, or JSON."""
    if mode.json:
        print_json({"ok": False, "error": kind, "message": message})
        return
    shown = "\n".join(escape(printable(line)) for line in message.splitlines())
    failures.print(f"[red]{kind}[/red]: {shown}")
