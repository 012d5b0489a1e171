"""Card metadata: the YAML front matter (license, languages, tags, datasets, base model,
pipeline tag, library, model-index) and `.eval_results/*.yaml` entries, both built with
huggingface_hub's own classes so the Hub reads them as it writes them.

Metric types in the model-index are the Hub's standard metric ids (`accuracy`, `f1`,
`precision`, `recall`) with the averaging in `args`, so `f1_macro` is `f1` with
`{average: macro}`; the pretty `name` says what was measured (NER accuracy counts tokens).
"""

from __future__ import annotations

from typing import Any

from huggingface_hub import EvalResult, EvalResultEntry, ModelCardData

from dexter_autotrain.report_record import EvaluationReport
from dexter_autotrain.tasks import HubMetric, get_task


def hub_metric(task: str, metric: str) -> HubMetric:
    """The model-index form of `metric` (an unknown one keeps its own name)."""
    known = get_task(task).metric_table.get(metric)
    return known.hub if known else HubMetric(metric, metric)


def metric_names(task: str, metrics: Any) -> dict[str, str]:
    """Display names of `metrics`: NER accuracy counts tokens (most are `O`), so it is
    called token accuracy, apart from the entity-level precision, recall and F1."""
    return {metric: hub_metric(task, metric).name for metric in metrics}


def lower_is_better(task: str, metrics: Any) -> list[str]:
    """Those of `metrics` that are better lower (errors), which the card marks as such."""
    table = get_task(task).metric_table
    return [metric for metric in metrics if metric in table and not table[metric].higher_is_better]


def _report(context: dict[str, Any]) -> EvaluationReport:
    """The evaluation report the card context holds (as evaluation.json does)."""
    return EvaluationReport.model_validate(context["evaluation"])


def _family_tag(context: dict[str, Any]) -> str:
    linear = context.get("linear")
    return "autotrain" if not linear else "crf" if linear["kind"] == "crf" else "sklearn"


def _library(context: dict[str, Any]) -> str | None:
    """The Hub's library: transformers, scikit-learn for a linear text model, none it knows
    for a CRF."""
    linear = context.get("linear")
    return "transformers" if not linear else None if linear["kind"] == "crf" else "sklearn"


def card_data(context: dict[str, Any]) -> ModelCardData:
    """The card's front matter; no model-index where the data is no Hub dataset."""
    spec, datasets = context["spec"], context["hub_datasets"]
    base_model = None if context["smoke"] else (spec["base_model"] or {}).get("id")
    results = _model_index(context, datasets["model_index"])
    return ModelCardData(
        model_name=context["repo_id"].split("/")[-1] if results else None,
        license=spec["card"]["license"],
        license_name=spec["card"]["license_name"],
        license_link=spec["card"]["license_link"],
        language=[language["code"] for language in context["languages"]] or None,
        tags=sorted(
            {"dexter-autotrain", _family_tag(context), context["task"], *spec["card"]["tags"]}
        ),
        datasets=datasets["ids"] or None,
        base_model=base_model,
        pipeline_tag=context["pipeline_tag"],
        library_name=_library(context),
        eval_results=results or None,
    )


def _model_index(
    context: dict[str, Any], dataset: dict[str, Any] | None
) -> list[EvalResult] | None:
    """The overall metrics as model-index results on `dataset` (None: no Hub dataset)."""
    if dataset is None:
        return None
    report = _report(context)
    return [
        EvalResult(
            task_type=context["pipeline_tag"],
            dataset_type=dataset["id"],
            dataset_name=f"{context['name']} ({report.split} split, {report.examples} examples)",
            dataset_split=report.split,
            dataset_revision=dataset["revision"],
            metric_type=metric.type,
            metric_name=metric.name,
            metric_args=dict(metric.args) or None,
            metric_value=round(value, 4),
        )
        for _, metric, value in _metrics(context["task"], report)
    ]


def _metrics(task: str, report: EvaluationReport) -> list[tuple[str, HubMetric, float]]:
    """The overall metrics that have a value: name, model-index form, value."""
    return [
        (name, hub_metric(task, name), value)
        for name, value in report.overall.metrics.items()
        if value is not None
    ]


def eval_result_entries(context: dict[str, Any]) -> list[EvalResultEntry]:
    """Entries for `.eval_results/<job>.yaml`: only when the test set is the benchmark
    dataset's own unmodified split (see `eval_results_status`); else none, and the card
    says why."""
    status = context["eval_results"]
    if status["reason"] is not None:
        return []
    report = _report(context)
    return [
        EvalResultEntry(
            dataset_id=status["dataset_id"],
            task_id=f"{context['name']}-{name}",
            value=round(value, 4),
            notes=f"{metric.name}, {report.split} split, {report.examples} examples",
        )
        for name, metric, value in _metrics(context["task"], report)
    ]
