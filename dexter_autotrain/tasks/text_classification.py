"""Text classification: one label per text (narratives, sentiment, topics)."""

from __future__ import annotations

from dexter_autotrain.tasks.base import ServingFormat, TaskKind
from dexter_autotrain.tasks.metrics import CLASSIFICATION

TASK = TaskKind(
    name="text-classification",
    input_kind="text",
    label_role="label",
    autotrain_task="text_multi_class_classification",
    autotrain_columns={"text_column": "text", "target_column": "label"},
    source_formats=frozenset({"csv", "tsv", "jsonl", "parquet", "hf-dataset"}),
    metrics=tuple(CLASSIFICATION),
    metric_table=CLASSIFICATION,
    primary_metric="f1_macro",
    baseline_name="TF-IDF + logistic regression",
    model_class="AutoModelForSequenceClassification",
    pipeline_tag="text-classification",
    label_word="label",
    serving=ServingFormat(frozenset({"top_k", "function_to_apply"}), nested=True),
    usage_examples={
        "hau": "Ina son wannan waƙa sosai.",
        "yor": "Mo fẹ́ràn orin yìí gan-an.",
        "ibo": "Abụ a na-atọ m ụtọ nke ukwuu.",
        "pcm": "Wetin dey happen for Lagos today?",
        "eng": "The new road to Kano has made my journey much easier.",
    },
)
