"""Image classification: one label per image (memes, photos, screenshots)."""

from __future__ import annotations

from dexter_autotrain.tasks.base import ServingFormat, TaskKind
from dexter_autotrain.tasks.metrics import CLASSIFICATION

TASK = TaskKind(
    name="image-classification",
    input_kind="image",
    label_role="label",
    autotrain_task="image_multi_class_classification",
    autotrain_columns={"image_column": "image", "target_column": "label"},
    source_formats=frozenset({"imagefolder", "image-csv"}),
    metrics=("accuracy", "f1_macro", "f1_weighted"),
    metric_table=CLASSIFICATION,
    primary_metric="f1_macro",
    baseline_name="logistic regression on 8x8 thumbnails + colour histograms",
    model_class="AutoModelForImageClassification",
    pipeline_tag="image-classification",
    label_word="label",
    serving=ServingFormat(frozenset({"top_k", "function_to_apply"}), binary_body=True),
)
