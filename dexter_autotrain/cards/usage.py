"""The sentence a card's "How to use" example passes to the model, in one of the job's
languages.

A fixed, reviewed sentence per language rather than one taken from the test split: the test
data are real posts, which can quote private people, slurs or claims a public card should
not repeat, and a fixed sentence keeps cards reproducible. The entity example names only a
public office holder and places.
"""

from __future__ import annotations

from typing import Any

from dexter_autotrain.cards.languages import LANGUAGE_NAMES

TEXT_EXAMPLES = {
    "hau": "Ina son wannan waƙa sosai.",
    "yor": "Mo fẹ́ràn orin yìí gan-an.",
    "ibo": "Abụ a na-atọ m ụtọ nke ukwuu.",
    "pcm": "Wetin dey happen for Lagos today?",
    "eng": "The new road to Kano has made my journey much easier.",
}
ENTITY_EXAMPLES = {
    "hau": "Shugaba Bola Tinubu ya isa Kano ranar Litinin.",
    "yor": "Ààrẹ Bola Tinubu dé sí Kano lónìí.",
    "ibo": "Onye isi ala Bola Tinubu rutere Kano taa.",
    "pcm": "Bola Tinubu don land for Kano today.",
    "eng": "President Bola Tinubu arrived in Kano on Monday.",
}
FALLBACK = "eng"


def usage_example(task: str, languages: list[str]) -> dict[str, Any] | None:
    """`{"text", "language"}` for the first of the job's languages that has a sentence
    (English when none has), or None for tasks whose input is not text."""
    table = {"text-classification": TEXT_EXAMPLES, "token-classification": ENTITY_EXAMPLES}
    if task not in table:
        return None
    code = next((code for code in languages if code in table[task]), FALLBACK)
    return {"text": table[task][code], "language": LANGUAGE_NAMES[code], "code": code}
