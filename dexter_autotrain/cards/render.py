"""Render a model card: metadata front matter, then a sandboxed, bounded Jinja template.

Templates can arrive in pull requests. A job's template must be a regular file inside the
job's repository (or the toolkit's templates/); it renders in a worker process under time,
output and memory limits (see `render_worker`), and any failure is one located error (file
and line), never a traceback and never a silent blank in a published card.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from huggingface_hub import ModelCard

import dexter_autotrain
from dexter_autotrain.cards.metadata import card_data
from dexter_autotrain.cards.sandbox import DEFAULT_LIMITS, MAX_TEMPLATE_BYTES, Limits
from dexter_autotrain.errors import Problem, ToolError, UserError
from dexter_autotrain.policy.spec_paths import confine, printable, read_bounded
from dexter_autotrain.system.files import display_path
from dexter_autotrain.system.repository import repository_root

FIELD = "card.template"
KILL_GRACE_SECONDS = 5.0
_WORKER = (
    "import sys; sys.path.insert(0, {root!r}); "
    "from dexter_autotrain.cards.render_worker import main; main()"
)


def templates_dir() -> Path:
    """`$DEXTER_TEMPLATES`, else the repository's `templates/`."""
    configured = os.environ.get("DEXTER_TEMPLATES")
    return Path(configured) if configured else Path(__file__).resolve().parents[2] / "templates"


def render_card(
    context: dict[str, Any], template: Path | None, spec_dir: Path, limits: Limits = DEFAULT_LIMITS
) -> str:
    """The card text. `template` is the job's own template (relative paths are taken from
    `spec_dir`), or None for the task's template in templates/."""
    templates = templates_dir().resolve()
    roots = [templates, repository_root(spec_dir)]
    if template is None:
        name, search = f"{context['task']}.md.j2", [templates]
    else:
        path = template_file(spec_dir / template, spec_dir, roots)
        name, search = path.name, [path.parent, templates]
    request = {
        "context": context,
        "template": name,
        "search": [str(folder) for folder in search],
        "roots": [str(root) for root in roots],
        "limits": asdict(limits),
    }
    body = _render_in_worker(request, search[0] / name, limits)
    text = f"---\n{card_data(context).to_yaml()}\n---\n\n{body.lstrip()}"
    ModelCard(text, ignore_metadata_errors=False)  # the Hub's own parser must accept it
    return text


def template_file(path: Path, spec_dir: Path, roots: list[Path]) -> Path:
    """`card.template` resolved: a regular, readable, small file inside the job's repository
    or templates/ (a data root from $DEXTER_DATA_ROOTS is not a place for templates)."""
    shown = printable(str(path))
    resolved = path.resolve() if _inside(path, roots[:1]) else confine(path, spec_dir, FIELD)
    if not _inside(resolved, roots):
        raise _refused(shown, "a card template must be in the job's repository or templates/")
    if resolved.is_dir():  # read_bounded's fdopen of a directory raises IsADirectoryError
        raise _refused(shown, "is a directory, not a file")
    read_bounded(resolved, MAX_TEMPLATE_BYTES, shown, FIELD, "card template")
    return resolved


def _refused(shown: str, message: str) -> UserError:
    return UserError(
        [Problem(shown, None, None, FIELD, message, "name a template file next to the job spec")]
    )


def _inside(path: Path, roots: list[Path]) -> bool:
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError, ValueError):
        return False
    return any(resolved == root or root in resolved.parents for root in roots)


def _render_in_worker(request: dict[str, Any], template: Path, limits: Limits) -> str:
    root = str(Path(dexter_autotrain.__file__).resolve().parents[1])
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-c", _WORKER.format(root=root)],
            input=json.dumps(request).encode("utf-8"),
            capture_output=True,
            timeout=limits.seconds + KILL_GRACE_SECONDS,
            env={"PATH": os.defpath},
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise _located(
            str(template),
            None,
            f"rendering took longer than {limits.seconds:g} s",
            "look for a loop that runs too long",
        ) from None
    if done.returncode < 0:
        raise _located(
            str(template),
            None,
            f"rendering was stopped ({signal.Signals(-done.returncode).name}): it used more "
            f"than {limits.seconds:g} s of CPU or {limits.memory_bytes // 2**20} MiB of memory",
            "look for a loop that runs too long or a value that grows too large",
        )
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", errors="replace").strip().splitlines()
        raise ToolError(f"the card renderer failed: {printable(lines[-1] if lines else '?')}")
    answer = json.loads(done.stdout)
    if "problem" in answer:
        problem = answer["problem"]
        raise _located(problem["file"], problem["line"], problem["message"], problem["hint"])
    return answer["body"]


def _located(file: str, line: int | None, message: str, hint: str) -> UserError:
    shown = display_path(Path(file)) if os.path.isabs(file) else file
    return UserError([Problem.at(printable(shown), line, message, hint)])
