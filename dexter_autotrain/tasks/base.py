"""`TaskKind`: everything that differs between the tasks the toolkit trains, in one object.

Each task has a module of its own in this package holding its `TaskKind`; the rest of the
toolkit asks that object (`get_task(spec.task)`) instead of comparing task names, so a new
task (audio classification, say) is one new module here plus its name in the spec's enum.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from dexter_autotrain.tasks.metrics import LOSS, Metric

InputKind = Literal["text", "tokens", "image"]


@dataclass(frozen=True)
class ServingFormat:
    """How `dexter-auto serve` and Inference Endpoints speak for a task.

    Attributes:
        parameters: the request parameters the task accepts (`top_k`, ...).
        nested: whether a single input is answered as a list of lists (text classification,
            as huggingface_hub's InferenceClient parses it) rather than a flat list.
        binary_body: whether a request may be the raw input bytes (images).
    """

    parameters: frozenset[str]
    nested: bool = False
    binary_body: bool = False


@dataclass(frozen=True)
class TaskKind:
    """One task, as the toolkit knows it.

    Attributes:
        name: the spec's `task` value.
        input_kind: what one example's input is: a text, a sentence of tokens, an image.
        label_role: the column role of the label (`label`, or `tags` per token).
        autotrain_task: AutoTrain's task name in a rendered config.
        autotrain_columns: AutoTrain's column mapping (its keys, our prepared columns).
        source_formats: the data source formats that can hold this task's examples.
        metrics: what evaluation reports by default (and may gate and choose by);
            `primary_metric` is the default primary.
        metric_table: what each metric the task's evaluation computes is (tasks/metrics.py).
        baseline_name: the baseline fitted beside the model, for people.
        model_class: the transformers Auto class that loads a trained model.
        pipeline_tag: the Hub's pipeline tag for the card.
        label_word: what one label is called in reports (`label`, `entity type`).
        usage_examples: a sentence per language for the card's usage snippet (text inputs).
        serving: the serving request/response format.
    """

    name: str
    input_kind: InputKind
    label_role: str
    autotrain_task: str
    autotrain_columns: Mapping[str, str]
    source_formats: frozenset[str]
    metrics: tuple[str, ...]
    metric_table: Mapping[str, Metric]
    primary_metric: str
    baseline_name: str
    model_class: str
    pipeline_tag: str
    label_word: str
    serving: ServingFormat
    usage_examples: Mapping[str, str] = field(default_factory=dict)

    def metric(self, name: str) -> Metric:
        """The metric called `name`, or the validation loss for `loss`.

        Raises:
            KeyError: the task reports no such metric (a validated spec names one it does).
        """
        return LOSS if name == LOSS.name else self.metric_table[name]

    @property
    def columns(self) -> tuple[str, str]:
        """The required column roles (and prepared-data keys): input, then label."""
        return (self.input_kind, self.label_role)

    @property
    def per_token(self) -> bool:
        """Labels are per token (sequence labelling), scored as entities."""
        return self.input_kind == "tokens"

    @property
    def reads_images(self) -> bool:
        return self.input_kind == "image"

    @property
    def uses_tokenizer(self) -> bool:
        """Inputs go through a tokenizer (sequence length matters)."""
        return self.input_kind in ("text", "tokens")

    @property
    def card_template(self) -> str:
        """The task's card template, under `templates/`."""
        return f"{self.name}.md.j2"

    def auto_model(self) -> Any:
        """The transformers Auto class for this task (imported on first use)."""
        import transformers

        return getattr(transformers, self.model_class)
