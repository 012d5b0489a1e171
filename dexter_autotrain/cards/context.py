"""Everything a card template may show, gathered from the run directory.

Only what a reviewer should see goes in: no token, no absolute local path, no machine name.
Paths outside the repository are shortened to their last parts.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path, PurePosixPath
from typing import Any

from dexter_autotrain.cards.languages import LANGUAGE_NAMES
from dexter_autotrain.cards.metadata import lower_is_better, metric_names
from dexter_autotrain.cards.provenance import eval_results_status, hub_datasets, provenance
from dexter_autotrain.cards.tags import release_tag
from dexter_autotrain.cards.usage import usage_example
from dexter_autotrain.linear import LinearConfig, read_linear_config
from dexter_autotrain.linear.folder import KIND_NAMES
from dexter_autotrain.policy.licenses import license_conflicts
from dexter_autotrain.record import GitRecord, RunState, plain
from dexter_autotrain.report_record import EvaluationReport
from dexter_autotrain.runs import Run
from dexter_autotrain.spec import JobSpec
from dexter_autotrain.tasks import get_task
from dexter_autotrain.training.render import OPTIONS_FILE_NAME

SMOKE_MODEL = "a tiny randomly initialised model built for this smoke run"


def public_path(path: str) -> str:
    """A path fit for a public card: relative paths inside the repository stay as they are;
    anything else keeps only its last three parts."""
    pure = PurePosixPath(path)
    if not pure.is_absolute() and ".." not in pure.parts:
        return path
    kept = [part for part in pure.parts if part not in ("/", "..")]
    return "/".join(kept[-3:])


LINEAR_MODEL = "none: a linear model learns from the training data alone (`model.family: linear`)"


def base_model_name(spec: JobSpec) -> str:
    if spec.base_model is None:
        return LINEAR_MODEL
    if spec.base_model.id is not None:
        return spec.base_model.id
    return f"local model `{'/'.join(PurePosixPath(spec.base_model.path or '').parts[-2:])}`"


SMALL_SLICE = 100
SMALL_SAMPLE = 30
"""Fewer cases than this and a rate says nothing: the card says so instead of stressing it."""


def caveats(report: EvaluationReport, data_report: dict[str, Any]) -> list[str]:
    """Warnings a reviewer needs, derived from the numbers rather than written by hand."""
    found = []
    if not report.gates.passed:
        found.append("**The model failed at least one gate** (see Metrics); it should not be used.")
    for column, groups in report.slices.items():
        found += [
            f"Only {record.count} test examples for {column} `{group}`: its scores "
            "are uncertain (see the intervals)."
            for group, record in groups.items()
            if record.count < SMALL_SLICE
        ]
    test = data_report["splits"].get(report.split, {}).get("by_language", {})
    every_label = set().union(*(set(part["labels"]) for part in test.values())) if test else set()
    for language, part in test.items():
        missing = sorted(every_label - set(part["labels"]))
        if missing and len(test) > 1:
            found.append(
                f"`{language}` has no {', '.join(missing)} examples in the test data, "
                "so its scores are over fewer labels and not directly comparable "
                "with other languages'."
            )
    per_class = {name: record for name, record in report.per_class.items() if record.support}
    if per_class:
        weakest = min(per_class, key=lambda name: per_class[name].f1)
        kind = get_task(report.task).label_word
        found.append(
            f"Weakest {kind}: `{weakest}` (F1 {per_class[weakest].f1:.3f}, recall "
            f"{per_class[weakest].recall:.3f})."
        )
    leaked = data_report["overlaps"].get("test_in_train", {}).get("exact", 0)
    if leaked:
        found.append(
            f"{leaked} test examples also occur in the training data, which flatters "
            "the test scores (set data.remove_leaked_from_train)."
        )
    if data_report["languages_without_test"]:
        found.append(
            "Languages without test data "
            f"({', '.join(data_report['languages_without_test'])}) are untested."
        )
    return found


def _training_params(
    spec: JobSpec, lengths: dict[str, int] | None, state: RunState
) -> dict[str, Any]:
    """The hyperparameters as trained; `max_seq_length: auto` says what it chose and why,
    and a smoke run what the spec asked instead."""
    params = spec.training.model_dump(mode="json")
    for key, override in state.smoke_overrides.items():
        name = key.removeprefix("training.")
        if name in params:
            params[name] = f"{override.used} (smoke run; the spec asks {override.asked})"
    if lengths:
        params["max_seq_length"] = (
            f"{lengths['chosen']} (auto: the 99th percentile of the training examples' token "
            f"lengths is {lengths['p99']}; {lengths['truncated']} of {lengths['examples']} "
            "are longer and were cut)"
        )
    return params


def _checkpoint_choice(run_path: Path, spec: JobSpec) -> str:
    """Which validation score chose the checkpoint kept (training-options.json; on Spaces
    AutoTrain's own trainer chooses, which knows only the loss)."""
    options, primary = run_path / OPTIONS_FILE_NAME, spec.primary_metric
    if spec.compute.backend == "autotrain-spaces":
        return "the best validation loss (AutoTrain's own trainer chooses on Spaces)"
    if not options.is_file():
        return "the best validation loss (AutoTrain's default)"
    chosen = json.loads(options.read_text()).get("best_metric")
    if chosen is None:
        return f"the best validation loss (training reports no validation {primary} every epoch)"
    return f"the best validation {chosen}"


def spec_source(git: GitRecord | None) -> str:
    """Which job spec the run read, as the card states it: a commit only when the spec (and
    every file it extends) was committed unchanged."""
    if not git or not git.commit:
        return "job spec not under git"
    commit = f"`{git.commit[:12]}`"
    status = git.spec or ("modified" if git.dirty else "committed")
    if status == "untracked":
        return f"job spec not yet committed to git, repository at commit {commit}"
    if status == "modified":
        return f"job spec with uncommitted changes, on top of commit {commit}"
    return f"job spec at commit {commit}"


def _pinned_tag(spec: JobSpec, state: RunState) -> str | None:
    """The tag the usage snippet pins: none for a smoke run (never published), nor for a
    run in review until its pull request is merged (the tag is made then)."""
    published = state.published
    not_merged = published.awaiting_merge if published else spec.hub.review == "pull-request"
    if state.smoke or not_merged:
        return None
    return release_tag(spec, state)


def _forced_past(spec: JobSpec, report: EvaluationReport) -> str:
    """What a `--force` reason published the model past: failed gates, a data licence."""
    past = ["failed gates"] if report.gates.passed is False else []
    past += ["a data licence"] if license_conflicts(spec) else []
    return " and ".join(past) or "nothing"


def _data_context(spec: JobSpec, data_report: dict[str, Any]) -> dict[str, Any]:
    """The data as the card shows it: splits, overlaps, fingerprints, licences."""
    return {
        "splits": data_report["splits"],
        "overlaps": data_report["overlaps"],
        "removed_leaked_from_train": data_report["removed_leaked_from_train"],
        "duplicates_in_train": data_report["duplicates_in_train"],
        "languages_without_test": data_report["languages_without_test"],
        "inputs": [
            {"path": public_path(i["path"]), "sha256": i["sha256"]} for i in data_report["inputs"]
        ],
        "outputs": data_report["outputs"],
        "licenses": [
            {"source": source.hub or public_path(source.path or ""), "license": source.license}
            for source in spec.data.sources
        ],
        "license_conflicts": license_conflicts(spec),
    }


def _training_context(
    spec: JobSpec, run_path: Path, state: RunState, data_report: dict[str, Any]
) -> dict[str, Any]:
    """The training as the card shows it: parameters, the checkpoint kept, where and how long."""
    training = state.training
    return {
        "params": _training_params(spec, data_report.get("token_lengths"), state),
        "checkpoint": _checkpoint_choice(run_path, spec),
        "backend": spec.compute.backend,
        "hardware": (training.hardware if training else None)
        or spec.compute.hardware
        or "hardware not recorded",
        "seconds": training.seconds if training else None,
        "epochs_run": training.epoch if training else None,
        "steps": training.steps if training else None,
        "validation": training.validation if training else {},
        "remote": plain(state.remote_job),  # hf-jobs: the job, its time and cost
        "space": plain(state.autotrain_space),  # autotrain-spaces: where everything was
    }


def _linear_context(spec: JobSpec, run: Run, state: RunState) -> dict[str, Any] | None:
    """A linear family model as the card shows it: what it is, the grid tried and the
    setting that won (from its config.json); None for an AutoTrain model."""
    if spec.model.family != "linear":
        return None
    config = read_linear_config(run.model_folder(state)) if state.model_dir else None
    if config is None:  # a preview: nothing trained yet
        config = LinearConfig.planned(spec.task, get_task(spec.task).per_token)
    return asdict(config) | {
        "name": KIND_NAMES[config.kind],
        "weights_file": config.weights_file,
        "best_score": config.best_score,
    }


def card_context(spec: JobSpec, run_path: Path) -> dict[str, Any]:
    run = Run(run_path)
    state, report = run.state(), run.evaluation()
    data_report = json.loads((run_path / "data-report.json").read_text())
    repo_id = spec.hub.repo_id or f"dexter-ng/{spec.name}"
    return {
        "spec": spec.model_dump(mode="json", exclude={"extends"}),
        "name": spec.name,
        "task": spec.task,
        "pipeline_tag": get_task(spec.task).pipeline_tag,
        "auto_class": get_task(spec.task).model_class,
        "repo_id": repo_id,
        "run_id": state.run_id,
        "hub_tag": _pinned_tag(spec, state),
        "forced_reason": state.forced.reason if state.forced else None,
        "forced_past": _forced_past(spec, report),
        "small_sample": SMALL_SAMPLE,
        "deployed": plain(state.deployed),  # where `deploy` serves it (endpoint or local)
        "smoke": state.smoke,
        "git_commit": state.git.commit if state.git else None,
        "spec_source": spec_source(state.git),
        "base_model": SMOKE_MODEL if state.smoke else base_model_name(spec),
        "base_model_revision": None
        if state.smoke or not spec.base_model
        else spec.base_model.revision,
        "linear": _linear_context(spec, run, state),
        "languages": [
            {"code": code, "name": LANGUAGE_NAMES.get(code, code)} for code in spec.languages
        ],
        "data": _data_context(spec, data_report),
        "training": _training_context(spec, run_path, state, data_report),
        "sweep": plain(state.sweep),  # how a sweep chose this model (sweeps/promote.py)
        "repeats": plain(state.repeats),  # candidates and seeds: every model, why this won
        "evaluation": report.to_json(),  # as evaluation.json holds it, for the templates
        "eval_results": eval_results_status(spec, data_report, report.split, state.smoke),
        "provenance": provenance(spec, state, report),
        "hub_datasets": hub_datasets(spec),
        "metric_names": metric_names(spec.task, report.overall.metrics),
        "lower_is_better": lower_is_better(spec.task, report.overall.metrics),
        "usage_example": usage_example(spec.task, spec.languages),
        "caveats": caveats(report, data_report),
        "card": spec.card.model_dump(mode="json"),
    }
