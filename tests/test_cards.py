"""Model cards: golden files per task, metadata round trip, sandboxing, strictness, secrets."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import REPO
from huggingface_hub import ModelCard, metadata_load, parse_eval_result_entries

FIXTURES = REPO / "tests" / "fixtures" / "cards"
GOLDEN = REPO / "tests" / "golden" / "cards"
TASKS = ["text-classification", "token-classification", "image-classification"]
HUB_METRIC_TYPES = {"accuracy", "f1", "precision", "recall", "calibration_error"}
NOT_WRITTEN = "These results are not written to `.eval_results/`"
IN_PROCESS = True  # the `cli` fixture runs dexter-auto in this process (conftest.py)


def _run_dir(tmp_path: Path, task: str, spec_dir: Path | None = None) -> Path:
    """A run directory recorded from a real smoke run of the task (see the fixture)."""
    run = tmp_path / "runs" / "job" / "20261125-000000-abcd"
    shutil.copytree(FIXTURES / task, run)
    state = json.loads((run / "state.json").read_text())
    state["spec_path"] = str((spec_dir or tmp_path) / "job.yaml")
    (run / "state.json").write_text(json.dumps(state))
    return run


@pytest.mark.parametrize("task", TASKS)
def test_card_matches_golden_file(cli, tmp_path, task):
    run = _run_dir(tmp_path, task)
    result = cli("card", run, "--cards-dir", tmp_path / "model_cards")
    assert result.code == 0, result.stderr
    text = (run / "README.md").read_text()
    assert text == (GOLDEN / f"{task}.md").read_text()
    again = cli("card", run, "--cards-dir", tmp_path / "model_cards")
    assert again.code == 0 and (run / "README.md").read_text() == text  # deterministic


@pytest.mark.parametrize("task", TASKS)
def test_metadata_round_trips_through_huggingface_hub(cli, tmp_path, task):
    run = _run_dir(tmp_path, task)
    assert cli("card", run, "--cards-dir", tmp_path / "model_cards").code == 0
    card = ModelCard.load(run / "README.md")
    spec = yaml.safe_load((run / "spec.yaml").read_text())
    evaluation = json.loads((run / "evaluation.json").read_text())
    data = card.data
    assert data.license == spec["card"]["license"]
    assert data.pipeline_tag == task and data.library_name == "transformers"
    assert (data.language or []) == spec["languages"]
    assert "dexter-autotrain" in data.tags
    assert data.datasets == (spec["card"]["datasets"] or None)
    if not data.datasets:  # a model-index dataset must be a Hub dataset: none is invented
        assert data.eval_results is None and "The metadata has no model-index" in card.text
        assert not (run / ".eval_results").exists()
        return
    assert {r.dataset_type for r in data.eval_results} == {data.datasets[0]}
    assert [r.metric_value for r in data.eval_results] == [
        round(v, 4) for v in evaluation["overall"]["metrics"].values()
    ]
    assert {r.metric_type for r in data.eval_results} <= HUB_METRIC_TYPES
    assert {r.dataset_split for r in data.eval_results} == {evaluation["split"]}
    entries_file = run / ".eval_results" / f"{spec['name']}.yaml"
    if NOT_WRITTEN not in card.text:
        entries = parse_eval_result_entries(yaml.safe_load(entries_file.read_text()))
        assert {e.dataset_id for e in entries} == {spec["card"]["benchmark"]}
        assert len(entries) == len(evaluation["overall"]["metrics"])
    else:
        assert not entries_file.exists()


def test_reviewed_copy_is_written_for_real_runs_only(cli, tmp_path):
    real = _run_dir(tmp_path, "token-classification")
    assert cli("card", real, "--cards-dir", tmp_path / "model_cards").code == 0
    assert (tmp_path / "model_cards" / "actors.md").read_text() == (real / "README.md").read_text()
    smoke = _run_dir(tmp_path / "smoke", "text-classification")
    assert cli("card", smoke, "--cards-dir", tmp_path / "smoke-cards").code == 0
    assert not (tmp_path / "smoke-cards").exists()
    assert "**Smoke run.**" in (smoke / "README.md").read_text()
    assert "base_model:" not in (smoke / "README.md").read_text().split("---")[1]


def test_card_holds_no_secret_path_or_machine_name(cli, tmp_path):
    token = "hf_" + "q" * 34
    run = _run_dir(tmp_path, "text-classification")
    result = cli(
        "card",
        run,
        "--cards-dir",
        tmp_path / "model_cards",
        env={"HF_TOKEN": token, "HUGGING_FACE_HUB_TOKEN": token},
    )
    assert result.code == 0
    text = (run / "README.md").read_text()
    assert token not in text
    for forbidden in (str(tmp_path), "/tmp/", "/root", "/work/", "/home/", socket.gethostname()):
        assert forbidden not in text, forbidden
    assert "`naijasenti/hau/train.tsv`" in text  # a path outside the repo, shortened


def _override(tmp_path: Path, body: str) -> Path:
    run = _run_dir(tmp_path, "text-classification")
    spec = yaml.safe_load((run / "spec.yaml").read_text())
    spec["card"]["template"] = "custom.md.j2"
    (run / "spec.yaml").write_text(yaml.safe_dump(spec))
    (tmp_path / "custom.md.j2").write_text(body)
    return run


def test_a_job_can_override_the_template(cli, tmp_path):
    run = _override(tmp_path, "# {{ repo_id }}\n\nBest {{ evaluation.primary_metric }}.\n")
    assert cli("card", run, "--cards-dir", tmp_path / "cards").code == 0
    assert (
        (run / "README.md").read_text().endswith("# dexter-ng/narrative-xlmr\n\nBest f1_macro.\n")
    )


def test_missing_variable_names_template_and_line(cli, tmp_path):
    run = _override(tmp_path, "# {{ repo_id }}\n\n{{ evaluation.no_such_section }}\n")
    result = cli("card", run, "--cards-dir", tmp_path / "cards", cwd=tmp_path)
    assert result.code == 2
    assert result.stderr.strip() == (
        "custom.md.j2:3: 'dict object' has no attribute 'no_such_section' "
        "(use a variable the card provides, or `| default(...)`)"
    )
    assert not (run / "README.md").exists()


def test_template_injection_cannot_reach_python_internals(cli, tmp_path):
    run = _override(tmp_path, "# x\n{{ ''.__class__.__mro__[1].__subclasses__() }}\n")
    result = cli("card", run, "--cards-dir", tmp_path / "cards", cwd=tmp_path)
    assert result.code == 2
    assert result.stderr.startswith("custom.md.j2:2: template tried to reach Python internals")
    assert (
        "subclasses" not in (run / "README.md").read_text()
        if (run / "README.md").exists()
        else True
    )
    assert not (run / "README.md").exists()


def test_template_syntax_error(cli, tmp_path):
    run = _override(tmp_path, "# x\n{% if %}\n")
    result = cli("card", run, "--cards-dir", tmp_path / "cards", cwd=tmp_path)
    assert result.code == 2
    assert result.stderr.startswith("custom.md.j2:2: template syntax error:")


def test_card_without_a_baseline(cli, tmp_path):
    run = _run_dir(tmp_path, "text-classification")
    report = json.loads((run / "evaluation.json").read_text())
    report["baseline"] = None
    (run / "evaluation.json").write_text(json.dumps(report))
    result = cli("card", run, "--cards-dir", tmp_path / "model_cards")
    assert result.code == 0, result.stderr
    text = (run / "README.md").read_text()
    assert "No baseline was fitted (`evaluation.baseline: false` in the job spec)." in text
    assert "| metric | model | 95% CI |\n|---|---|---|\n| Accuracy (`accuracy`) |" in text


def test_every_reviewed_card_in_the_repository_belongs_to_a_job():
    """Benchmarks and tests write cards into temporary folders, never into model_cards/."""
    jobs = {path.stem for path in (REPO / "jobs").glob("*.yaml")}  # a job is named by its file
    cards = {path.stem for path in (REPO / "model_cards").glob("*.md")}
    assert cards <= jobs, cards - jobs


@pytest.mark.parametrize(
    ("git", "expected"),
    [
        ({"commit": "0123456789abcdef", "dirty": False}, "job spec at commit `0123456789ab`)"),
        (
            {"commit": "0123456789abcdef", "dirty": True, "spec": "modified"},
            "job spec with uncommitted changes, on top of commit `0123456789ab`)",
        ),
        (
            {"commit": "0123456789abcdef", "dirty": True, "spec": "untracked"},
            "job spec not yet committed to git, repository at commit `0123456789ab`)",
        ),
        (None, "job spec not under git)"),
    ],
)
def test_card_says_which_spec_the_run_read(cli, tmp_path, git, expected):
    run = _run_dir(tmp_path, "text-classification")
    state = json.loads((run / "state.json").read_text())
    (run / "state.json").write_text(json.dumps(state | {"git": git}))
    assert cli("card", run, "--cards-dir", tmp_path / "cards").code == 0
    line = next(
        line for line in (run / "README.md").read_text().splitlines() if "Developed by" in line
    )
    assert line.endswith(expected), line


@pytest.mark.parametrize(
    ("task", "languages", "call"),
    [
        (
            "text-classification",
            ["yor", "hau"],
            'classifier("Mo fẹ́ràn orin yìí gan-an.")  # Yorùbá',
        ),
        ("text-classification", ["pcm"], 'classifier("Wetin dey happen for Lagos today?")'),
        ("text-classification", [], 'classifier("The new road to Kano has made my journey'),
        ("token-classification", ["ibo"], 'tagger("Onye isi ala Bola Tinubu rutere Kano taa.")'),
    ],
)
def test_usage_example_is_in_one_of_the_jobs_languages(cli, tmp_path, task, languages, call):
    run = _run_dir(tmp_path, task)
    spec = yaml.safe_load((run / "spec.yaml").read_text())
    (run / "spec.yaml").write_text(yaml.safe_dump(spec | {"languages": languages}))
    result = cli("card", run, "--cards-dir", tmp_path / "cards")
    assert result.code == 0, result.stderr
    assert call in (run / "README.md").read_text()


def test_ner_accuracy_is_called_token_accuracy(cli, tmp_path):
    run = _run_dir(tmp_path, "token-classification")
    assert cli("card", run, "--cards-dir", tmp_path / "cards").code == 0
    card = ModelCard.load(run / "README.md")
    names = {r.metric_type: r.metric_name for r in card.data.eval_results}
    assert names["accuracy"] == "Token accuracy" and names["f1"] == "Entity F1"
    assert "| Token accuracy (`accuracy`) | 0.929 |" in card.text


def test_the_run_records_whether_its_spec_was_committed(tmp_path):
    from dexter_autotrain.pipeline import _git_commit
    from dexter_autotrain.spec import load_spec

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)

    git("init", "-q")
    (tmp_path / "_base.yaml").write_text("training: {epochs: 1}\n")
    spec = tmp_path / "job.yaml"
    spec.write_text(
        "extends: _base.yaml\ntask: text-classification\nbase_model: {path: m}\n"
        "data: {sources: [{path: d.tsv}]}\n"
    )
    assert _git_commit(load_spec(spec)) is None  # no commit yet: nothing to cite
    git("add", "_base.yaml")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base")
    assert _git_commit(load_spec(spec))["spec"] == "untracked"
    git("add", "job.yaml")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "job")
    assert _git_commit(load_spec(spec))["spec"] == "committed"
    (tmp_path / "_base.yaml").write_text("training: {epochs: 2}\n")  # a parent changed
    assert _git_commit(load_spec(spec))["spec"] == "modified"


def _card_of(cli, run: Path, tmp_path: Path) -> ModelCard:
    result = cli("card", run, "--cards-dir", tmp_path / "cards")
    assert result.code == 0, result.stderr
    return ModelCard.load(run / "README.md")


def _edit(run: Path, name: str, change) -> None:
    """Load a run file (spec.yaml, *.json), let `change` edit it in place, write it back."""
    path = run / name
    data = (
        yaml.safe_load(path.read_text()) if name.endswith(".yaml") else json.loads(path.read_text())
    )
    change(data)
    path.write_text(yaml.safe_dump(data) if name.endswith(".yaml") else json.dumps(data))


def test_model_index_uses_the_hubs_metric_types_with_the_average_in_args(cli, tmp_path):
    run = _run_dir(tmp_path, "text-classification")
    _card_of(cli, run, tmp_path)
    metrics = metadata_load(run / "README.md")["model-index"][0]["results"][0]["metrics"]
    by_name = {metric["name"]: metric for metric in metrics}
    assert by_name["Macro F1"]["type"] == "f1" and by_name["Macro F1"]["args"] == {
        "average": "macro"
    }
    assert by_name["Weighted F1"]["args"] == {"average": "weighted"}
    assert by_name["Macro precision"]["type"] == "precision"
    assert by_name["Macro recall"]["type"] == "recall"
    assert by_name["Accuracy"]["type"] == "accuracy" and "args" not in by_name["Accuracy"]
    assert not any(
        "_" in metric["type"] for metric in metrics if metric["type"] != "calibration_error"
    )


def test_ner_metrics_are_entity_level_with_token_accuracy_named_as_such(cli, tmp_path):
    run = _run_dir(tmp_path, "token-classification")
    _card_of(cli, run, tmp_path)
    metrics = metadata_load(run / "README.md")["model-index"][0]["results"][0]["metrics"]
    by_type = {metric["type"]: metric for metric in metrics}
    assert by_type["accuracy"]["name"] == "Token accuracy"
    assert by_type["f1"]["args"] == {"average": "micro", "mode": "strict", "scheme": "IOB2"}


def test_card_lists_framework_versions_and_the_dataset_revision(cli, tmp_path):
    run = _run_dir(tmp_path, "token-classification")
    revision = "0123456789abcdef0123456789abcdef01234567"
    _edit(
        run,
        "spec.yaml",
        lambda spec: spec["data"].update(
            sources=[{"hub": "masakhane/masakhaner2", "revision": revision, "subset": "hau"}]
        ),
    )
    card = _card_of(cli, run, tmp_path)
    assert (
        "- Training (AutoTrain's runner): autotrain-advanced 0.8.36, transformers 4.48.0, "
        "torch 2.13.0+cpu\n" in card.text
    )
    assert "- Evaluation (the toolkit): dexter-autotrain 0.1.0, transformers" in card.text
    assert f"- Dataset `masakhane/masakhaner2`: revision `{revision}`\n" in card.text
    assert "Local data" not in card.text
    assert {result.dataset_revision for result in card.data.eval_results} == {revision}


def test_hub_sources_are_named_in_the_metadata_with_their_revision(cli, tmp_path):
    """A Hub dataset read as a source joins `datasets:` (before the local copies the spec
    names) and is what the model-index reports on, at the revision it was read at."""
    run = _run_dir(tmp_path, "text-classification")
    revision = "89abcdef0123456789abcdef0123456789abcdef"
    source = {"hub": "shmuhammad/AfriSenti-twitter-sentiment", "revision": revision}
    _edit(run, "spec.yaml", lambda spec: spec["data"].update(sources=[source]))
    card = _card_of(cli, run, tmp_path)
    assert card.data.datasets == [source["hub"], "HausaNLP/NaijaSenti-Twitter"]
    assert {(r.dataset_type, r.dataset_revision) for r in card.data.eval_results} == {
        (source["hub"], revision)
    }


def test_a_run_without_recorded_versions_says_so(cli, tmp_path):
    run = _run_dir(tmp_path, "image-classification")
    _edit(run, "state.json", lambda state: state.pop("training_frameworks"))
    _edit(run, "evaluation.json", lambda report: report.pop("frameworks"))
    card = _card_of(cli, run, tmp_path)
    assert "- Training (AutoTrain's runner): not recorded for this run\n" in card.text
    assert "- Evaluation (the toolkit): not recorded for this run\n" in card.text


def test_runner_versions_are_read_from_its_site_packages(tmp_path):
    from dexter_autotrain.training.runner_env import RunnerEnv

    site = tmp_path / "lib" / "python3.11" / "site-packages"
    for name, version in (("transformers", "4.48.0"), ("autotrain_advanced", "0.8.36")):
        info = site / f"{name}-{version}.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    assert RunnerEnv(tmp_path).versions() == {
        "autotrain-advanced": "0.8.36",
        "transformers": "4.48.0",
    }


def test_license_other_shows_its_name_and_link(cli, tmp_path):
    run = _run_dir(tmp_path, "image-classification")
    link = "https://example.org/dexter-license"
    _edit(
        run,
        "spec.yaml",
        lambda spec: spec["card"].update(
            license="other", license_name="dexter-internal", license_link=link
        ),
    )
    card = _card_of(cli, run, tmp_path)
    assert (card.data.license, card.data.license_name, card.data.license_link) == (
        "other",
        "dexter-internal",
        link,
    )
    assert f"- **License:** other ([dexter-internal]({link}))\n" in card.text


def test_license_other_without_name_and_link_is_a_located_spec_error(cli, tmp_path):
    from spec_cases import VALID

    (tmp_path / "job.yaml").write_text(VALID + "card:\n  license: other\n")
    result = cli("validate", "job.yaml", cwd=tmp_path)
    assert result.code == 2
    assert result.stderr.splitlines() == [
        "job.yaml:11:3: card.license: `other` needs `card.license_name` and `card.license_link` "
        "(add `license_name: <short id>` and `license_link: <URL, or LICENSE.md in the model "
        "repo>`, or use a standard license id)"
    ]


def _benchmark_run(tmp_path: Path) -> Path:
    """The NER fixture (MasakhaNER's own train/dev/test files) with nothing that changes its
    test split: no row limit, no label map, no repaired tags."""
    run = _run_dir(tmp_path, "token-classification")
    _edit(run, "spec.yaml", lambda spec: spec["data"].update(max_rows_per_split=None, label_map={}))
    _edit(
        run,
        "data-report.json",
        lambda report: report.update(
            warnings=[w for w in report["warnings"] if not w.startswith("data.fix_iob2")]
        ),
    )
    return run


def test_eval_results_are_written_for_the_datasets_own_unchanged_test_split(cli, tmp_path):
    run = _benchmark_run(tmp_path)
    card = _card_of(cli, run, tmp_path)
    entries = parse_eval_result_entries(
        yaml.safe_load((run / ".eval_results" / "actors.yaml").read_text())
    )
    assert {entry.dataset_id for entry in entries} == {"masakhane/masakhaner2"}
    assert "These results are written to `.eval_results/` as scores on `masakhane/masakhaner2`" in (
        card.text
    )
    assert NOT_WRITTEN not in card.text


@pytest.mark.parametrize(
    ("name", "change", "reason"),
    [
        (
            "spec.yaml",
            lambda spec: spec["data"].update(max_rows_per_split=100),
            "`data.max_rows_per_split: 100` sampled the test split.",
        ),
        (
            "spec.yaml",
            lambda spec: spec["data"].update(label_map={"B-DATE": "O"}),
            "`data.label_map` renames labels in the test split.",
        ),
        (
            "data-report.json",
            lambda report: report["warnings"].append("data.fix_iob2: 3 stray I- tags turned"),
            "`data.fix_iob2` repaired tags, possibly in the test split.",
        ),
        (
            "data-report.json",
            lambda report: report["inputs"][0].update(split=None),
            "the test split was cut from the data by `data.split` ratios, not given as test.",
        ),
        (
            "evaluation.json",
            lambda report: report.update(split="validation"),
            "they come from the `validation` split, not the dataset's test split.",
        ),
        (
            "state.json",
            lambda state: state.update(smoke=True),
            "this is a smoke run, whose numbers say nothing about a real model.",
        ),
        (
            "spec.yaml",
            lambda spec: spec["card"].update(benchmark=None),
            "the job names no Hub benchmark dataset (`card.benchmark`) to report them on.",
        ),
    ],
    ids=["row-limit", "label-map", "repaired-tags", "ratio-split", "validation", "smoke", "no-id"],
)
def test_eval_results_are_skipped_with_the_reason_in_the_card(cli, tmp_path, name, change, reason):
    run = _benchmark_run(tmp_path)
    _edit(run, name, change)
    card = _card_of(cli, run, tmp_path)
    assert not (run / ".eval_results").exists()
    assert f"{NOT_WRITTEN} (the Hub's benchmark results): {reason}\n" in card.text


@pytest.mark.parametrize("task", TASKS)
def test_the_card_renders_as_written(task):
    """The golden cards through a CommonMark + GFM-tables renderer: every table keeps its
    rows (a blank line or a stray pipe in a template would cut one short)."""
    from card_rendering import rendering_problems

    card = (GOLDEN / f"{task}.md").read_text()
    assert rendering_problems(card) == []
    cut = card.replace("|---|---|---|---|\n", "|---|---|---|---|\n\n", 1)  # a blank line
    assert rendering_problems(cut) != []  # inside a table orphans its rows: the check sees it
