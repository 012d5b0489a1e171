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
from huggingface_hub import ModelCard, parse_eval_result_entries

FIXTURES = REPO / "tests" / "fixtures" / "cards"
GOLDEN = REPO / "tests" / "golden" / "cards"
TASKS = ["text-classification", "token-classification", "image-classification"]


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
    assert {r.metric_type: r.metric_value for r in data.eval_results} == {
        k: round(v, 4) for k, v in evaluation["overall"]["metrics"].items()
    }
    assert {r.dataset_split for r in data.eval_results} == {evaluation["split"]}
    entries_file = run / ".eval_results" / f"{spec['name']}.yaml"
    if spec["card"]["datasets"]:
        entries = parse_eval_result_entries(yaml.safe_load(entries_file.read_text()))
        assert {e.dataset_id for e in entries} == {spec["card"]["datasets"][0]}
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
