"""MkDocs hooks: the reference pages generated from the code, so they cannot fall behind it.

- `reference/spec.md`: every spec field, its type, default and meaning (from the model);
- `reference/cli.md`: every command's `--help`, as the command prints it.
"""

from __future__ import annotations

from typing import Any

import click
from mkdocs.structure.files import File, Files

SPEC_INTRO = """# Spec fields

Every field of a job spec, generated from the spec's model (`dexter_autotrain/spec/model.py`):
its type, its default and what it means. `dexter-auto schema` prints the same as a JSON Schema
for editors; [Job specs](../spec.md) explains how they fit together.

"""

CLI_INTRO = """# Every command's help

What `dexter-auto COMMAND --help` prints, for every command. The [Commands](../commands.md)
page says what each is for.

"""


def on_files(files: Files, config: Any) -> Files:
    """Add the generated reference pages."""
    from dexter_autotrain.spec.reference import spec_reference_markdown

    pages = {
        "reference/spec.md": SPEC_INTRO + spec_reference_markdown(),
        "reference/cli.md": CLI_INTRO + cli_reference_markdown(),
    }
    for path, content in pages.items():
        files.append(File.generated(config, path, content=content))
    return files


def cli_reference_markdown() -> str:
    """Each command's help text under its own heading, groups' subcommands after them."""
    from dexter_autotrain.cli import cli

    root = click.Context(cli, info_name="dexter-auto", terminal_width=100, max_content_width=100)
    return "\n".join(_help_sections(cli, root))


def _help_sections(group: click.Group, context: click.Context) -> list[str]:
    sections = []
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        if command is None or command.hidden:
            continue
        inner = click.Context(command, info_name=name, parent=context)
        sections.append(f"## `{inner.command_path}`\n\n```text\n{command.get_help(inner)}\n```\n")
        if isinstance(command, click.Group):
            sections += _help_sections(command, inner)
    return sections
