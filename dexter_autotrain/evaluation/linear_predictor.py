"""The linear family's models behind the Predictor's interface, so evaluation, `serve`,
`predict` and deploy checks read a linear model exactly as they read a transformer."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from dexter_autotrain.errors import UserError
from dexter_autotrain.evaluation.predict import Predictions
from dexter_autotrain.linear import LinearConfig
from dexter_autotrain.linear.crf import tag
from dexter_autotrain.linear.crf_features import FEATURE_SET
from dexter_autotrain.linear.folder import CRF_MODEL, TEXT_MODEL
from dexter_autotrain.linear.text import load_text


class LinearPredictor:
    """A linear model loaded for inference (float64, scikit-learn or crfsuite)."""

    dtype = "float64"
    precision = "float64 (linear model)"

    def __init__(self, model_dir: Path, config: LinearConfig):
        self.config = config
        self.task = config.task
        self.id2label = dict(enumerate(config.labels))
        if config.kind == "crf":
            if config.feature_set != FEATURE_SET:
                raise UserError(
                    f"{model_dir}: a CRF trained on the token features `{config.feature_set}`; "
                    f"this toolkit computes `{FEATURE_SET}`. Use the toolkit version that "
                    "trained it, or the model's own handler.py"
                )
            self.crf_path = model_dir / CRF_MODEL
        else:
            self.pipeline = load_text(model_dir / TEXT_MODEL)

    @property
    def labels(self) -> list[str]:
        return list(self.config.labels)

    def predict(
        self, inputs: list[Any], batch_size: int | None = None, rescore: bool = True
    ) -> Predictions:
        """Labels and probabilities (text), or tags and per-word log-marginals (NER, as the
        logits a server scores from); `batch_size` and `rescore` mean nothing here."""
        del batch_size, rescore
        if self.config.kind == "crf":
            tags, rows = tag(self.crf_path, inputs)
            return Predictions(tags, None, logits=rows)
        if not inputs:
            return Predictions([], np.zeros((0, len(self.labels)), np.float32), logits=[])
        probabilities = self.pipeline.predict_proba(inputs)
        labels = [self.labels[int(i)] for i in probabilities.argmax(axis=1)]
        logits = np.log(np.clip(probabilities, 1e-12, 1.0))
        return Predictions(labels, probabilities, logits=list(logits))

    def time_batches(self, batches: list[list[Any]]) -> list[float]:
        """Seconds for each batch."""
        latencies = []
        for batch in batches:
            began = time.perf_counter()
            self.predict(batch)
            latencies.append(time.perf_counter() - began)
        return latencies
