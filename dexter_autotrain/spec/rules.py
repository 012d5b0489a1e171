"""Rules that tie spec fields together, checked on the raw merged data.

They run beside pydantic's field validation (not after it) so a spec with a wrong type and
a column mapping that does not fit its task gets both problems in one report. Every check
reads values defensively: a value of the wrong type is pydantic's to report, not ours.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from typing import Any

from dexter_autotrain.spec.model import COLUMNS_BY_TASK, METRICS_BY_TASK
from dexter_autotrain.spec.sweep_rules import check_sweep
from dexter_autotrain.spec.yaml_source import FieldPath
from dexter_autotrain.tasks import TASKS, get_task

SPACES_HARDWARE = (
    "cpu-basic",
    "cpu-upgrade",
    "t4-small",
    "t4-medium",
    "l4x1",
    "l4x4",
    "l40sx1",
    "l40sx4",
    "l40sx8",
    "a10g-small",
    "a10g-large",
    "a10g-largex2",
    "a10g-largex4",
    "a100-large",
)
JOBS_HARDWARE = (*SPACES_HARDWARE, "cpu-xl", "h100", "h100x8")
FORMATS_BY_TASK = {name: task.source_formats for name, task in TASKS.items()}
TAG_PLACEHOLDERS = {"name", "run_id", "date"}

RuleProblem = tuple[FieldPath, str, str]
"""(where, what is wrong, how to fix it)"""


def did_you_mean(word: str, choices: list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    close = close or [choice for choice in choices if choice.startswith(word)][:1]
    if close:
        return f"did you mean `{close[0]}`?"
    return "use one of: " + ", ".join(choices)


def check_rules(data: dict[str, Any], *, partial: bool) -> list[RuleProblem]:
    """All cross-field problems in a merged spec. `partial` specs may leave things out."""
    task = data.get("task")
    known_task = task if isinstance(task, str) and task in COLUMNS_BY_TASK else None
    problems = [
        *_base_model(data.get("base_model"), partial),
        *_family(data, known_task, partial),
        *_columns(_dict(_dict(data.get("data")).get("columns")), known_task),
        *_sources(data, known_task),
        *_labels(_dict(data.get("data")), known_task),
        *_compute(_dict(data.get("compute"))),
        *_evaluation(_dict(data.get("evaluation")), known_task),
        *_publishing(data),
        *check_sweep(data, known_task),
        *([] if partial else _license(_dict(data.get("card")))),
    ]
    reads_tokens = known_task is None or get_task(known_task).uses_tokenizer
    if not reads_tokens and "max_seq_length" in _dict(data.get("training")):
        problems.append(
            (
                ("training", "max_seq_length"),
                f"not used by {known_task}",
                "remove it; images are resized by the model's image processor",
            )
        )
    return problems


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _given(section: dict[str, Any]) -> set[str]:
    """Keys set to something: `path:` left empty (null) counts as not given."""
    return {key for key, value in section.items() if value is not None}


def _base_model(raw: Any, partial: bool) -> Iterator[RuleProblem]:
    if not isinstance(raw, dict):
        return  # absent or the wrong type: pydantic reports it
    where, given = ("base_model",), _given(raw)
    if {"id", "path"} <= given:
        yield where, "has both `id` and `path`", "keep `id` (Hub model) or `path` (local model)"
    elif not given & {"id", "path"} and not partial:
        yield where, "names no model", "add `id` (Hub model id) or `path` (local directory)"
    if "id" in given and "revision" not in given:
        yield (
            (*where, "id"),
            "a Hub model must be pinned to a commit",
            "add `revision:` with the 40-character commit sha from the model's history",
        )
    if "revision" in given and "path" in given:
        yield (*where, "revision"), "`revision` applies to Hub models only", "remove it"


def _family(data: dict[str, Any], task: str | None, partial: bool) -> Iterator[RuleProblem]:
    """The autotrain family needs a base model; the linear family needs none, trains here,
    and has models for text classification and NER only. Candidates and seeds make several
    models of one job, which a sweep does not."""
    model = _dict(data.get("model"))
    family = model.get("family", "autotrain")
    candidates = model.get("candidates") if isinstance(model.get("candidates"), list) else []
    if family in candidates:
        yield ("model", "candidates"), f"repeats the family `{family}`", "remove it"
    families = {family, *candidates}
    if "autotrain" in families and not partial and "base_model" not in _given(data):
        yield (
            ("base_model",),
            "missing: the autotrain family fine-tunes a base model",
            "add `base_model:` with `id` and `revision` (or `path`), or choose "
            "`model: {family: linear}`",
        )
    seeds = _dict(data.get("training")).get("seeds")
    if isinstance(seeds, list) and len({repr(seed) for seed in seeds}) < len(seeds):
        yield ("training", "seeds"), "names a seed twice", "give each seed once"
    repeated = len(families) > 1 or seeds is not None
    if "sweep" in _given(data) and (family == "linear" or repeated):
        why = "a linear model" if family == "linear" else "candidates or seeds"
        yield ("sweep",), f"a sweep varies one AutoTrain model, not {why}", "remove `sweep`"
    if "linear" in families:
        yield from _linear(data, task, family == "linear" and not candidates)


def _linear(data: dict[str, Any], task: str | None, alone: bool) -> Iterator[RuleProblem]:
    if task is not None and get_task(task).reads_images:
        yield ("model",), f"the linear family has no {task} model", "use the autotrain family"
    if not alone:
        return
    if "base_model" in _given(data):
        yield ("base_model",), "not used by the linear family", "remove `base_model`"
    if "seeds" in _given(_dict(data.get("training"))):
        yield (
            ("training", "seeds"),
            "the linear family fits the same model whatever the seed (it trains once)",
            "remove `training.seeds`, or add `candidates: [autotrain]` to repeat a transformer",
        )
    if _dict(data.get("compute")).get("backend", "local") != "local":
        yield (
            ("compute", "backend"),
            "the linear family trains here, in this process (seconds to minutes on a CPU)",
            "remove `compute.backend` or set it to `local`",
        )


def _columns(columns: dict[str, Any], task: str | None) -> Iterator[RuleProblem]:
    if task is None:
        return
    roles = (*COLUMNS_BY_TASK[task], "language")
    for role in columns:
        if role not in roles:
            yield (
                ("data", "columns", role),
                f"not used by {task}",
                (f"this task reads {' and '.join(COLUMNS_BY_TASK[task])}; remove `{role}`"),
            )


def _sources(data: dict[str, Any], task: str | None) -> Iterator[RuleProblem]:
    sources = _dict(data.get("data")).get("sources")
    languages = data.get("languages") if isinstance(data.get("languages"), list) else []
    for index, source in enumerate(sources if isinstance(sources, list) else []):
        if not isinstance(source, dict):
            continue
        where = ("data", "sources", index)
        if ("path" in _given(source)) == ("hub" in _given(source)):
            yield (
                where,
                "needs exactly one of `path` and `hub`",
                ("use `path` for local files, `hub` for a Hub dataset id"),
            )
        if "hub" in _given(source) and "revision" not in _given(source):
            yield (
                (*where, "hub"),
                "a Hub dataset must be pinned to a commit",
                ("add `revision:` with the dataset's 40-character commit sha"),
            )
        fmt = source.get("format")
        if task and isinstance(fmt, str) and fmt not in FORMATS_BY_TASK[task] | {None}:
            allowed = sorted(FORMATS_BY_TASK[task])
            yield (
                (*where, "format"),
                f"`{fmt}` data cannot feed {task}",
                ("use one of: " + ", ".join(allowed)),
            )
        path = source.get("path")
        if isinstance(path, str) and "{language}" in path:
            if "language" in source:
                yield (
                    (*where, "language"),
                    "conflicts with `{language}` in `path`",
                    ("remove it; `{language}` expands over the job's `languages`"),
                )
            elif not languages:
                yield (
                    (*where, "path"),
                    "uses `{language}` but the job lists no `languages`",
                    ("add `languages: [hau, yor, ...]` at the top level"),
                )
        language = source.get("language")
        if isinstance(language, str) and languages and language not in languages:
            yield (
                (*where, "language"),
                f"`{language}` is not in the job's languages",
                ("add it to `languages` or fix the code"),
            )


def _labels(data: dict[str, Any], task: str | None) -> Iterator[RuleProblem]:
    labels = data.get("labels")
    labels = (
        [label for label in labels if isinstance(label, str)] if isinstance(labels, list) else None
    )
    if labels and len(set(labels)) != len(labels):
        duplicated = sorted({label for label in labels if labels.count(label) > 1})
        yield (
            ("data", "labels"),
            f"lists {', '.join(duplicated)} more than once",
            ("list each label once"),
        )
    if labels and task is not None and get_task(task).per_token:
        for index, label in enumerate(labels):
            if label != "O" and not re.fullmatch(r"[BI]-\S+", label):
                yield (
                    ("data", "labels", index),
                    f"`{label}` is not an IOB2 tag",
                    ("use O, B-TYPE or I-TYPE"),
                )
    label_map = data.get("label_map")
    if labels and isinstance(label_map, dict):
        for source, target in label_map.items():
            if isinstance(target, str) and target not in labels:
                yield (
                    ("data", "label_map", source),
                    f"maps to `{target}`, not in `labels`",
                    (did_you_mean(target, labels)),
                )


def _compute(compute: dict[str, Any]) -> Iterator[RuleProblem]:
    backend = compute.get("backend", "local")
    backend = backend if isinstance(backend, str) else None  # a wrong type is pydantic's
    hardware = compute.get("hardware")
    if backend in ("hf-jobs", "autotrain-spaces") and "hardware" not in compute:
        yield (
            ("compute", "backend"),
            f"{backend} needs `hardware`",
            ("add e.g. `hardware: t4-small` (or cpu-upgrade for CPU)"),
        )
    if not isinstance(hardware, str):
        return
    if backend == "local":
        yield (
            ("compute", "hardware"),
            "the local backend uses this machine",
            ("remove `hardware`, or choose backend hf-jobs or autotrain-spaces"),
        )
    choices = {"hf-jobs": JOBS_HARDWARE, "autotrain-spaces": SPACES_HARDWARE}.get(backend)
    if choices and hardware not in choices:
        yield (
            ("compute", "hardware"),
            f"`{hardware}` is not {backend} hardware",
            (did_you_mean(hardware, choices)),
        )


def _evaluation(evaluation: dict[str, Any], task: str | None) -> Iterator[RuleProblem]:
    if task is None:
        return
    available = METRICS_BY_TASK[task]
    metrics = evaluation.get("metrics")
    chosen = metrics if isinstance(metrics, list) else list(available)

    def check(where: FieldPath, metric: Any) -> Iterator[RuleProblem]:
        if not isinstance(metric, str):
            return
        if metric not in available:
            yield where, f"`{metric}` is not a {task} metric", did_you_mean(metric, available)
        elif metric not in chosen:
            yield where, f"`{metric}` is not in `evaluation.metrics`", "add it there"

    for index, metric in enumerate(metrics if isinstance(metrics, list) else []):
        yield from check(("evaluation", "metrics", index), metric)
    yield from check(("evaluation", "primary_metric"), evaluation.get("primary_metric"))
    fairness = _dict(evaluation.get("fairness"))
    yield from check(("evaluation", "fairness", "metric"), fairness.get("metric"))
    gates = _dict(evaluation.get("gates"))
    for section in ("overall", "per_slice"):
        for metric in _dict(gates.get(section)):
            yield from check(("evaluation", "gates", section, metric), metric)
    if fairness and "max_gap" not in fairness and "min_ratio" not in fairness:
        yield ("evaluation", "fairness"), "sets no limit", "add `max_gap` or `min_ratio`"
    if gates.get("min_lift_over_baseline") is not None and evaluation.get("baseline") is False:
        yield (
            ("evaluation", "gates", "min_lift_over_baseline"),
            "needs a baseline, and `evaluation.baseline` is false",
            "set `evaluation.baseline: true` or remove this gate",
        )


def _license(card: dict[str, Any]) -> Iterator[RuleProblem]:
    """`license: other` is only meaningful with the license's name and link (the Hub shows
    them); they mean nothing beside a standard license id."""
    fields = ("license_name", "license_link")
    if card.get("license") == "other":
        missing = [f"`card.{key}`" for key in fields if not card.get(key)]
        if missing:
            yield (
                ("card", "license"),
                f"`other` needs {' and '.join(missing)}",
                "add `license_name: <short id>` and `license_link: <URL, or LICENSE.md in "
                "the model repo>`, or use a standard license id",
            )
        return
    for key in fields:
        if key in card and card[key] is not None:
            yield (
                ("card", key),
                "only used with `license: other`",
                "remove it, or set `license: other`",
            )


def _publishing(data: dict[str, Any]) -> Iterator[RuleProblem]:
    hub = _dict(data.get("hub"))
    deploy = _dict(data.get("deploy"))
    tag = hub.get("tag")
    if isinstance(tag, str):
        for placeholder in re.findall(r"\{([^}]*)\}", tag):
            if placeholder not in TAG_PLACEHOLDERS:
                yield (
                    ("hub", "tag"),
                    f"unknown placeholder {{{placeholder}}}",
                    ("use {name}, {run_id} or {date}"),
                )
    endpoint = deploy.get("target") == "endpoint"
    if deploy.get("enabled") is True and endpoint and "repo_id" not in hub:
        yield (
            ("deploy", "enabled"),
            "an endpoint serves a published model",
            "set `hub.repo_id`, or deploy.target: local",
        )
    gates = _dict(_dict(data.get("evaluation")).get("gates"))
    if gates.get("min_lift_over_published") is not None and "repo_id" not in hub:
        yield (
            ("evaluation", "gates", "min_lift_over_published"),
            "compares with the model published at `hub.repo_id`, which is not set",
            "set `hub.repo_id` or remove this gate",
        )
    low, high = deploy.get("min_replicas"), deploy.get("max_replicas", 1)
    if isinstance(low, int) and isinstance(high, int) and low > high:
        yield (
            ("deploy", "min_replicas"),
            f"{low} is more than max_replicas ({high})",
            ("lower min_replicas or raise max_replicas"),
        )
