"""Card metadata: the YAML front matter (license, languages, tags, datasets, base model,
pipeline tag, library, model-index) and `.eval_results/*.yaml` entries, both built with
huggingface_hub's own classes so the Hub reads them as it writes them."""

from __future__ import annotations

from typing import Any

from huggingface_hub import EvalResult, EvalResultEntry, ModelCardData

METRIC_NAMES = {
    "accuracy": "Accuracy",
    "f1_macro": "Macro F1",
    "f1_weighted": "Weighted F1",
    "precision_macro": "Macro precision",
    "recall_macro": "Macro recall",
    "precision": "Entity precision",
    "recall": "Entity recall",
    "f1": "Entity F1",
    "calibration_error": "Expected calibration error",
}


TOKEN_METRIC_NAMES = {"accuracy": "Token accuracy"}


def metric_names(task: str, metrics: Any) -> dict[str, str]:
    """Display names of `metrics`: NER accuracy counts tokens (most are `O`), so it is
    called token accuracy, apart from the entity-level precision, recall and F1."""
    names = METRIC_NAMES | (TOKEN_METRIC_NAMES if task == "token-classification" else {})
    return {metric: names.get(metric, metric) for metric in metrics}


def card_data(context: dict[str, Any]) -> ModelCardData:
    spec, evaluation = context["spec"], context["evaluation"]
    dataset_id = spec["card"]["datasets"][0] if spec["card"]["datasets"] else None
    names = metric_names(context["task"], evaluation["overall"]["metrics"])
    results = [
        EvalResult(
            task_type=context["pipeline_tag"],
            dataset_type=dataset_id or f"dexter/{context['name']}",
            dataset_name=f"{context['name']} ({evaluation['split']} split)",
            dataset_split=evaluation["split"],
            metric_type=metric,
            metric_name=names[metric],
            metric_value=round(value, 4),
        )
        for metric, value in evaluation["overall"]["metrics"].items()
    ]
    base_model = None if context["smoke"] else spec["base_model"]["id"]
    return ModelCardData(
        model_name=context["repo_id"].split("/")[-1],
        license=spec["card"]["license"],
        language=[language["code"] for language in context["languages"]] or None,
        tags=sorted({"dexter-autotrain", "autotrain", context["task"], *spec["card"]["tags"]}),
        datasets=spec["card"]["datasets"] or None,
        base_model=base_model,
        pipeline_tag=context["pipeline_tag"],
        library_name="transformers",
        eval_results=results,
    )


def eval_result_entries(context: dict[str, Any]) -> list[EvalResultEntry]:
    """Entries for `.eval_results/<job>.yaml`; they need a Hub benchmark dataset id, so a
    job without `card.datasets` gets none (its results stay in the card's model-index)."""
    datasets = context["spec"]["card"]["datasets"]
    if not datasets:
        return []
    evaluation = context["evaluation"]
    return [
        EvalResultEntry(
            dataset_id=datasets[0],
            task_id=f"{context['name']}-{metric}",
            value=round(value, 4),
            notes=f"{evaluation['split']} split, {evaluation['examples']} examples",
        )
        for metric, value in evaluation["overall"]["metrics"].items()
    ]
