"""Which sub-tokens carry a word's tag: the first sub-token of each word, in training and in
evaluation alike.

Pure Python with no imports, so the runner's training script (another environment) and the
toolkit's evaluation read the same positions from the same code.
"""

IGNORED = -100
"""The label the loss skips: special tokens and every sub-token after a word's first."""


def first_subtokens(word_ids: list[int | None]) -> dict[int, int]:
    """Each word's first sub-token position (words cut off by the length limit have none)."""
    first: dict[int, int] = {}
    for position, word in enumerate(word_ids):
        if word is not None:
            first.setdefault(word, position)
    return first


def first_subtoken_labels(word_ids: list[int | None], tags: list[int]) -> list[int]:
    """Training labels: the word's tag on its first sub-token, IGNORED everywhere else."""
    labels = [IGNORED] * len(word_ids)
    for word, position in first_subtokens(word_ids).items():
        labels[position] = tags[word]
    return labels
