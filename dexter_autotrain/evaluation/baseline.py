"""A cheap baseline beside the model, trained on the same train split, scored on the same
test examples: TF-IDF + logistic regression for text, the most frequent tag of each word for
NER, the majority class for images."""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

MAX_FEATURES = 20_000
MIN_DF_ROWS = 1_000
BASELINE_NAMES = {
    "text-classification": "TF-IDF + logistic regression",
    "token-classification": "most frequent tag per word",
    "image-classification": "majority class",
}


def baseline_predictions(
    task: str, train_inputs: list[Any], train_labels: list[Any], test_inputs: list[Any], seed: int
) -> list[Any]:
    if task == "text-classification":
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline

        # A capped vocabulary keeps the baseline quick on long articles, and regularises it
        # (it scores better on MasakhaNEWS than an unbounded one).
        vectorizer = TfidfVectorizer(
            ngram_range=(1, 2),
            sublinear_tf=True,
            max_features=MAX_FEATURES,
            min_df=2 if len(train_inputs) >= MIN_DF_ROWS else 1,
        )
        model = make_pipeline(vectorizer, LogisticRegression(max_iter=1000, random_state=seed))
        model.fit(train_inputs, train_labels)
        return list(model.predict(test_inputs))
    if task == "token-classification":
        tags: dict[str, Counter[str]] = defaultdict(Counter)
        for words, word_tags in zip(train_inputs, train_labels, strict=True):
            for word, tag in zip(words, word_tags, strict=True):
                tags[word.lower()][tag] += 1
        best = {word: counts.most_common(1)[0][0] for word, counts in tags.items()}
        return [[best.get(word.lower(), "O") for word in words] for words in test_inputs]
    majority = Counter(train_labels).most_common(1)[0][0]
    return [majority] * len(test_inputs)
