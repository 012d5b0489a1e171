"""Terminal output: rich for people, plain text when stdout is not a terminal."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console
from rich.markup import escape

from dexter_autotrain.errors import Problem

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def print_json(payload: Any) -> None:
    """Machine-readable output: plain JSON on stdout, never styled."""
    sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")


def print_problems(problems: list[Problem]) -> None:
    for problem in problems:
        err.print(f"[red]{escape(str(problem))}[/red]")
