"""How a model card renders on the Hub, checked with a real CommonMark renderer plus GFM
tables (markdown-it-py, what rich renders Markdown with): every table keeps all its rows,
`<details>` blocks survive as HTML, every local image is a file of the same commit."""

from __future__ import annotations

import re

FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.S)


def rendering_problems(card: str, files: set[str] | None = None) -> list[str]:
    """What would render differently on the Hub than the Markdown says (empty: nothing).

    `files`: the paths committed beside the card; None skips the image check."""
    from markdown_it import MarkdownIt

    body = FRONT_MATTER.sub("", card)
    tokens = MarkdownIt("commonmark").enable("table").parse(body)
    problems = _tables(body, tokens)
    html = "".join(t.content for t in tokens if t.type in ("html_block", "html_inline"))
    html += "".join(c.content for t in tokens for c in t.children or [] if c.type == "html_inline")
    if body.count("<details") != html.count("<details"):
        problems.append("a <details> block does not render as HTML")
    for token in tokens:
        for child in token.children or []:
            source = str(child.attrs.get("src", "")) if child.type == "image" else ""
            local = source and not source.startswith("http")
            if local and files is not None and source not in files:
                problems.append(f"image {source}: not a file of the commit")
    return problems


def _tables(body: str, tokens: list) -> list[str]:
    """Every pipe line of the source (outside code) is a header, separator or row of a
    rendered table: a blank line inside a table, or a missing separator, orphans rows."""
    prose = re.sub(r"^```.*?^```", "", body, flags=re.S | re.M)
    written = len(re.findall(r"^\|.*\|[ \t]*$", prose, re.M))
    tables = sum(token.type == "table_open" for token in tokens)
    rows = sum(token.type == "tr_open" for token in tokens)
    if written != rows + tables:  # each table: its rows (the header one too) and a separator
        return [f"tables: {written} pipe lines in the Markdown, {rows + tables} rendered"]
    return []
