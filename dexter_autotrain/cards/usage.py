"""The sentence a card's "How to use" example passes to the model, in one of the job's
languages.

A fixed, reviewed sentence per language rather than one taken from the test split: the test
data are real posts, which can quote private people, slurs or claims a public card should
not repeat, and a fixed sentence keeps cards reproducible. The entity example names only a
public office holder and places. The sentences live with their task (`tasks/`,
`TaskKind.usage_examples`).
"""

from __future__ import annotations

from typing import Any

from dexter_autotrain.cards.languages import LANGUAGE_NAMES
from dexter_autotrain.tasks import get_task

FALLBACK = "eng"


def usage_example(task: str, languages: list[str]) -> dict[str, Any] | None:
    """`{"text", "language"}` for the first of the job's languages that has a sentence
    (English when none has), or None for tasks whose input is not text."""
    examples = get_task(task).usage_examples
    if not examples:
        return None
    code = next((code for code in languages if code in examples), FALLBACK)
    return {"text": examples[code], "language": LANGUAGE_NAMES[code], "code": code}
