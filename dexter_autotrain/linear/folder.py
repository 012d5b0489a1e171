"""A linear model's folder: its weights in a safe, non-pickle format and a `config.json`.

`config.json` holds `id2label` (as a transformers config does, so every reader of a model
folder finds the labels where it looks for them) and a `dexter_linear` section: what the
model is, which grid was tried on the validation split, what each setting scored and which
won. Text models are a scikit-learn pipeline stored with skops (`model.skops`); NER models
are a CRF in crfsuite's own format (`model.crfsuite`) with the feature code beside it
(`crf_features.py`). Neither format runs code when loaded.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from dexter_autotrain.errors import UserError
from dexter_autotrain.system.files import write_atomically

CONFIG_FILE = "config.json"
SECTION = "dexter_linear"
TEXT_MODEL = "model.skops"
CRF_MODEL = "model.crfsuite"
FEATURES_FILE = "crf_features.py"
HANDLER_FILE = "handler.py"
REQUIREMENTS_FILE = "requirements.txt"
LINEAR_WEIGHTS = (TEXT_MODEL, CRF_MODEL)
"""What the toolkit reads of a linear model besides config.json (pulled from the Hub: the
toolkit runs its own copy of the feature code, never a repository's)."""
LINEAR_FILES = (*LINEAR_WEIGHTS, FEATURES_FILE, HANDLER_FILE, REQUIREMENTS_FILE)
"""The files of a linear model folder besides config.json, all published."""

Kind = Literal["tfidf-logistic-regression", "crf"]
KIND_NAMES: dict[str, str] = {
    "tfidf-logistic-regression": "TF-IDF on word and character n-grams, logistic regression",
    "crf": "a linear-chain CRF over named token features",
}


@dataclass(frozen=True)
class Trial:
    """One setting of the grid and its validation score."""

    params: dict[str, Any]
    score: float
    seconds: float


@dataclass(frozen=True)
class LinearConfig:
    """What a linear model is and how it was chosen (config.json's `dexter_linear`).

    Attributes:
        task: the toolkit task.
        kind: the model kind (`tfidf-logistic-regression` or `crf`).
        labels: the classes or tags, in the model's own order.
        metric: the validation metric the grid was judged by.
        chosen: the winning setting.
        trials: every setting tried, in order, with its validation score.
        feature_set: the CRF's token feature set (`crf_features.FEATURE_SET`).
        versions: the libraries it was trained with (scikit-learn, skops, python-crfsuite).
    """

    task: str
    kind: Kind
    labels: list[str]
    metric: str
    chosen: dict[str, Any]
    trials: list[Trial] = field(default_factory=list)
    feature_set: str | None = None
    versions: dict[str, str] = field(default_factory=dict)

    @classmethod
    def planned(cls, task: str, per_token: bool) -> LinearConfig:
        """The model a linear job will train, before it has (a card preview)."""
        kind: Kind = "crf" if per_token else "tfidf-logistic-regression"
        return cls(task, kind, [], "f1" if per_token else "f1_macro", {})

    @property
    def weights_file(self) -> str:
        return CRF_MODEL if self.kind == "crf" else TEXT_MODEL

    @property
    def best_score(self) -> float:
        return max(trial.score for trial in self.trials) if self.trials else float("nan")

    def write(self, folder: Path) -> None:
        """Write config.json into `folder`."""
        config = {
            "id2label": dict(enumerate(self.labels)),
            "label2id": {label: index for index, label in enumerate(self.labels)},
            SECTION: asdict(self),
        }
        text = json.dumps(config, indent=2, ensure_ascii=False) + "\n"
        write_atomically(folder / CONFIG_FILE, text)


def read_linear_config(folder: Path) -> LinearConfig | None:
    """The folder's linear model description, or None when it holds another kind of model.

    Raises:
        [`UserError`]: config.json says linear but its section is malformed.
    """
    try:
        config = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    section = config.get(SECTION) if isinstance(config, dict) else None
    if section is None:
        return None
    try:
        trials = [Trial(**trial) for trial in section.pop("trials", [])]
        return LinearConfig(**section, trials=trials)
    except TypeError as error:
        raise UserError(
            f"{folder / CONFIG_FILE}: its `{SECTION}` section is malformed ({error}); "
            "train the model again"
        ) from None
