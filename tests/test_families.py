"""The linear family (`model: {family: linear}`) and jobs with candidates and seeds, through
every stage, on the shared data and on data built for it:

- sentiment (NaijaSenti hau + pcm) with candidates: a tiny transformer (AutoTrain, from the
  shared sentiment run's randomly initialised model) and the linear family; the linear model
  wins on validation, is published to the Hub test server, deployed to an Inference Endpoint
  there (a real `dexter-auto serve` of the published commit) and queried through
  `InferenceClient`;
- word order (labels that only the order of two words decides, so no bag of words or word
  pair can learn them) with the transformer over two seeds beside the linear family: the
  transformer wins, its card shows the spread, its gates judge the mean of its seeds;
- NER (MasakhaNER hau + yor) with the linear family alone: a CRF, published and used by
  `dexter-auto predict`.

Both published linear models are loaded back, by the toolkit and by their own `handler.py`
in a process that never imports the toolkit, predicting what the run predicted. Three
AutoTrain trainings of a 2-layer, 32-wide model, a few seconds each; the linear fits run in
process."""

from __future__ import annotations

import json
import random
import shutil
import statistics
import subprocess
import sys
import zipfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import SHARED_DATA, HubSetup, Result, fake_token
from inprocess import run_in_process as run_cli

from dexter_autotrain.testing import Accounts, HubConfig, HubServer, TokenGrant
from dexter_autotrain.testing.hub_client import patched_client

IN_PROCESS = True  # `dexter-auto` runs in this process (tests/inprocess.py): the tests read exit
# codes, output and files; Hub settings are applied to the imported client for each call.

pytestmark = [
    pytest.mark.training,  # linear models, in seconds: no AutoTrain training is started
    pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="../shared/data is absent"),
]

WRITE_TOKEN = fake_token("LinearTestWrite")
TEXT_SPEC = """\
name: sentiment-linear
description: Sentiment of Hausa and Nigerian Pidgin tweets (NaijaSenti), a linear model.
task: text-classification
model: {{family: linear}}
{candidates}languages: [hau, pcm]
data:
  sources:
    - path: {data}/sentiment/{{language}}
      format: tsv
      license: cc-by-4.0
  labels: [negative, neutral, positive]
  max_rows_per_split: 500
training: {{epochs: 1, batch_size: 32, max_seq_length: 64, learning_rate: 0.001}}
evaluation:
  bootstrap_samples: 0
  counterfactual: false
  gates: {{overall: {{f1_macro: 0.4}}, min_lift_over_baseline: -0.2}}
card: {{license: cc-by-4.0}}
hub: {{repo_id: dexter-ng/sentiment-linear}}
deploy: {{enabled: true, target: endpoint, name: sentiment-linear, parity_examples: 12}}
tracking: false
"""
NER_SPEC = """\
name: actors-linear
description: Persons, organisations and places in Hausa and Yorùbá (MasakhaNER 2.0), a CRF.
task: token-classification
model: {{family: linear}}
languages: [hau, yor]
data:
  sources:
    - path: {data}/ner/{{language}}
      format: conll
      license: cc-by-nc-4.0
  labels: [O, B-PER, I-PER, B-ORG, I-ORG, B-LOC, I-LOC]
  label_map: {{B-DATE: O, I-DATE: O}}
  fix_iob2: true
  max_rows_per_split: 600
evaluation:
  bootstrap_samples: 0
card: {{license: cc-by-nc-4.0}}
hub: {{repo_id: dexter-ng/actors-linear}}
tracking: false
"""
CANDIDATES = "base_model: {path: tiny}\n"
ORDER_SPEC = """\
name: word-order
description: Which of two words comes first; the same words in every text.
task: text-classification
model: {family: autotrain, candidates: [linear]}
base_model: {path: tiny}
languages: [hau]
data:
  sources:
    - path: order
      format: jsonl
      language: hau
training: {seeds: [1, 2], epochs: 5, learning_rate: 0.002, batch_size: 32, max_seq_length: 16}
evaluation:
  bootstrap_samples: 0
  counterfactual: false
  gates: {overall: {f1_macro: 0.6}}
tracking: false
"""
FILLER = ("kasuwa", "mota", "hanya", "makaranta", "abinci", "yara", "gari", "aiki")
WITHOUT_TOOLKIT = """\
import json, sys
from huggingface_hub import snapshot_download
folder = snapshot_download(sys.argv[1])
sys.path.insert(0, folder)
from handler import EndpointHandler
model = EndpointHandler(folder)
inputs = json.loads(sys.stdin.read())
if model.kind == "crf":
    answers = [model.tagger.tag(model.features(words)) for words in inputs]
    answers.append(model({"inputs": "Shugaba Bola Tinubu ya isa Kano ranar Litinin"}))
else:
    answers = [max(a, key=lambda x: x["score"])["label"] for a in model({"inputs": inputs})]
assert not any(name.startswith("dexter_autotrain") for name in sys.modules)
print(json.dumps(answers))
"""


@pytest.fixture(scope="module")
def hub_setup() -> HubSetup:
    accounts = Accounts(
        {WRITE_TOKEN: TokenGrant("dexter-test", "write")},
        {"dexter-ng": frozenset({"dexter-test"})},
    )
    return HubSetup(accounts, HubConfig(schedule_delay=0.05), WRITE_TOKEN)


def cli(hub: HubServer, where: Path, *args: str | Path) -> Result:
    return run_cli(*args, cwd=where, env=hub.client_env(where / "hf-home", WRITE_TOKEN))


def word_order(folder: Path) -> None:
    """Texts of the same ten words in random orders, `gida` and `ruwa` never side by side;
    the label says which of the two comes first. Every text has the same words, and no word
    pair tells the order (the two are never adjacent): a bag of words or of word pairs sees
    almost nothing; a transformer, which reads positions, can learn it."""
    chance = random.Random(0)
    folder.mkdir()
    for split, count in (("train", 1200), ("dev", 200), ("test", 200)):
        rows: list[str] = []
        while len(rows) < count:
            words = [*FILLER, "gida", "ruwa"]
            chance.shuffle(words)
            first, second = words.index("gida"), words.index("ruwa")
            if abs(first - second) > 1:
                label = "gida-first" if first < second else "ruwa-first"
                rows.append(json.dumps({"text": " ".join(words), "label": label}) + "\n")
        (folder / f"{split}.jsonl").write_text("".join(rows), encoding="utf-8")


@pytest.fixture(scope="module")
def runs(hub, trained, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Result]]:
    """The three jobs submitted once, through every stage, for the module's tests."""
    where = tmp_path_factory.mktemp("linear")
    jobs = where / "jobs"
    shutil.copytree(trained.get("sentiment").run / "base-model", jobs / "tiny")
    word_order(jobs / "order")
    texts = {
        "text": TEXT_SPEC.format(data=SHARED_DATA, candidates=CANDIDATES).replace(
            "{family: linear}", "{family: autotrain, candidates: [linear]}"
        ),
        "order": ORDER_SPEC,
        "ner": NER_SPEC.format(data=SHARED_DATA),
    }
    submitted = {}
    for name, text in texts.items():
        spec = jobs / f"{name}.yaml"
        spec.write_text(text, encoding="utf-8")
        result = cli(hub, where, "submit", spec, "--json")
        assert result.code == 0, result.stderr[-3000:] + result.stdout[-2000:]
        submitted[name] = (Path(json.loads(result.stdout)["run"]), result)
    return submitted


def split_and_predictions(run: Path, split: str = "test") -> tuple[list, list]:
    rows = [json.loads(line) for line in (run / f"data/{split}.jsonl").read_text().splitlines()]
    predictions = (run / "predictions.jsonl").read_text().splitlines()
    predicted = [json.loads(line)["prediction"] for line in predictions]
    return rows, predicted


def without_toolkit(hub: HubServer, repo_id: str, inputs: list, home: Path) -> list:
    """The published repository's own handler.py, in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-I", "-c", WITHOUT_TOOLKIT, repo_id],
        input=json.dumps(inputs),
        env=hub.client_env(home, WRITE_TOKEN),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def test_text_model_goes_through_every_stage_stored_safely_and_carded(hub, runs, tmp_path) -> None:
    run, _ = runs["text"]
    state = json.loads((run / "state.json").read_text())
    assert state["completed"] == [
        "prepare", "train", "evaluate", "card", "gates", "publish", "deploy"
    ]  # fmt: skip
    assert state["training"]["family"] == "linear" and state["training"]["steps"] == 16
    status = cli(hub, run.parent.parent.parent, "status", run)
    assert "training: linear family, 16 settings" in status.stdout + status.stderr
    repeats = state["repeats"]  # the linear candidate beat the tiny transformer
    assert [(m["family"], m["seed"]) for m in repeats["members"]] == [
        ("autotrain", 42), ("linear", 42)
    ]  # fmt: skip
    assert repeats["winner"] == run.name and state["member"]["family"] == "linear"
    other = run.parent / repeats["members"][0]["run_id"]
    other_state = json.loads((other / "state.json").read_text())
    assert other_state["completed"] == ["prepare", "train", "evaluate"]  # never carded
    assert not (other / "README.md").exists()
    model = run / state["model_dir"]
    config = json.loads((model / "config.json").read_text())["dexter_linear"]
    assert config["kind"] == "tfidf-logistic-regression" and len(config["trials"]) == 16
    best = max(config["trials"], key=lambda trial: trial["score"])
    assert config["chosen"] == best["params"]
    assert state["training"]["validation"]["f1_macro"] == best["score"]
    assert sorted(p.name for p in model.iterdir()) == [
        "config.json", "handler.py", "model.skops", "requirements.txt"
    ]  # fmt: skip
    assert zipfile.is_zipfile(model / "model.skops")  # skops: a zip of JSON and arrays
    report = json.loads((run / "evaluation.json").read_text())
    assert report["baseline"]["name"] == "word unigrams (TF-IDF + logistic regression)"
    assert report["overall"]["metrics"]["f1_macro"] > 0.45
    assert report["majority"]["name"] == "majority class" and report["majority"]["lift"] > 0.2
    card = (run / "README.md").read_text()
    assert "the floor any model must clear is the majority class" in card
    assert "library_name: sklearn" in card and "- sklearn" in card
    assert "**Base model:** none: a linear model" in card
    assert "(**chosen**)" in card and "from handler import EndpointHandler" in card
    assert "Training (the linear family): scikit-learn" in card
    assert "## Seeds and candidates" in card and "linear has the best mean validation" in card
    with patched_client(hub.client_env(tmp_path / "hf-home", WRITE_TOKEN)):
        from huggingface_hub import hf_hub_download

        published = Path(hf_hub_download("dexter-ng/sentiment-linear", "repeats.json"))
    assert json.loads(published.read_text())["winner"] == run.name  # for `plan`


def test_word_order_the_transformer_wins_and_its_card_shows_the_spread_over_seeds(
    hub, runs
) -> None:
    run, _ = runs["order"]
    state = json.loads((run / "state.json").read_text())
    repeats = state["repeats"]
    members = repeats["members"]
    assert [(m["family"], m["seed"]) for m in members] == [
        ("autotrain", 1), ("autotrain", 2), ("linear", 1)  # linear: deterministic, once
    ]  # fmt: skip
    families = {family["family"]: family for family in repeats["families"]}
    assert families["autotrain"]["validation"]["mean"] > families["linear"]["validation"]["mean"]
    transformers = [m for m in members if m["family"] == "autotrain"]
    winner = max(transformers, key=lambda m: m["validation"])
    assert repeats["winner"] == winner["run_id"] == run.name
    values = [m["test"]["f1_macro"] for m in transformers]
    spread = families["autotrain"]["test"]["f1_macro"]
    assert spread["mean"] == pytest.approx(statistics.fmean(values))
    assert spread["sd"] == pytest.approx(statistics.stdev(values))
    report = json.loads((run / "evaluation.json").read_text())
    assert report["overall"]["metrics"]["f1_macro"] == winner["test"]["f1_macro"]  # its own
    gate = report["gates"]["rows"][0]
    assert gate["value"] == pytest.approx(spread["mean"]) and gate["note"] == "mean of 2 seeds"
    card = (run / "README.md").read_text()
    assert "## Seeds and candidates" in card and "(**published**)" in card
    assert f"{spread['mean']:.3f} ± {spread['sd']:.3f}" in card
    assert "(mean of 2 seeds)" in card and (run / "plots/spread.png").is_file()
    compared = cli(hub, run.parent.parent.parent, "runs", "compare", run, transformers[0]["run_id"])
    assert compared.code == 0, compared.stderr
    assert f"{spread['mean']:.4f} ± {spread['sd']:.4f} (2 seeds)" in compared.stdout


def test_published_text_model_predicts_identically_with_and_without_the_toolkit(
    hub, runs, tmp_path
) -> None:
    from dexter_autotrain.evaluation.predictors import load_predictor
    from dexter_autotrain.serve.model import resolve_model

    run, _ = runs["text"]
    rows, predicted = split_and_predictions(run)
    texts = [row["text"] for row in rows]
    model = resolve_model("hub:dexter-ng/sentiment-linear", tmp_path / "runs", print)
    assert not list(model.path.glob("*.py"))  # the toolkit never fetches a repo's code
    assert load_predictor(model.path, model.task).predict(texts).labels == predicted
    assert without_toolkit(hub, "dexter-ng/sentiment-linear", texts, tmp_path) == predicted


WORKER_WITHOUT_TORCH = """\
import sys
from pathlib import Path
from dexter_autotrain.serve.app import ModelAPI, ServeOptions
from dexter_autotrain.serve.model import resolve_model
from dexter_autotrain.serve.protocol import Query
api = ModelAPI(resolve_model(sys.argv[1], Path(sys.argv[1]).parent, print), ServeOptions())
api.setup("cpu")
[[answers]] = api.predict([Query([sys.argv[2]])])  # a batch of one query, of one input
print(max(answers, key=lambda a: a["score"])["label"], "torch" in sys.modules)
"""


def test_a_linear_models_server_worker_never_imports_torch(runs) -> None:
    """A serve worker sets up a linear model without torch (skops reads scikit-learn's list
    of estimators at import, which would import torch): its cold start takes a second less.
    The stored model is deflated."""
    run, _ = runs["text"]
    rows, predicted = split_and_predictions(run)
    done = subprocess.run(
        [sys.executable, "-c", WORKER_WITHOUT_TORCH, str(run), rows[0]["text"]],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == [predicted[0], "False"]
    state = json.loads((run / "state.json").read_text())
    with zipfile.ZipFile(run / state["model_dir"] / "model.skops") as stored:
        assert stored.getinfo("schema.json").compress_type == zipfile.ZIP_DEFLATED


def test_endpoint_serves_the_published_linear_model(hub, runs) -> None:
    from huggingface_hub import InferenceClient

    run, result = runs["text"]
    deployed = json.loads(result.stdout)["deployed"]
    assert deployed["status"] == "running" and deployed["parity"]["share"] == 1.0
    rows, predicted = split_and_predictions(run)
    client = InferenceClient(model=deployed["url"])
    for row, label in list(zip(rows, predicted, strict=True))[:8]:
        answer = client.text_classification(row["text"])
        assert max(answer, key=lambda a: a.score).label == label
        assert abs(sum(a.score for a in answer) - 1.0) < 1e-4


def test_crf_ner_model_through_evaluate_publish_and_predict(hub, runs, tmp_path) -> None:
    run, _ = runs["ner"]
    state = json.loads((run / "state.json").read_text())
    assert state["completed"][-1] == "publish"
    model = run / state["model_dir"]
    config = json.loads((model / "config.json").read_text())["dexter_linear"]
    assert config["kind"] == "crf" and config["feature_set"] == "dexter-crf-1"
    assert (model / "crf_features.py").is_file() and (model / "model.crfsuite").is_file()
    report = json.loads((run / "evaluation.json").read_text())
    assert report["baseline"]["name"] == "most frequent tag per word"
    assert report["overall"]["metrics"]["f1"] > 0.45 and report["baseline"]["lift"] > 0.1
    rows, predicted = split_and_predictions(run)
    sentences = [row["tokens"] for row in rows][:40]
    answers = without_toolkit(hub, "dexter-ng/actors-linear", sentences, tmp_path)
    assert answers[:-1] == predicted[:40]
    assert {"entity_group": "PER", "word": "Bola Tinubu"} in [
        {key: entity[key] for key in ("entity_group", "word")} for entity in answers[-1]
    ]
    corpus = tmp_path / "texts.jsonl"
    corpus.write_text("".join(json.dumps({"text": " ".join(s)}) + "\n" for s in sentences))
    scored = cli(hub, tmp_path, "predict", run, "--input", corpus, "--output", tmp_path / "out")
    assert scored.code == 0, scored.stderr[-2000:]
    lines = pq.read_table(tmp_path / "out/part-00000.parquet").to_pylist()
    assert [len(line["entities"]) for line in lines] == [entity_starts(t) for t in predicted[:40]]


def entity_starts(tags: list[str]) -> int:
    """Entities in a tag sequence as `aggregation_strategy=simple` groups them."""
    return sum(
        tag != "O" and (tag.startswith("B-") or index == 0 or tags[index - 1][2:] != tag[2:])
        for index, tag in enumerate(tags)
    )


def test_family_mistakes_are_each_one_located_error(tmp_path) -> None:
    """Four specs, one `validate`: each mistake named at its file, field and fix."""
    linear = TEXT_SPEC.format(data=SHARED_DATA, candidates="")
    specs = {
        "based.yaml": (linear + "base_model: {path: model}\n", "not used by the linear family"),
        "remote.yaml": (linear + "compute: {backend: hf-jobs}\n", "trains here, in this process"),
        "baseless.yaml": (linear.replace("model: {family: linear}\n", ""), "family: linear"),
        "seeded.yaml": (
            linear.replace("learning_rate: 0.001}", "learning_rate: 0.001, seeds: [1, 2]}"),
            "fits the same model whatever the seed",
        ),
    }
    for name, (text, _) in specs.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    result = run_cli("validate", *specs, cwd=tmp_path)
    shown = result.stdout + result.stderr
    assert result.code == 2 and "Traceback" not in shown
    for name, (_, message) in specs.items():
        assert any(name in line and message in line for line in shown.splitlines()), name


def test_a_large_split_fits_the_grid_side_by_side_in_order() -> None:
    """From `PARALLEL_FROM_ROWS` rows on, settings go to worker processes (joblib), and the
    results come back in the grid's order, as the sequential fit gives them."""
    import os
    from functools import partial

    from dexter_autotrain.linear.grid import PARALLEL_FROM_ROWS, fit_settings

    settings = [3, 1, 2, 5]
    sequential = fit_settings(partial(pow, 2), settings, PARALLEL_FROM_ROWS - 1)
    parallel = fit_settings(_pid_and_square, settings, PARALLEL_FROM_ROWS)
    assert sequential == [8, 2, 4, 32]
    assert [square for _, square in parallel] == [9, 1, 4, 25]
    if len(os.sched_getaffinity(0)) > 1:
        assert os.getpid() not in {pid for pid, _ in parallel}  # other processes did the work


def _pid_and_square(value: int) -> tuple[int, int]:
    import os

    return os.getpid(), value * value
