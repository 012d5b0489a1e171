"""`dexter-auto predict`: a corpus scored into Parquet part files with the labels `evaluate`
gives, resumed after a real kill with no id lost or doubled, rejects with their reasons,
NER entities at their character offsets, Parquet and globs as input, provenance."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import DEXTER_AUTO, SHARED_DATA
from inprocess import run_in_process as run_cli  # Hub settings applied for each call

from dexter_autotrain import iter_predictions, predict
from dexter_autotrain.corpus.parts import read_provenance

COPIES = 2
"""The test split written this many times over (with new ids): enough shards to kill in."""


@pytest.fixture(scope="module")
def sentiment(trained, tmp_path_factory):
    return trained.copy("sentiment", tmp_path_factory.mktemp("predict"))


def _jsonl(run: Path, folder: Path) -> tuple[Path, list[str]]:
    """The run's test split `COPIES` times with an `id` each, and an empty text every 50th
    row; the labels `evaluate` gave each row."""
    rows = [json.loads(line) for line in (run / "data" / "test.jsonl").open()]
    labels = [json.loads(line)["prediction"] for line in (run / "predictions.jsonl").open()]
    path = folder / "corpus.jsonl"
    with path.open("w") as file:
        for index in range(len(rows) * COPIES):
            text = "" if index % 50 == 49 else rows[index % len(rows)]["text"]
            file.write(json.dumps({"id": f"t{index}", "text": text}) + "\n")
    return path, labels


def _parts(folder: Path) -> list[dict]:
    return [
        row
        for part in sorted(folder.glob("part-*.parquet"))
        for row in pq.read_table(part).to_pylist()
    ]


def test_predict_resumes_after_a_kill_with_evaluates_labels(sentiment, tmp_path):
    corpus, labels = _jsonl(sentiment, tmp_path)
    out = tmp_path / "scored"
    command = [str(DEXTER_AUTO), "predict", str(sentiment), "--input", str(corpus),
               "--output", str(out), "--id-column", "id", "--shard-rows", "20"]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    manifest = out / "_manifest.json"
    while process.poll() is None and not (
        manifest.is_file() and len(json.loads(manifest.read_text())["shards"]) >= 2
    ):
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    done_before = len(json.loads(manifest.read_text())["shards"])
    total = -(-len(labels) * COPIES // 20)
    assert 2 <= done_before < total, "the kill landed after the run finished"
    again = run_cli(*command[1:], "--json")  # the rest in this process (tests/inprocess.py)
    assert again.code == 0, again.stderr
    summary = json.loads(again.stdout)
    assert summary["resumed"] == done_before and summary["shards"] == total
    assert summary["rows"] == len(labels) * COPIES and summary["rejected"] == summary["rows"] // 50
    rows = _parts(out)
    ids = [row["id"] for row in rows]
    expected = [f"t{i}" for i in range(len(labels) * COPIES) if i % 50 != 49]
    assert ids == expected  # every id once, in input order: nothing lost, nothing doubled
    assert [row["label"] for row in rows] == [labels[int(i[1:]) % len(labels)] for i in ids]
    rejects = [
        json.loads(line) for path in sorted(out.glob("rejects-*.jsonl")) for line in path.open()
    ]
    assert {r["reason"] for r in rejects} == {"empty text"} and rejects[0]["id"] == "t49"
    assert rejects[0]["row"] == 49
    provenance = read_provenance(out / "part-00000.parquet")
    assert provenance["model"] == "sentiment" and provenance["toolkit"].startswith(
        "dexter-autotrain"
    )
    changed = run_cli(*command[1:-2], "--shard-rows", "21")
    assert changed.code == 2 and "holds a prediction with another shard_rows" in changed.stderr


def test_parquet_globs_top_k_and_the_iterator(sentiment, tmp_path):
    rows = [json.loads(line) for line in (sentiment / "data" / "test.jsonl").open()][:30]
    for half in (0, 1):
        part = rows[half * 15 : half * 15 + 15]
        pq.write_table(
            pa.Table.from_pylist([{"n": i, "body": r["text"]} for i, r in enumerate(part)]),
            tmp_path / f"in-{half}.parquet",
        )
    out = tmp_path / "out"
    summary = predict(
        str(sentiment), tmp_path / "in-*.parquet", out, text_columns=["body"],
        id_columns=["n"], top_k=3,
    )  # fmt: skip
    assert (summary.rows, summary.scored, summary.shards) == (30, 30, 1)
    scored = _parts(out)
    assert len(scored) == 30 and all(len(row["top_k"]) == 3 for row in scored)
    assert all(row["top_k"][0]["label"] == row["label"] for row in scored)
    streamed = list(
        iter_predictions(
            str(sentiment), tmp_path / "in-*.parquet", text_columns=["body"], id_columns=["n"]
        )
    )
    assert [(r["n"], r["label"]) for r in streamed] == [(r["n"], r["label"]) for r in scored]


def test_ner_entities_carry_character_offsets(trained, tmp_path):
    """The smoke NER model tags every word O, so its classifier is biased here to tag
    every word B-PER: each word it reads is then an entity, at its own offsets."""
    from safetensors.torch import load_file, save_file

    run = trained.copy("ner", tmp_path)
    model = run / "ner"
    tensors = load_file(model / "model.safetensors")
    person = json.loads((model / "config.json").read_text())["label2id"]["B-PER"]
    tensors["classifier.bias"][person] += 100.0
    save_file(tensors, model / "model.safetensors", metadata={"format": "pt"})
    sentences = [json.loads(line)["tokens"] for line in (run / "data" / "test.jsonl").open()][:20]
    corpus = tmp_path / "news.jsonl"
    lines = (json.dumps({"id": i, "text": " ".join(t)}) for i, t in enumerate(sentences))
    corpus.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    assert predict(str(run), corpus, out, id_columns=["id"]).scored == 20
    texts = {i: " ".join(t) for i, t in enumerate(sentences)}
    rows = _parts(out)
    assert [row["id"] for row in rows] == list(range(20))
    for row in rows:
        words = [(e["word"], texts[row["id"]][e["start"] : e["end"]]) for e in row["entities"]]
        tagged = [word for word, _ in words]  # every word the model reads (64 tokens), in order
        assert tagged and tagged == sentences[row["id"]][: len(tagged)]
        assert all(word == at_offsets for word, at_offsets in words)
        assert {e["entity_group"] for e in row["entities"]} == {"PER"}


def test_bad_input_is_one_line_and_exit_2(sentiment, tmp_path):
    missing = run_cli(
        "predict", sentiment, "--input", tmp_path / "nope.tsv", "--output", tmp_path / "o"
    )
    assert missing.code == 2 and "no such file" in missing.stderr
    assert not (tmp_path / "o").exists()


def test_images_from_a_folder_and_an_image_csv_get_evaluates_labels(trained, tmp_path):
    run = trained.copy("memes", tmp_path)
    data = run / "data"
    rows = [json.loads(line) for line in (data / "test.jsonl").open()]
    labels = {
        r["image"]: json.loads(p)["prediction"]
        for r, p in zip(rows, (run / "predictions.jsonl").open(), strict=True)
    }
    (data / "test" / "broken.png").write_text("not an image")
    by_folder = predict(str(run), data / "test", tmp_path / "folder")
    assert (by_folder.scored, by_folder.rejected) == (len(rows), 1)
    scored = _parts(tmp_path / "folder")
    assert {r["image"]: r["label"] for r in scored} == {
        image.removeprefix("test/"): label for image, label in labels.items()
    }
    csv = data / "images.csv"
    lines = [f"m{i},{r['image']}" for i, r in enumerate(rows)]
    csv.write_text("\n".join(["id,image", *lines, "x1,../state.json", "x2,test/gone.png"]) + "\n")
    result = run_cli(
        "predict", run, "--input", csv, "--output", tmp_path / "csv", "--id-column", "id", "--json"
    )
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["rejected"] == 2
    assert [(r["id"], r["label"]) for r in _parts(tmp_path / "csv")] == [
        (f"m{i}", labels[r["image"]]) for i, r in enumerate(rows)
    ]
    rejects = [json.loads(line) for line in (tmp_path / "csv" / "rejects-00000.jsonl").open()]
    assert [(r["id"], r["reason"]) for r in rejects] == [
        ("x1", "the image path leaves the input's folder"),
        ("x2", "cannot read the image (No such file or directory)"),
    ]


def test_progress_gives_rows_per_second_and_eta_on_a_terminal_and_in_a_log():
    from io import StringIO

    from rich.console import Console

    from dexter_autotrain.cli.progress import RowsBar, RowsLines

    text = StringIO()
    lines = RowsLines(Console(file=text, width=200), every=0.0)
    lines.start(total=1000, done=200)
    time.sleep(0.05)
    lines.advance(400)
    shown = text.getvalue()
    assert shown.startswith("predict: 600 of 1,000 rows, ") and " rows/s, eta 0m0" in shown
    terminal = StringIO()
    bar = RowsBar(Console(file=terminal, width=120, force_terminal=True))
    bar.start(total=1000, done=0)
    for _ in range(3):
        time.sleep(0.05)
        bar.advance(100)
    bar.bar.refresh()
    drawn = terminal.getvalue()
    bar.close()
    assert "300/1000" in drawn and " rows/s" in drawn and "eta" in drawn


def test_a_hub_dataset_in_and_a_private_hub_dataset_out(sentiment, hub, tmp_path, monkeypatch):
    from huggingface_hub import HfApi, hf_hub_download

    api = HfApi()
    rows = [json.loads(line) for line in (sentiment / "data" / "test.jsonl").open()][:25]
    crawl = tmp_path / "day1.jsonl"
    crawl.write_text(
        "".join(json.dumps({"id": i, "text": r["text"]}) + "\n" for i, r in enumerate(rows))
    )
    api.create_repo("dexter-ng/crawl", repo_type="dataset")
    api.upload_file(
        path_or_fileobj=crawl,
        path_in_repo="2026/day1.jsonl",
        repo_id="dexter-ng/crawl",
        repo_type="dataset",
    )
    first = api.dataset_info("dexter-ng/crawl").sha
    api.upload_file(
        path_or_fileobj=b"{}\n",
        path_in_repo="2026/day2.jsonl",
        repo_id="dexter-ng/crawl",
        repo_type="dataset",
    )
    source = f"hf://datasets/dexter-ng/crawl@{first}/2026/*.jsonl"
    refused = run_cli(
        "predict",
        sentiment,
        "--input",
        source,
        "--output",
        "hf://datasets/elsewhere/scored",
        "--runs-dir",
        tmp_path / "runs",
    )
    assert (
        refused.code == 2
        and "outside the namespaces the operator allows for predictions" in refused.stderr
    )
    assert not (tmp_path / "runs").exists()
    monkeypatch.setenv("DEXTER_ALLOWED_NAMESPACES", "dexter-ng")
    summary = predict(
        str(sentiment),
        source,
        "hf://datasets/dexter-ng/scored/day1",
        id_columns=["id"],
        runs_dir=tmp_path / "runs",
    )
    assert (summary.rows, summary.scored) == (25, 25)  # day2 came after the pinned commit
    assert api.dataset_info("dexter-ng/scored").private
    files = api.list_repo_files("dexter-ng/scored", repo_type="dataset", revision=summary.commit)
    assert {"day1/part-00000.parquet", "day1/_manifest.json"} <= set(files)
    part = Path(
        hf_hub_download(
            "dexter-ng/scored",
            "day1/part-00000.parquet",
            repo_type="dataset",
            revision=summary.commit,
        )
    )
    local = list(iter_predictions(str(sentiment), crawl, id_columns=["id"]))
    assert pq.read_table(part).to_pylist() == [
        {"id": r["id"], "label": r["label"], "score": pytest.approx(r["score"])} for r in local
    ]
    assert read_provenance(part)["input"] == f"hf://datasets/dexter-ng/crawl@{first}/2026/*.jsonl"


def test_a_shared_tsv_and_a_row_range(sentiment, tmp_path):
    """Real data as shipped beside the repository: the Hausa test split's TSV, rows 100 to
    250 only, its `id` column passed through."""
    tsv = SHARED_DATA / "sentiment" / "hau" / "test.tsv"
    result = run_cli(
        "predict", sentiment, "--input", tsv, "--output", tmp_path / "out", "--id-column", "id",
        "--rows", "100:250", "--json",
    )  # fmt: skip
    assert result.code == 0, result.stderr
    assert json.loads(result.stdout)["rows"] == 150
    streamed = list(iter_predictions(str(sentiment), tsv, id_columns=["id"]))[100:250]
    assert [(r["id"], r["label"]) for r in _parts(tmp_path / "out")] == [
        (r["id"], r["label"]) for r in streamed
    ]
    assert streamed[0]["id"] == "ha_test_00101"
