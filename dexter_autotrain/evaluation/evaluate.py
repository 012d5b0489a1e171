"""The evaluate stage: score a trained model on held-out data and decide whether it may ship.

Everything is computed offline in the toolkit's environment and written to the run
directory (or an `evaluations/<name>/` folder for other data): evaluation.json (versioned),
evaluation.md and PNG plots.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dexter_autotrain.errors import UserError
from dexter_autotrain.evaluation import plots
from dexter_autotrain.evaluation.baseline import (
    MAJORITY_NAME,
    Baseline,
    baseline_name,
    majority_baseline,
    run_baseline,
)
from dexter_autotrain.evaluation.counterfactual import TERMS_FIELD, flip_report, load_terms, swaps
from dexter_autotrain.evaluation.examples import Labeled, load_prepared, read_labeled
from dexter_autotrain.evaluation.gates import check_gates
from dexter_autotrain.evaluation.metrics import (
    calibration_curve,
    classification_metrics,
    entity_metrics,
)
from dexter_autotrain.evaluation.predict import Predictions
from dexter_autotrain.evaluation.predictors import Predicts, load_predictor
from dexter_autotrain.evaluation.report import evaluation_markdown
from dexter_autotrain.evaluation.scoring import score
from dexter_autotrain.evaluation.speed import measure_speed
from dexter_autotrain.evaluation.versus_published import (
    COMPARE_FOLDER,
    PublishedModel,
    compare,
    find_published,
)
from dexter_autotrain.hub.pull import HubModelRef, published_commit, pull_model
from dexter_autotrain.hub.retry import Report
from dexter_autotrain.policy.spec_paths import confine, is_safe_name, printable
from dexter_autotrain.record import RunState
from dexter_autotrain.report_record import (
    REPORT_FILE,
    REPORT_VERSION,
    BaselineScores,
    Calibration,
    Counterfactual,
    EvaluatedModel,
    EvaluationReport,
    Gates,
    Metrics,
    Misclassified,
    Precision,
)
from dexter_autotrain.runs import Run
from dexter_autotrain.spec import JobSpec
from dexter_autotrain.system.files import write_atomically
from dexter_autotrain.system.versions import EVALUATION_PACKAGES, installed_versions
from dexter_autotrain.tasks import get_task

EXTERNAL = "external data"


@dataclass(frozen=True)
class Subject:
    """What a report is of: its job, the run (or published model, `model`) and the split."""

    job: str
    run_id: str
    split: str
    model: EvaluatedModel | None = None

    def keys(self) -> dict[str, str | EvaluatedModel]:
        """The report's keys for it (a run's own report has no `model`)."""
        named = {"job": self.job, "run_id": self.run_id, "split": self.split}
        return named | ({"model": self.model} if self.model else {})


def _precision(predictor: Predicts, predicted: Predictions) -> Precision:
    rescored = predicted.rescoring.examples
    return Precision(
        mode=predictor.precision,
        rescored=rescored,
        gap=predicted.rescoring.gap if rescored else None,
        drift=predicted.rescoring.drift if rescored else None,
    )


def _calibration(data: Labeled, predicted: Predictions, exact: dict) -> Calibration | None:
    if predicted.confidence is None:
        return None
    correct = np.asarray(data.labels, dtype=object) == np.asarray(predicted.labels, dtype=object)
    return Calibration.model_validate(
        {
            "error": exact["calibration_error"],
            "curve": calibration_curve(predicted.confidence, correct),
        }
    )


def _write_predictions(out_dir: Path, data: Labeled, guesses: list[Any]) -> None:
    rows = zip(data.labels, guesses, data.languages, strict=True)
    write_atomically(
        out_dir / "predictions.jsonl",
        "".join(
            json.dumps({"label": label, "prediction": guess, "language": language},
                       ensure_ascii=False) + "\n"
            for label, guess, language in rows
        ),
    )  # fmt: skip


def evaluate_model(
    spec: JobSpec,
    model_dir: Path,
    data: Labeled,
    references: References,
    out_dir: Path,
    subject: Subject,
    published: PublishedModel | None = None,
) -> EvaluationReport:
    """Score, compare, probe, time and gate; write the report files into `out_dir`.
    `references`: the probe's terms and the baselines; `published` is the model to compare
    with for `min_lift_over_published`."""
    if not data.inputs:
        raise UserError("nothing to evaluate: the chosen data has no examples")
    task, primary = spec.task, spec.primary_metric
    predictor = load_predictor(
        model_dir, task, spec.training.max_seq_length, precision=spec.evaluation.precision
    )
    predicted, counterfactual = _predict_and_probe(spec, predictor, data, references.terms)
    # sorted, as scikit-learn orders them, so bootstrap statistics reproduce its numbers
    labels = sorted({*predictor.labels, *(v for v in data.labels if isinstance(v, str))})
    scores = score(spec, data, predicted, labels)
    exact = scores.scorer.exact(np.arange(len(data.inputs)))
    baseline, majority = (
        _baseline(spec, model, name, data, labels, scores.overall.metrics) if model else None
        for model, name in (
            (references.baseline, baseline_name(spec.task, spec.model.family)),
            (references.majority, MAJORITY_NAME),
        )
    )
    speed = measure_speed(predictor, data.inputs)
    versus = compare(spec, data, scores, published) if published else None
    lift = baseline.lift if baseline else None
    gates = check_gates(spec, scores.overall.metrics, scores.slices, scores.fairness, lift, versus)
    report = EvaluationReport(
        version=REPORT_VERSION,
        **subject.keys(),
        task=task,
        examples=len(data.inputs),
        precision=_precision(predictor, predicted),
        primary_metric=primary,
        labels=labels,
        overall=scores.overall,
        per_class=exact.get("per_class", {}),
        confusion_matrix=exact.get("confusion_matrix"),
        calibration=_calibration(data, predicted, exact),
        slices=scores.slices,
        fairness=scores.fairness,
        fairness_group=spec.evaluation.fairness.group_by if spec.evaluation.fairness else None,
        baseline=baseline,
        majority=majority,
        published=versus,
        counterfactual=counterfactual,
        speed=speed,
        gates=Gates(passed=all(g.passed for g in gates), rows=gates),
        notes=scores.notes,
        plots=[],
        frameworks=installed_versions(EVALUATION_PACKAGES),
        misclassified=_misclassified(task, data, predicted, out_dir / "plots"),
    )
    _write(report, out_dir, baseline.metrics.get(primary) if baseline else None, spec.languages)
    _write_predictions(out_dir, data, predicted.labels)
    return report


def _predict_and_probe(
    spec: JobSpec, predictor: Predicts, data: Labeled, terms: dict[str, list[str]] | None
) -> tuple[Predictions, Counterfactual | None]:
    """The model's predictions, and the identity-term probe (text tasks that ask for it, with
    `terms` or the built-in ones), from one pass over the examples and their swaps."""
    probing = get_task(spec.task).input_kind == "text" and spec.evaluation.counterfactual
    variants = swaps(data.inputs, terms or load_terms(None)) if probing else []
    everything = predictor.predict(data.inputs + [v.text for v in variants])
    predicted = everything.head(len(data.inputs))
    if not probing:
        return predicted, None
    variant_labels = everything.labels[len(data.inputs) :]
    return predicted, flip_report(variants, predicted.labels, variant_labels)


def _baseline(
    spec: JobSpec,
    model: Baseline,
    name: str,
    data: Labeled,
    labels: list[str],
    reported: Metrics,
) -> BaselineScores:
    """The baseline's scores on the same examples, in the metrics reported for the model,
    and the model's lift over it (positive: the model is better; None: the baseline cannot
    score the primary metric, as a baseline without confidences cannot be calibrated)."""
    kind, primary = get_task(spec.task), spec.primary_metric
    guesses = model.predict(data.inputs)
    if kind.per_token:
        metrics = entity_metrics(data.labels, guesses)
    else:
        wanted = any(kind.metric(name).needs_confidence for name in reported)
        confidence = _baseline_confidence(model, data.inputs) if wanted else None
        metrics = classification_metrics(data.labels, guesses, labels, confidence)
    value, ours = metrics.get(primary), reported[primary]
    return BaselineScores(
        name=name,
        metrics={k: metrics[k] for k in reported if isinstance(metrics.get(k), float)},
        lift=kind.metric(primary).lift(ours, value)
        if isinstance(value, float) and ours is not None
        else None,
    )


def _baseline_confidence(model: Baseline, inputs: list[Any]) -> np.ndarray | None:
    """The probability of the label the baseline chose, where it gives probabilities."""
    probabilities = getattr(model, "predict_proba", None)
    return None if probabilities is None else np.asarray(probabilities(inputs)).max(axis=1)


def _write(
    report: EvaluationReport,
    out_dir: Path,
    baseline_primary: float | None,
    languages: list[str],
) -> None:
    """Draw the plots (listed in `report.plots`), then write evaluation.json and .md;
    `languages`: the job's, each kept on the per-language plot even with no examples."""
    plot_dir = out_dir / "plots"
    plot_dir.mkdir(parents=True, exist_ok=True)
    primary, what = report.primary_metric, scored(report.split)
    if report.confusion_matrix is not None:
        plots.confusion_matrix_plot(
            report.confusion_matrix,
            report.labels,
            f"Confusion matrix ({what})",
            plot_dir / "confusion_matrix.png",
        )
        report.plots.append("confusion_matrix.png")
    if "language" in report.slices:
        plots.group_scores_plot(
            report.slices["language"],
            primary,
            {"all": report.primary_value(), "baseline": baseline_primary},
            languages,
            f"{primary} by language, {what} (95% CI)",
            plot_dir / "per_language.png",
        )
        report.plots.append("per_language.png")
    if report.calibration is not None:
        plots.calibration_plot(
            report.calibration.curve, report.calibration.error, plot_dir / "calibration.png"
        )
        report.plots.append("calibration.png")
    write_report(report, out_dir)


def write_report(report: EvaluationReport, out_dir: Path) -> None:
    """Write evaluation.json and evaluation.md (a report whose gates were judged again: a
    job's winner, on its family's mean over seeds)."""
    write_atomically(
        out_dir / REPORT_FILE, json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n"
    )
    write_atomically(out_dir / "evaluation.md", evaluation_markdown(report))


@dataclass(frozen=True)
class _Chosen:
    """The examples an evaluation scores, how reports name them, and the report's folder
    under `evaluations/` (None: the run's own report, beside its card)."""

    examples: Labeled
    split: str
    folder: str | None


def _choose(
    run_path: Path, spec: JobSpec, split: str | None, data: Path | None, language: str | None
) -> _Chosen:
    """The examples to score: other data, another split, or the spec's evaluation split."""
    if data is not None:
        name = _data_folder(data)
        return _Chosen(read_labeled(data, spec, language), f"{EXTERNAL} {data.name}", name)
    chosen = split or spec.evaluation.split
    if not is_safe_name(chosen):
        raise UserError(f"--split {printable(chosen)}: not a split name (train, validation, test)")
    examples = load_prepared(run_path / "data", chosen, spec.task)
    return _Chosen(examples, chosen, None if split is None else f"split-{chosen}")


@dataclass(frozen=True)
class References:
    """What a model is measured against: the probe's identity terms (`load_terms`; None: the
    built-in ones), the run's baseline and, for a linear text classifier, the majority class."""

    terms: dict[str, list[str]] | None = None
    baseline: Baseline | None = None
    majority: Baseline | None = None


def _references(run_path: Path, spec: JobSpec) -> References:
    """The run's references; the terms are read first: a bad terms file is reported before
    any model is loaded."""
    spec_dir = Run(run_path).spec_folder()
    terms = load_terms(_identity_terms(spec, spec_dir))
    if not spec.evaluation.baseline:
        return References(terms)
    family = spec.model.family
    return References(
        terms,
        run_baseline(run_path, spec.task, spec.data.split.seed, family),
        majority_baseline(run_path, spec.task, family),
    )


def evaluate_run(
    run_path: Path,
    spec: JobSpec,
    model_dir: Path,
    split: str | None = None,
    data: Path | None = None,
    language: str | None = None,
    report: Report = lambda line: None,
) -> EvaluationReport:
    """Evaluate a trained run on its evaluation split (the report behind the card, in the
    run directory), on another split given with --split (`evaluations/split-<S>/`), or on
    other data (`evaluations/<stem>-<path hash>/`); only the first replaces the card's report.
    `report` receives progress lines (the download of the published model to compare with)."""
    references = _references(run_path, spec)
    chosen = _choose(run_path, spec, split, data, language)
    out_dir = run_path / "evaluations" / chosen.folder if chosen.folder else run_path
    subject = Subject(spec.name, run_path.name, chosen.split)
    published = _published(run_path, spec, Run(run_path).state(), report)
    return evaluate_model(spec, model_dir, chosen.examples, references, out_dir, subject, published)


def evaluate_published(
    run_path: Path,
    spec: JobSpec,
    ref: HubModelRef,
    split: str | None = None,
    data: Path | None = None,
    language: str | None = None,
    report: Report = lambda line: None,
) -> EvaluationReport:
    """Evaluate a published model (`hub:ORG/NAME@REV`, pinned to the commit REV names) on a
    run's data, scored exactly as the run's own model is. The model is downloaded to the
    run's `compare/` folder; the report goes to `evaluations/hub-<name>-<commit>[-<split>]/`.

    Raises:
        [`UserError`]: the repo or revision does not exist.
        [`HubAccessError`] / [`HubUnavailable`]: see `hub.pull`.

    Example:
        ```python
        >>> ref = HubModelRef.parse("hub:dexter-ng/narrative@main")
        >>> evaluate_published(run.path, run.spec(), ref).model.commit[:7]
        '3f2a9c1'
        ```
    """
    references = _references(run_path, spec)
    chosen = _choose(run_path, spec, split, data, language)
    commit = published_commit(ref, report)
    if commit is None:
        raise UserError(f"{ref}: no such model or revision on the Hub")
    pulled = pull_model(ref, commit, run_path / COMPARE_FOLDER, report)
    folder = f"hub-{pulled.path.name}" + (f"-{chosen.folder}" if chosen.folder else "")
    model = EvaluatedModel(repo_id=ref.repo_id, revision=ref.revision, commit=commit)
    subject = Subject(spec.name, str(ref), chosen.split, model)
    out_dir = run_path / "evaluations" / folder
    return evaluate_model(spec, pulled.path, chosen.examples, references, out_dir, subject)


def _published(
    run_path: Path, spec: JobSpec, state: RunState, report: Report
) -> PublishedModel | None:
    """The model to compare with when the spec gates on the published one (never for a
    smoke run, which is never published)."""
    if spec.evaluation.gates.min_lift_over_published is None or state.smoke:
        return None
    own = state.published.commit if state.published else None
    return find_published(spec, run_path, own, report)


def _identity_terms(spec: JobSpec, spec_dir: Path) -> Path | None:
    """The job's identity-terms file, confined to its repository (policy.spec_paths)."""
    named = spec.evaluation.identity_terms
    return None if named is None else confine(spec_dir / named, spec_dir, TERMS_FIELD)


def _data_folder(data: Path) -> str:
    """`evaluations/<stem>-<8 hex of the resolved path>`: two files with the same name in
    different folders get different reports; the same file re-evaluated replaces its own."""
    stem = data.stem if is_safe_name(data.stem) else "data"
    key = hashlib.sha256(str(data.resolve()).encode("utf-8", "surrogateescape")).hexdigest()
    return f"{stem}-{key[:8]}"


def scored(split: str) -> str:
    """What a report scored, for titles: `test split`, or `external data new.tsv`."""
    return split if split.startswith(EXTERNAL) else f"{split} split"


def _misclassified(
    task: str, data: Labeled, predicted: Predictions, plot_dir: Path
) -> Misclassified | None:
    """Images only: the most confident mistakes, drawn as a contact sheet in `plot_dir`."""
    if not get_task(task).reads_images:
        return None
    from dexter_autotrain.evaluation.misclassified import misclassified_report

    return misclassified_report(
        data.inputs, data.labels, predicted.labels, predicted.confidence, plot_dir
    )
