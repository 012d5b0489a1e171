"""Render a model card: a sandboxed Jinja template with strict undefined variables.

Templates can arrive in pull requests, so they run in Jinja's sandbox (no reaching Python
internals) and a missing variable is an error naming the template and line, never a silent
blank in a published card.
"""

from __future__ import annotations

import os
import traceback
from pathlib import Path
from typing import Any

from huggingface_hub import ModelCard
from jinja2 import FileSystemLoader, StrictUndefined, TemplateError, TemplateSyntaxError
from jinja2.exceptions import SecurityError, TemplateNotFound, UndefinedError
from jinja2.sandbox import SandboxedEnvironment

from dexter_autotrain.cards.metadata import card_data
from dexter_autotrain.errors import Problem, UserError
from dexter_autotrain.paths import display_path


def templates_dir() -> Path:
    """`$DEXTER_TEMPLATES`, else the repository's `templates/`."""
    configured = os.environ.get("DEXTER_TEMPLATES")
    return Path(configured) if configured else Path(__file__).resolve().parents[2] / "templates"


def _number(value: Any, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def render_card(context: dict[str, Any], template: Path | None = None) -> str:
    """The card text: metadata front matter, then the rendered template."""
    search = [str(template.parent)] if template else []
    environment = SandboxedEnvironment(
        loader=FileSystemLoader([*search, str(templates_dir())]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    environment.filters["num"] = _number
    name = template.name if template else f"{context['task']}.md.j2"
    try:
        body = environment.get_template(name).render(**context)
    except TemplateNotFound as error:
        raise UserError(
            f"card.template: template {error.name} not found (paths are relative to the spec file)"
        ) from None
    except TemplateSyntaxError as error:
        raise UserError(
            [
                Problem(
                    _shown(error.filename, name),
                    error.lineno,
                    None,
                    "",
                    f"template syntax error: {error.message}",
                    "fix the Jinja syntax on this line",
                )
            ]
        ) from None
    except TemplateError as error:
        filename, line = _template_frame(error, name)
        message, hint = _explain(error)
        raise UserError([Problem(filename, line, None, "", message, hint)]) from None
    data = card_data(context)
    text = f"---\n{data.to_yaml()}\n---\n\n{body.lstrip()}"
    ModelCard(text, ignore_metadata_errors=False)  # the Hub's own parser must accept it
    return text


def _explain(error: TemplateError) -> tuple[str, str]:
    if isinstance(error, SecurityError):
        return (
            f"template tried to reach Python internals ({error})",
            "templates may only use the card's variables and filters",
        )
    if isinstance(error, UndefinedError):
        return str(error.message), "use a variable the card provides, or `| default(...)`"
    return f"template error: {error}", ""


def _template_frame(error: Exception, name: str) -> tuple[str, int | None]:
    """The template file and line where rendering failed (Jinja rewrites the traceback so
    template lines appear as frames)."""
    for frame in reversed(traceback.extract_tb(error.__traceback__)):
        if frame.filename.endswith(".j2") or frame.filename.endswith(name):
            return _shown(frame.filename, name), frame.lineno
    return name, None


def _shown(filename: str | None, name: str) -> str:
    return display_path(Path(filename)) if filename else name
