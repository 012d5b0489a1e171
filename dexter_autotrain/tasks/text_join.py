"""Text from several columns (`data.columns.text: [headline, text]`): AutoTrain takes one
text column, so the columns are joined, in the spec's order, with one separator before
tokenizing; `serve` joins an object with the same columns the same way."""

from __future__ import annotations

from collections.abc import Iterable

TEXT_SEPARATOR = "\n\n"
"""Between joined columns: a blank line, as between a headline and its article."""


def join_text(parts: Iterable[object]) -> str:
    """The columns' values as one text: each stripped, empty ones left out, joined with
    `TEXT_SEPARATOR`.

    Example:
        ```python
        >>> join_text(["Buhari seeks loan", "Abuja: the president asked..."])
        'Buhari seeks loan\\n\\nAbuja: the president asked...'
        ```
    """
    return TEXT_SEPARATOR.join(text for part in parts if (text := str(part).strip()))
