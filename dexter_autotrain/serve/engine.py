"""The served model: the evaluation's Predictor, answering a batch of queries in one call.

Every input of every query in a batch goes through one `Predictor.predict` call, which sorts
them by length and pads them into passes exactly as the evaluate stage does, so a served
label is the label `evaluate` reports for the same input. Precision is float32: with small
batches, bfloat16's re-scoring of close calls would cost more than it saves.
"""

from __future__ import annotations

import io
from typing import Any

from dexter_autotrain.serve.answers import Word, classes, entities, split_words
from dexter_autotrain.serve.model import ServedModel
from dexter_autotrain.serve.protocol import Query
from dexter_autotrain.tasks import get_task


class Engine:
    """Loads the model once; `answer` turns queries into Inference Endpoints answers."""

    def __init__(self, model: ServedModel, precision: str = "float32"):
        """`precision`: float32 for serving; `predict` may ask `auto` (bfloat16 where the
        hardware computes it, close calls re-scored in float32: the same labels)."""
        from dexter_autotrain.evaluation.predictors import load_predictor

        self.model = model
        self.predictor = load_predictor(
            model.path, model.task, model.max_length, precision=precision
        )

    def answer(self, queries: list[Query]) -> list[list[Any]]:
        """For each query, in order, the answer to each of its inputs."""
        texts = [text for query in queries for text in query.inputs]
        words = [split_words(text) for text in texts] if get_task(self.model.task).per_token else []
        predicted = self.predictor.predict(self._model_inputs(texts, words))
        answers, position = [], 0
        for query in queries:
            own = range(position, position + len(query.inputs))
            position += len(query.inputs)
            answers.append([self._one(query, i, texts, words, predicted) for i in own])
        return answers

    def _model_inputs(self, inputs: list[Any], words: list[list[Word]]) -> list[Any]:
        if get_task(self.model.task).reads_images:
            return [io.BytesIO(data) for data in inputs]  # PIL opens file objects as paths
        if get_task(self.model.task).per_token:
            return [[word.text for word in text] for text in words]
        return inputs

    def _one(self, query: Query, index: int, texts, words, predicted) -> list[dict[str, Any]]:
        logits = (predicted.logits or [])[index]  # predict() always gives them
        if get_task(self.model.task).per_token:
            return entities(
                words[index],
                predicted.labels[index],
                logits,
                texts[index],
                query.aggregation,
                query.ignore_labels,
            )
        return classes(logits, self.predictor.labels, query.top_k, query.function_to_apply)


def response_body(task: str, query: Query, answers: list[Any]) -> list[Any]:
    """What the Hub's API answers: the single input's answer itself, or a list of answers
    (text classification always nests them, which is what `InferenceClient` parses)."""
    return answers[0] if query.single and not get_task(task).serving.nested else answers
