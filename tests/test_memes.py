"""Meme detection as shipped: the synthetic sample and its generator, `jobs/memes.yaml` on it,
the image baseline, the misclassified contact sheet and slices by an image-csv column."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import JOBS, REPO

from dexter_autotrain.evaluation.baseline import Majority
from dexter_autotrain.evaluation.metrics import classification_metrics

IN_PROCESS = True  # `dexter-auto` runs in this process (tests/inprocess.py): the tests read exit
# codes, output and files; Hub settings are applied to the imported client for each call.

SAMPLE = REPO / "data" / "samples" / "memes"
GENERATOR = SAMPLE / "make_sample.py"
CLASSES = ["meme", "photo", "screenshot"]
MAX_SAMPLE_BYTES = 3_000_000


def _generate(out: Path, seed: int) -> dict[str, str]:
    subprocess.run(
        [sys.executable, str(GENERATOR), "--seed", str(seed), "--out", str(out)],
        check=True,
        capture_output=True,
    )
    return {
        str(path.relative_to(out)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(out.rglob("*"))
        if path.is_file()
    }


def test_the_generator_is_deterministic_and_the_sample_small(tmp_path):
    first = _generate(tmp_path / "a", 7)
    assert _generate(tmp_path / "b", 7) == first
    other = _generate(tmp_path / "c", 8)
    assert other.keys() == first.keys() and other != first
    shipped = sorted(p for p in SAMPLE.rglob("*.jpg"))
    assert [str(p.relative_to(SAMPLE)) for p in shipped] == sorted(
        name for name in first if name.endswith(".jpg")
    )
    assert (SAMPLE / "images.csv").read_text() == (tmp_path / "a" / "images.csv").read_text()
    for label in CLASSES:
        assert len(list((SAMPLE / label).glob("*.jpg"))) == 60
    assert sum(p.stat().st_size for p in SAMPLE.rglob("*") if p.is_file()) < MAX_SAMPLE_BYTES


def test_data_check_of_the_memes_job_reads_the_sample(cli, monkeypatch):
    monkeypatch.delenv("DEXTER_MEMES", raising=False)  # as on a fresh clone
    result = cli("data", "check", JOBS / "memes.yaml")
    assert result.code == 0, result.stderr
    assert "meme 48, photo 48, screenshot 48" in result.stdout
    assert "data/samples/memes" in result.stdout


def _memes_job_reading(folder: Path, source: str) -> Path:
    """jobs/memes.yaml with another `data.sources`, written into `folder`."""
    text = (JOBS / "memes.yaml").read_text()
    start = text.index("  sources:\n")
    text = text[:start] + source + text[text.index("  labels:") :]
    (folder / "_base.yaml").write_text((JOBS / "_base.yaml").read_text())
    (folder / "memes.yaml").write_text(text)
    return folder / "memes.yaml"


def _smoke(cli, tmp_path: Path, spec: Path) -> Path:
    """A smoke submit trained locally (the job names HF Jobs, which needs a token)."""
    result = cli(
        "submit", "--smoke", spec, "--runs-dir", tmp_path / "runs",
        "--json", cwd=tmp_path,
    )  # fmt: skip
    assert result.code == 0, result.stderr[-3000:]
    state = json.loads(result.stdout)
    assert state["completed"] == ["prepare", "train", "evaluate", "card"]
    return Path(state["run"])


def _majority_f1(run: Path) -> float:
    rows = [json.loads(line) for line in (run / "data" / "train.jsonl").open()]
    test = [json.loads(line)["label"] for line in (run / "data" / "test.jsonl").open()]
    guesses = Majority([row["label"] for row in rows]).predict(test)
    return classification_metrics(test, guesses, CLASSES)["f1_macro"]


def test_a_smoke_run_of_the_memes_job_shows_its_mistakes_and_beats_majority(trained, tmp_path):
    from PIL import Image

    smoke = trained.get("memes")  # jobs/memes.yaml on the sample, DEXTER_MEMES unset
    assert smoke.state["completed"] == ["prepare", "train", "evaluate", "card"]
    run = smoke.run
    report = json.loads((run / "evaluation.json").read_text())
    baseline = report["baseline"]
    assert baseline["name"].startswith("logistic regression")
    assert baseline["metrics"]["f1_macro"] > _majority_f1(run) + 0.2
    assert set(report["per_class"]) == set(CLASSES)
    assert report["calibration"] is not None and report["confusion_matrix"] is not None
    mistakes = report["misclassified"]
    assert 0 < len(mistakes["shown"]) <= min(12, mistakes["wrong"])
    confidences = [m["confidence"] for m in mistakes["shown"]]
    assert confidences == sorted(confidences, reverse=True)
    with Image.open(run / "plots" / "misclassified.png") as sheet:
        assert sheet.format == "PNG" and sheet.width >= 128 and sheet.height >= 162
    markdown = (run / "evaluation.md").read_text()
    for needle in ("## Per class", "## Misclassified examples", "plots/misclassified.png"):
        assert needle in markdown
    card = (run / "README.md").read_text()
    assert "![misclassified examples](plots/misclassified.png)" in card
    assert "synthetic sample" in " ".join(card.split())


@pytest.mark.training
def test_an_image_csv_column_slices_the_evaluation(cli, tmp_path):
    column = "platform"
    source = (
        f"  sources:\n    - path: {SAMPLE / 'images.csv'}\n      format: image-csv\n"
        "  columns: {image: image, label: label}\n"
    )
    spec = _memes_job_reading(tmp_path, source)
    spec.write_text(spec.read_text().replace("  slices: []\n", f"  slices: [{column}]\n"))
    run = _smoke(cli, tmp_path, spec)
    report = json.loads((run / "evaluation.json").read_text())
    groups = report["slices"][column]
    assert set(groups) == {"facebook", "whatsapp", "x"}
    assert sum(group["count"] for group in groups.values()) == report["examples"]
    assert f"## By {column}" in (run / "evaluation.md").read_text()
    assert f"### By {column}" in (run / "README.md").read_text()
