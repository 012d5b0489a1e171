"""Evaluation: metrics equal to scikit-learn/seqeval, reports from a real run, gates."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import REPO, SHARED_DATA
from inprocess import Outcome, invoke
from seqeval.metrics import f1_score as seqeval_f1
from seqeval.metrics import precision_score as seqeval_precision
from seqeval.metrics import recall_score as seqeval_recall
from seqeval.scheme import IOB2
from sklearn import metrics as sk

from dexter_autotrain.evaluation.baseline import fit_baseline
from dexter_autotrain.evaluation.counterfactual import flip_report, load_terms, swaps
from dexter_autotrain.evaluation.metrics import (
    classification_metrics,
    confusion_scores,
    entity_counts,
    entity_metrics,
    entity_scores,
    expected_calibration_error,
)
from dexter_autotrain.report_record import EvaluationReport
from dexter_autotrain.spec.model import Gates

IN_PROCESS = True  # `dexter-auto` runs in this process (tests/inprocess.py): the tests read exit
# codes, output and files; Hub settings are applied to the imported client for each call.

needs_shared = pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="../shared/data is absent")
LABELS = ["negative", "neutral", "positive"]
FIXTURE_RUN = REPO / "tests" / "fixtures" / "cards" / "text-classification"


def _sklearn_scores(truth, guess) -> dict[str, float]:
    """scikit-learn's defaults: averages over the labels present in truth or predictions."""
    return {
        "accuracy": sk.accuracy_score(truth, guess),
        "f1_macro": sk.f1_score(truth, guess, average="macro", zero_division=0),
        "f1_weighted": sk.f1_score(truth, guess, average="weighted", zero_division=0),
        "precision_macro": sk.precision_score(truth, guess, average="macro", zero_division=0),
        "recall_macro": sk.recall_score(truth, guess, average="macro", zero_division=0),
    }


@pytest.mark.parametrize("seed", range(5))
def test_bootstrap_statistics_equal_sklearn(seed):
    rng = np.random.default_rng(seed)
    labels = [*LABELS, "unused"]  # a label the model knows but this data never shows
    truth = list(rng.choice(LABELS, 500, p=[0.6, 0.1, 0.3]))
    guess = list(rng.choice(LABELS[:2], 500))  # one class is never predicted
    matrix = sk.confusion_matrix(truth, guess, labels=labels)
    expected = _sklearn_scores(truth, guess)
    stacked = confusion_scores(np.stack([matrix, matrix.T]))
    assert {key: float(values[0]) for key, values in stacked.items()} == expected
    assert {key: float(values[1]) for key, values in stacked.items()} == _sklearn_scores(
        guess, truth
    )
    reported = classification_metrics(truth, guess, labels)
    assert {k: reported[k] for k in expected} == expected
    assert reported["confusion_matrix"] == matrix.tolist()
    assert reported["per_class"]["unused"]["support"] == 0


def test_calibration_error_matches_a_direct_computation():
    rng = np.random.default_rng(0)
    confidence = rng.uniform(0.34, 1.0, 1000)
    correct = rng.uniform(0, 1, 1000) < confidence
    expected = 0.0
    for low, high in zip(np.linspace(0, 1, 16)[:-1], np.linspace(0, 1, 16)[1:], strict=True):
        members = (confidence > low) & (confidence <= high)
        if members.any():
            expected += members.mean() * abs(correct[members].mean() - confidence[members].mean())
    assert expected_calibration_error(confidence, correct) == pytest.approx(expected, abs=1e-12)


def _conll(path: Path) -> list[tuple[list[str], list[str]]]:
    sentences, words, tags = [], [], []
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            if words:
                sentences.append((words, tags))
            words, tags = [], []
            continue
        word, tag = line.split()
        words.append(word)
        tags.append(tag)
    return sentences


@needs_shared
def test_entity_scores_equal_seqeval_strict_on_masakhaner():
    train = _conll(SHARED_DATA / "ner/hau/train.txt")
    dev = _conll(SHARED_DATA / "ner/hau/dev.txt")
    truth = [tags for _, tags in dev]
    baseline = fit_baseline("token-classification", [w for w, _ in train], [t for _, t in train], 0)
    guess = baseline.predict([w for w, _ in dev])
    options = {"mode": "strict", "scheme": IOB2, "zero_division": 0}
    reference = {
        "precision": seqeval_precision(truth, guess, **options),
        "recall": seqeval_recall(truth, guess, **options),
        "f1": seqeval_f1(truth, guess, **options),
    }
    assert 0.2 < reference["f1"] < 0.9  # a real, imperfect baseline
    counted = entity_scores(entity_counts(truth, guess).sum(axis=0)[None])
    assert {k: float(counted[k][0]) for k in reference} == reference
    reported = entity_metrics(truth, guess)
    assert {k: reported[k] for k in reference} == reference
    assert set(reported["per_class"]) == {"PER", "ORG", "LOC", "DATE"}


@pytest.fixture(scope="module")
def evaluated_run(trained, tmp_path_factory):
    """A smoke run on real AfriSenti data (hau, pcm), through training and evaluation (a
    copy of the suite's `sentiment` run: a bootstrap of 200, lenient gates)."""
    return trained.copy("sentiment", tmp_path_factory.mktemp("evaluated"))


@needs_shared
def test_reported_metrics_equal_sklearn_on_the_predictions(evaluated_run):
    report = json.loads((evaluated_run / "evaluation.json").read_text())
    rows = [json.loads(line) for line in (evaluated_run / "predictions.jsonl").open()]
    truth, guess = [r["label"] for r in rows], [r["prediction"] for r in rows]
    assert report["examples"] == len(rows) == 200
    expected = _sklearn_scores(truth, guess)
    assert {k: report["overall"]["metrics"][k] for k in expected} == expected
    for language, record in report["slices"]["language"].items():
        mine = [
            (t, g) for t, g, r in zip(truth, guess, rows, strict=True) if r["language"] == language
        ]
        assert record["count"] == len(mine)
        assert record["metrics"]["f1_macro"] == sk.f1_score(
            [t for t, _ in mine],
            [g for _, g in mine],
            average="macro",
            zero_division=0,
        )
        low, high = record["ci95"]["f1_macro"]
        assert low <= high


@needs_shared
def test_report_sections_and_plots(evaluated_run):
    report = json.loads((evaluated_run / "evaluation.json").read_text())
    assert report["version"] == 2 and report["split"] == "test"
    assert report["baseline"]["name"] == "TF-IDF + logistic regression"
    assert report["baseline"]["lift"] == pytest.approx(
        report["overall"]["metrics"]["f1_macro"] - report["baseline"]["metrics"]["f1_macro"]
    )
    assert set(report["fairness"]["by_group"]) == {"hau", "pcm"}
    assert report["counterfactual"]["variants"] >= 0
    assert set(report["speed"]) == {"batch_1", "batch_32"}
    assert report["speed"]["batch_1"]["examples"] == 32
    assert report["speed"]["batch_32"]["examples"] == 192  # 6 batches: as many as 200 make
    assert 0 <= report["calibration"]["error"] <= 1
    assert [g["name"] for g in report["gates"]["rows"]] == [
        "f1_macro overall",
        "f1_macro gap (fairness.max_gap)",
        "f1_macro lift over baseline",
    ]
    for name in ("confusion_matrix.png", "per_language.png", "calibration.png"):
        assert (evaluated_run / "plots" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    markdown = (evaluated_run / "evaluation.md").read_text()
    assert "## By language" in markdown and "## Gates" in markdown


@needs_shared
def test_evaluate_on_data_the_job_never_saw(evaluate, evaluated_run):
    result = evaluate(
        evaluated_run,
        "--data",
        SHARED_DATA / "sentiment/yor/dev.tsv",
        "--language",
        "yor",
        "--json",
    )
    assert result.code == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    assert report["examples"] == 2090 and set(report["slices"]["language"]) == {"yor"}
    assert report["split"] == "external data dev.tsv"
    assert len(list(evaluated_run.glob("evaluations/dev-*/evaluation.json"))) == 1
    state = json.loads((evaluated_run / "state.json").read_text())
    assert state["evaluation"]["split"] == "test"  # the run's own evaluation is untouched


@pytest.fixture
def evaluate():
    """`dexter-auto evaluate ARGS` in this process: these tests' subject is the report, and
    a process of its own would import torch, transformers and scikit-learn again (~6 CPU-s
    each). Any exception the command lets escape fails the test."""

    def run(*args: str | Path, cwd: Path = REPO) -> Outcome:
        outcome = invoke("evaluate", *args, cwd=cwd)
        assert outcome.crash is None, repr(outcome.crash)
        return outcome

    return run


def _copy_run(run: Path, folder: Path, **evaluation) -> Path:
    """A copy of `run` whose spec sits in `folder` (job.yaml) with `evaluation` changed."""
    copy = folder / "runs" / run.parent.name / run.name
    shutil.copytree(run, copy)
    spec = yaml.safe_load((copy / "spec.yaml").read_text())
    spec["evaluation"] |= evaluation
    (copy / "spec.yaml").write_text(yaml.safe_dump(spec))
    state = json.loads((copy / "state.json").read_text())
    (copy / "state.json").write_text(json.dumps(state | {"spec_path": str(folder / "job.yaml")}))
    return copy


def _rows(split: Path, count: int) -> str:
    rows = [json.loads(line) for line in split.read_text().splitlines()[:count]]
    return "text\tlabel\n" + "".join(f"{r['text']}\t{r['label']}\n" for r in rows)


@needs_shared
def test_other_splits_and_files_get_their_own_reports(evaluate, evaluated_run, tmp_path):
    """--split and --data never replace the report behind the card, and two files with the
    same name get two reports."""
    run = _copy_run(evaluated_run, tmp_path, bootstrap_samples=0, counterfactual=False)
    card_report = (run / "evaluation.json").read_bytes()
    result = evaluate(run, "--split", "validation", "--json")
    assert result.code == 0, result.stderr[-2000:]
    assert json.loads(result.stdout)["split"] == "validation"
    split_report = json.loads((run / "evaluations/split-validation/evaluation.json").read_text())
    assert split_report["split"] == "validation" and split_report["examples"] == 200
    for name, count in (("a", 40), ("b", 60)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "test.tsv").write_text(_rows(run / "data/test.jsonl", count))
        done = evaluate(run, "--data", tmp_path / name / "test.tsv", "--language", "hau")
        assert done.code == 0, done.stderr[-2000:]
        assert done.stdout.startswith(f"{count} examples (external data test.tsv): f1_macro ")
    reports = sorted(run.glob("evaluations/test-*/evaluation.json"))
    assert sorted(json.loads(p.read_text())["examples"] for p in reports) == [40, 60]
    assert (run / "evaluation.json").read_bytes() == card_report
    assert evaluate(run, "--split", "../x").code == 2


@needs_shared
def test_evaluate_without_a_baseline_prints_its_summary(evaluate, evaluated_run, tmp_path):
    run = _copy_run(evaluated_run, tmp_path, baseline=False, bootstrap_samples=0)
    result = evaluate(run)
    assert result.code in (0, 3), result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    assert result.stdout.startswith("200 examples (test): f1_macro ")
    assert result.stdout.splitlines()[0].endswith(", no baseline")


@needs_shared
def test_the_jobs_identity_terms_join_the_probe(evaluate, evaluated_run, tmp_path):
    run = _copy_run(evaluated_run, tmp_path, identity_terms="terms.yaml", bootstrap_samples=0)
    words = json.loads((run / "data/test.jsonl").read_text().splitlines()[0])["text"].split()
    (tmp_path / "terms.yaml").write_text(f"job_terms: [{json.dumps(words[0])}, Zamfara, Sokoto]\n")
    result = evaluate(run, "--json")
    assert result.code in (0, 3), result.stderr[-2000:]
    probe = json.loads(result.stdout)["counterfactual"]
    assert probe["by_category"]["job_terms"]["variants"] >= 2
    assert "ethnic_groups" in load_terms(None) and "job_terms" not in load_terms(None)


@pytest.mark.parametrize(
    ("terms", "content", "expected"),
    [
        ("/proc/self/environ", None, "evaluation.identity_terms: resolves outside the repository"),
        ("../../../../etc/passwd", None, "evaluation.identity_terms: resolves outside"),
        ("fifo.yaml", None, "evaluation.identity_terms: is a special file"),
        ("terms.yaml", "a: [b\n", "terms.yaml:2: evaluation.identity_terms: not a YAML file"),
        ("terms.yaml", "a: b\n", "terms.yaml: evaluation.identity_terms: must map each category"),
        ("terms.yaml", "a: ['']\n", "must map each category to a list of non-empty terms"),
        ("terms.yaml", "x" * (300 * 1024), "is larger than the 256 KiB allowed for a terms file"),
        ("missing.yaml", None, "missing.yaml: evaluation.identity_terms: file not found"),
    ],
)
def test_identity_terms_are_confined_and_checked(cli, tmp_path, terms, content, expected):
    """Refused before any model is loaded (the run needs no trained model for that)."""
    run = _copy_run(FIXTURE_RUN, tmp_path, identity_terms=terms)
    os.mkfifo(tmp_path / "fifo.yaml")
    if content is not None:
        (tmp_path / terms).write_text(content)
    result = cli("evaluate", run, cwd=tmp_path)
    assert result.code == 2, result.stderr
    assert result.stderr.strip().endswith(expected) or expected in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "root:x" not in result.stderr


@needs_shared
@pytest.mark.training
def test_a_failed_gate_stops_the_run_with_exit_code_3(cli, tmp_path):
    """Gates are the pipeline's, whatever the model: a linear model (seconds) fails them."""
    (tmp_path / "strict.yaml").write_text(
        "task: text-classification\nmodel: {family: linear}\n"
        f"languages: [pcm]\ndata:\n  sources:\n    - path: {SHARED_DATA}/sentiment/{{language}}\n"
        "      format: tsv\n  max_rows_per_split: 100\n  min_examples_per_label: 1\n"
        "evaluation:\n  gates: {overall: {f1_macro: 0.99}}\ntracking: false\n"
    )
    result = cli("submit", "strict.yaml", "--runs-dir", tmp_path / "runs", cwd=tmp_path)
    assert result.code == 3
    assert "gates failed: 1 of 1 gates failed;" in result.stderr
    assert "publishing and deployment will not run" in result.stderr
    assert "f1_macro overall" in result.stdout and "FAIL" in result.stdout
    state = json.loads(next((tmp_path / "runs").glob("strict/*/state.json")).read_text())
    assert state["state"] == "carded" and state["evaluation"]["gates_passed"] is False
    assert state["reason"] == "gates failed: 1 of 1 gates failed"
    card = next((tmp_path / "runs").glob("strict/*/README.md")).read_text()
    assert "**The model failed at least one gate**" in card  # written for review, not shipped
    assert (tmp_path / "model_cards" / "strict.md").read_text() == card
    again = cli("submit", "strict.yaml", "--runs-dir", tmp_path / "runs", "--json", cwd=tmp_path)
    failed = json.loads(again.stdout)  # scripts get JSON on stdout, not the table
    assert (again.code, failed["ok"], failed["error"]) == (3, False, "gates failed")
    assert [(row["name"], row["passed"]) for row in failed["gates"]] == [
        ("f1_macro overall", False)
    ]


def _evaluate_test_split(
    run_dir: Path, out: Path, platform: bool = False, **evaluation
) -> EvaluationReport:
    """Evaluate the run's test split again, with `evaluation` settings changed; with
    `platform`, an extra slice column (alternating x / facebook) that fairness groups by."""
    from dexter_autotrain.evaluation.baseline import run_baseline
    from dexter_autotrain.evaluation.evaluate import References, Subject, evaluate_model
    from dexter_autotrain.evaluation.examples import load_prepared
    from dexter_autotrain.runs import Run

    run = Run(run_dir)
    spec = run.spec()
    if platform:
        evaluation["fairness"] = spec.evaluation.fairness.model_copy(
            update={"group_by": "platform"}
        )
    spec = spec.model_copy(update={"evaluation": spec.evaluation.model_copy(update=evaluation)})
    data = load_prepared(run.path / "data", "test", spec.task)
    if platform:
        data.extras["platform"] = [("x", "facebook")[i % 2] for i in range(len(data.inputs))]
    baseline = None
    if spec.evaluation.baseline:
        baseline = run_baseline(run.path, spec.task, spec.data.split.seed)
    return evaluate_model(
        spec,
        run.model_folder(),
        data,
        References(baseline=baseline),
        out,
        Subject(spec.name, run.run_id, "test"),
    )


@needs_shared
def test_slices_and_fairness_by_another_column(evaluated_run, tmp_path):
    report = _evaluate_test_split(
        evaluated_run,
        tmp_path,
        platform=True,
        slices=["language", "platform"],
        bootstrap_samples=50,
    )
    platforms = report.slices["platform"]
    assert {k: v.count for k, v in platforms.items()} == {"facebook": 100, "x": 100}
    assert report.fairness is not None and set(report.fairness.by_group) == {"facebook", "x"}
    assert report.fairness_group == "platform"
    assert "## By platform" in (tmp_path / "evaluation.md").read_text()


def test_counterfactual_swaps_identity_terms_and_counts_flips():
    terms = {"ethnic_groups": ["Yoruba", "Igbo", "Hausa", "Fulani"], "religion": ["Christians"]}
    texts = ["The Yoruba traders protested", "Rain in Kano today", "Igbo and Christians met"]
    variants = swaps(texts, terms)
    assert [(v.example, v.change) for v in variants] == [
        (0, "Yoruba -> Igbo"),
        (0, "Yoruba -> Hausa"),
        (0, "Yoruba -> Fulani"),
        (2, "Igbo -> Yoruba"),
        (2, "Igbo -> Hausa"),
        (2, "Igbo -> Fulani"),
    ]  # a category with one term has nothing to swap in
    assert variants[1].text == "The Hausa traders protested"
    original = ["negative", "neutral", "positive"]
    after = ["negative", "positive", "negative", "positive", "positive", "positive"]
    report = flip_report(variants, original, after)
    assert (report.variants, report.flips, report.flip_rate) == (6, 1, 1 / 6)
    assert report.to_json()["by_category"] == {
        "ethnic_groups": {"variants": 6, "flips": 1, "flip_rate": 1 / 6}
    }
    assert report.examples[0].swap == "Yoruba -> Hausa"
    assert report.examples[0].after == "positive"
    assert flip_report([], original, []).flip_rate is None


@needs_shared
def test_bfloat16_pass_with_close_calls_rescored_keeps_float32_labels(evaluated_run):
    """The `auto` precision path, forced on (the CPU may not run bfloat16 natively)."""
    from dexter_autotrain.evaluation.predict import CLOSEST_FIRST, DRIFT_SAFETY, Predictor

    model = evaluated_run / json.loads((evaluated_run / "state.json").read_text())["model_dir"]
    with (SHARED_DATA / "sentiment/hau/dev.tsv").open(encoding="utf-8") as handle:
        texts = [line.split("\t")[0] for line in list(handle)[1:1001]]
    exact = Predictor(model, "text-classification", precision="float32").predict(texts)
    fast = Predictor(model, "text-classification", precision="bfloat16")
    quick = fast.predict(texts, rescore=False)
    checked = fast.predict(texts)
    assert checked.labels == exact.labels
    # log-probabilities differ between classes exactly as the logits do
    approximate, accurate = np.log(quick.probabilities), np.log(exact.probabilities)
    moved = accurate - approximate
    drift_everywhere = (moved.max(axis=1) - moved.min(axis=1)).max()
    top_two = np.sort(approximate, axis=1)[:, -2:]
    gaps = top_two[:, 1] - top_two[:, 0]
    rescoring = checked.rescoring
    assert rescoring.gap == DRIFT_SAFETY * rescoring.drift
    assert 0 < rescoring.drift <= drift_everywhere + 1e-5  # measured on some examples
    assert drift_everywhere < rescoring.gap  # so no label beyond the gap could change
    assert rescoring.examples == max(CLOSEST_FIRST, int(np.sum(gaps < rescoring.gap)))
    assert rescoring.examples < len(texts)
    assert (
        fast.precision.startswith("bfloat16")
        and Predictor(model, "text-classification", precision="float32").precision == "float32"
    )


@needs_shared
def test_the_baseline_is_fitted_during_training_and_reused(evaluated_run):
    from dexter_autotrain.evaluation.baseline import run_baseline

    key = json.loads((evaluated_run / "baseline/key.json").read_text())
    train = (evaluated_run / "data/train.jsonl").read_bytes()
    assert key["train_sha256"] == hashlib.sha256(train).hexdigest()
    pickled = evaluated_run / "baseline/baseline.pkl"
    written = pickled.stat().st_mtime_ns
    baseline = run_baseline(evaluated_run, "text-classification", 42)  # the spec's seed
    assert pickled.stat().st_mtime_ns == written
    assert len(baseline.predict(["ina son wannan", "bad"])) == 2


@needs_shared
def test_no_baseline_and_only_the_chosen_metrics(evaluated_run, tmp_path):
    report = _evaluate_test_split(
        evaluated_run,
        tmp_path,
        baseline=False,
        bootstrap_samples=0,
        metrics=["accuracy"],
        gates=Gates(),
    )
    assert report.baseline is None and report.gates.passed
    assert set(report.overall.metrics) == {"accuracy", "f1_macro"}  # chosen + primary
    assert all(
        set(r.metrics) == {"accuracy", "f1_macro"} for r in report.slices["language"].values()
    )
    assert "No baseline (`evaluation.baseline: false`)." in (tmp_path / "evaluation.md").read_text()


def test_plot_titles_name_what_was_scored(tmp_path, monkeypatch):
    from dexter_autotrain.evaluation import plots
    from dexter_autotrain.evaluation.evaluate import scored

    assert scored("test") == "test split" and scored("validation") == "validation split"
    assert scored("external data new.tsv") == "external data new.tsv"
    titles = []
    pyplot = plots._pyplot()
    monkeypatch.setattr(pyplot.Axes, "set_title", lambda _, text, *a, **k: titles.append(text))
    plots.confusion_matrix_plot(
        [[1, 0], [0, 1]], ["a", "b"], "Confusion matrix (x)", tmp_path / "c.png"
    )
    assert titles == ["Confusion matrix (x)"] and (tmp_path / "c.png").is_file()


def test_the_per_language_plot_keeps_every_language_of_the_job(tmp_path, monkeypatch):
    """A language with no test examples (Yorùbá in the shared data) or no score keeps its
    bar's place with that written on it, rather than vanishing from the plot."""
    from dexter_autotrain.evaluation import plots
    from dexter_autotrain.report_record import Scored

    drawn, pyplot = [], plots._pyplot()
    real_text = pyplot.Axes.text
    monkeypatch.setattr(
        pyplot.Axes,
        "text",
        lambda axes, x, y, s, **k: drawn.append(s) or real_text(axes, x, y, s, **k),
    )
    groups = {
        "ha": Scored(count=40, metrics={"f1_macro": 0.6}, ci95={"f1_macro": (0.5, 0.7)}),
        "ig": Scored(count=3, metrics={"f1_macro": None}),
    }
    said = plots.group_scores_plot(
        groups,
        "f1_macro",
        {"all": 0.55, "baseline": None},
        ["ha", "ig", "yo"],
        "t",
        tmp_path / "p.png",
    )
    assert said == {"ha": "0.60 (n=40)", "ig": "no score (n=3)", "yo": "no examples"}
    assert drawn == list(said.values()) and (tmp_path / "p.png").is_file()


@needs_shared
def test_a_smoke_runs_gates_are_reported_not_enforced(cli, evaluated_run, tmp_path):
    """`evaluate` judges a smoke run as `submit --smoke` does: failed gates are shown and
    exit 0 (its tiny model is never published); `status` says they were ignored."""
    run = tmp_path / "runs" / "sentiment" / evaluated_run.name
    shutil.copytree(evaluated_run, run)
    spec = yaml.safe_load((run / "spec.yaml").read_text())
    spec["evaluation"] |= {"gates": {"overall": {"f1_macro": 0.99}}, "bootstrap_samples": 0}
    (run / "spec.yaml").write_text(yaml.safe_dump(spec))
    smoke = cli("evaluate", run, "--runs-dir", tmp_path / "runs")
    assert smoke.code == 0, smoke.stderr
    assert "gates failed; ignored in a smoke run" in smoke.stderr and "FAIL" in smoke.stdout
    status = cli("status", run, "--runs-dir", tmp_path / "runs")
    assert "gates FAILED (ignored: a smoke run is never published)" in status.stdout
