"""The documentation keeps up with the code: every command, environment variable and spec
section is documented, and the README stays a newcomer's page. (The site itself is built
with `mkdocs build --strict` by `make docs`, which CI runs before the suite.)"""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from dexter_autotrain.cli import cli
from dexter_autotrain.spec.model import JobSpec
from dexter_autotrain.spec.reference import field_rows, spec_reference_markdown

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
EXTERNAL_VARIABLES = {"HF_TOKEN", "HF_ENDPOINT", "GITHUB_TOKEN"}
"""Variables of other tools that the toolkit reads and a user sets."""


def command_paths() -> list[list[str]]:
    """Every command as its words after `dexter-auto` (`["runs", "compare"]`)."""
    found: list[list[str]] = []

    def walk(group: click.Group, context: click.Context, path: list[str]) -> None:
        for name in group.list_commands(context):
            command = group.get_command(context, name)
            assert command is not None
            found.append([*path, name])
            if isinstance(command, click.Group):
                walk(command, click.Context(command, info_name=name, parent=context), [*path, name])

    walk(cli, click.Context(cli, info_name="dexter-auto"), [])
    return found


def documented(command: list[str], text: str) -> bool:
    """A row that starts `dexter-auto GROUP` and names the subcommand (`runner install |
    status | path` documents all three)."""
    head, *rest = command
    rows = [line for line in text.splitlines() if f"`dexter-auto {head}" in line]
    return any(all(re.search(rf"\b{re.escape(word)}\b", row) for word in rest) for row in rows)


@pytest.mark.parametrize("page", ["README.md", "docs/commands.md"])
def test_every_command_is_in_the_command_tables(page):
    text = (REPO / page).read_text()
    missing = [" ".join(c) for c in command_paths() if not documented(c, text)]
    assert not missing, f"{page} lacks a row for: {', '.join(missing)}"


def read_variables() -> set[str]:
    """The `DEXTER_*` variables the package reads or mentions, and those the jobs use."""
    package = "\n".join(p.read_text() for p in (REPO / "dexter_autotrain").rglob("*.py"))
    jobs = "\n".join(p.read_text() for p in (REPO / "jobs").glob("*.yaml"))
    found = set(re.findall(r"\b(DEXTER_[A-Z][A-Z_]*[A-Z])\b", package + jobs))
    return found - {"DEXTER_AUTO"} | EXTERNAL_VARIABLES  # DEXTER_AUTO: a constant, the executable


def test_every_environment_variable_is_documented():
    page = (DOCS / "environment.md").read_text()
    missing = sorted(name for name in read_variables() if f"`{name}`" not in page)
    assert not missing, f"docs/environment.md lacks: {', '.join(missing)}"
    assert "DEXTER_RUNS_DIR" in read_variables()  # the scan itself finds what it should


def test_every_spec_field_is_in_the_reference_and_every_section_in_the_guide():
    reference = spec_reference_markdown()
    paths = [row.path for row in field_rows()]
    assert {"data.sources[].path", "card.benchmark", "hub.review"} <= set(paths)
    assert all(f"`{path}`" in reference for path in paths)
    guide = (DOCS / "spec.md").read_text()
    sections = [info.alias or name for name, info in JobSpec.model_fields.items()]
    missing = [name for name in sections if not re.search(rf"(`{name}[`.:]|^{name}:)", guide, re.M)]
    assert not missing, f"docs/spec.md never mentions: {', '.join(missing)}"


def test_the_readme_is_a_newcomers_page():
    readme = (REPO / "README.md").read_text()
    assert len(readme.splitlines()) <= 200
    assert "make demo" in readme and "make test" in readme  # the two set-up commands
    for link in re.findall(r"\]\((docs/[^)#]+)", readme):
        assert (REPO / link).is_file(), f"README links to a missing page: {link}"
