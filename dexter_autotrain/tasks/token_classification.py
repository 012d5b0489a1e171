"""Token classification: a tag per token (actors: persons, organisations, locations)."""

from __future__ import annotations

from dexter_autotrain.tasks.base import ServingFormat, TaskKind
from dexter_autotrain.tasks.metrics import ENTITIES

TASK = TaskKind(
    name="token-classification",
    input_kind="tokens",
    label_role="tags",
    autotrain_task="text_token_classification",
    autotrain_columns={"tokens_column": "tokens", "tags_column": "tags"},
    source_formats=frozenset({"conll", "jsonl", "parquet", "hf-dataset"}),
    metrics=("precision", "recall", "f1", "accuracy"),
    metric_table=ENTITIES,
    primary_metric="f1",
    baseline_name="most frequent tag per word",
    model_class="AutoModelForTokenClassification",
    pipeline_tag="token-classification",
    label_word="entity type",
    serving=ServingFormat(frozenset({"aggregation_strategy", "ignore_labels"})),
    usage_examples={
        "hau": "Shugaba Bola Tinubu ya isa Kano ranar Litinin.",
        "yor": "Ààrẹ Bola Tinubu dé sí Kano lónìí.",
        "ibo": "Onye isi ala Bola Tinubu rutere Kano taa.",
        "pcm": "Bola Tinubu don land for Kano today.",
        "eng": "President Bola Tinubu arrived in Kano on Monday.",
    },
)
