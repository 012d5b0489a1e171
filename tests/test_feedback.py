"""`feedback import`: reviewed predictions (a `serve --log-predictions` file with corrected
labels, or a CSV) become a training source of the narrative job; leaked rows are refused."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from conftest import JOBS, REPO

SAMPLES = REPO / "data" / "samples" / "naijasenti"
IN_PROCESS = True  # the `cli` fixture runs dexter-auto in this process (conftest.py)


def _first_text(language: str, split: str) -> str:
    with (SAMPLES / language / f"{split}.tsv").open(encoding="utf-8") as file:
        return next(csv.DictReader(file, delimiter="\t"))["text"]


def _logged(text: str, label: str | None, language: str = "pcm") -> dict:
    """A row as `serve --log-predictions` writes it, with the reviewer's label added."""
    row = {
        "time": "2026-11-26T06:00:00.000+00:00",
        "model": "narrative",
        "revision": "0123456789abcdef0123",
        "task": "text-classification",
        "input": text,
        "parameters": {},
        "prediction": [{"label": "neutral", "score": 0.61}, {"label": "negative", "score": 0.3}],
        "language": language,
    }
    return row | ({"label": label} if label is not None else {})


def _write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
    return path


@pytest.fixture
def job(tmp_path: Path) -> Path:
    """jobs/narrative.yaml in its own folder (the repository feedback is written into)."""
    shutil.copy(JOBS / "_base.yaml", tmp_path)
    text = (
        (JOBS / "narrative.yaml").read_text().replace("../data/samples", str(REPO / "data/samples"))
    )
    (tmp_path / "narrative.yaml").write_text(text)
    return tmp_path / "narrative.yaml"


def _import(cli, job: Path, file: Path, *extra: str):
    out = job.parent / "data" / "feedback"
    return cli("feedback", "import", file, "--job", job, "--out-dir", out, *extra, cwd=job.parent)


def test_a_reviewed_prediction_log_becomes_a_training_source(cli, job, tmp_path):
    rows = [
        _logged("Na wa for this fuel price o, government no dey hear us at all", "negative"),
        _logged("Dem don share the palliative for we street, thank God", "positive"),
        _logged("Omo this traffic no go kill person", None),  # not reviewed
        _logged("NA WA for this fuel price o,  government no dey hear us at all @gov", "negative"),
        _logged(_first_text("pcm", "train"), "positive"),  # in training, as negative
        _logged("Gwamnati ta ce za a gyara hanyoyi a Kano", "neutral", "hau"),
    ]
    result = _import(cli, job, _write_jsonl(tmp_path / "reviewed.jsonl", rows), "--json")
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["read"], report["unreviewed"], report["imported"]) == (6, 1, 3)
    assert (report["duplicates_in_file"], report["already_in_train"]) == (1, 1)
    assert report["disagreeing_with_train"] == [5]
    assert report["labels"] == {"negative": 1, "neutral": 1, "positive": 1}
    assert report["languages"] == {"hau": 1, "pcm": 2}
    written = [Path(p) for p in report["written"]]
    assert [p.name.rsplit("-", 1)[1] for p in written] == ["hau.jsonl", "pcm.jsonl"]
    assert all(p.parent == job.parent / "data" / "feedback" / "narrative" for p in written)
    first = json.loads(written[1].read_text().splitlines()[0])
    assert first["text"].startswith("Na wa") and first["label"] == "negative"
    assert "reviewed.jsonl:1" in first["provenance"] and "predicted neutral" in first["provenance"]
    assert list(written[0].parent.glob("*-report.json"))

    before = json.loads(cli("data", "check", job, "--json").stdout)["splits"]["train"]["rows"]
    sources = "".join(f"    {line}\n" for line in report["spec_sources"].splitlines())
    text = job.read_text().replace("      format: tsv\n", "      format: tsv\n" + sources, 1)
    job.write_text(text)
    checked = cli("data", "check", job, "--json")
    assert checked.code == 0, checked.stdout + checked.stderr
    assert json.loads(checked.stdout)["splits"]["train"]["rows"] == before + 3


def test_a_leaked_row_refuses_the_whole_file(cli, job, tmp_path):
    leaked = "  " + _first_text("pcm", "test").upper() + " https://t.co/abc @someone"
    rows = [_logged("Na wa for this fuel price o", "negative"), _logged(leaked, "positive")]
    result = _import(cli, job, _write_jsonl(tmp_path / "reviewed.jsonl", rows))
    assert result.code == 2
    assert "reviewed.jsonl:2: leaked: this text is in the job's test split" in result.stderr
    assert "nothing was imported" in result.stderr
    assert not (job.parent / "data").exists()


def test_an_unknown_label_gets_a_did_you_mean(cli, job, tmp_path):
    file = _write_jsonl(tmp_path / "reviewed.jsonl", [_logged("E don happen again o", "negatve")])
    result = _import(cli, job, file, "--json")
    assert result.code == 2
    [problem] = json.loads(result.stdout)["problems"]
    assert problem["line"] == 1 and "negatve" in problem["message"]
    assert problem["hint"] == "did you mean `negative`?"
    assert not (job.parent / "data").exists()


def test_a_csv_of_corrections_with_a_default_language(cli, job, tmp_path):
    file = tmp_path / "corrections.csv"
    file.write_text(
        "text,label\nIna son wannan waka sosai,positive\nBan ji dadin labarin ba,negative\n"
    )
    result = _import(cli, job, file, "--language", "hau")
    assert result.code == 0, result.stderr
    assert "imported 2" in result.stdout and "language: hau" in result.stdout
    [written] = (job.parent / "data" / "feedback" / "narrative").glob("*-hau.jsonl")
    assert "corrections.csv:2" in json.loads(written.read_text().splitlines()[0])["provenance"]


def test_only_text_classification_jobs(cli, tmp_path):
    file = _write_jsonl(tmp_path / "reviewed.jsonl", [_logged("Tinubu", "B-PER")])
    result = cli("feedback", "import", file, "--job", JOBS / "actors.yaml")
    assert result.code == 2 and "text-classification" in result.stderr
