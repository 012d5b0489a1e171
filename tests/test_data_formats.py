"""Every source format reads into the same prepared layout."""

from __future__ import annotations

import json

from dexter_autotrain.data import prepare_data

HEAD = "task: {task}\nbase_model: {{path: .}}\ndata:\n  sources:\n"
LOW = "  min_examples_per_label: 1\n  min_examples_per_language: 1\n"


def _rows(count: int) -> list[dict]:
    return [
        {"text": f"post {i} about {label}", "label": label, "lang": "pcm"}
        for i in range(count)
        for label in ("politics", "sports")
    ]


def test_jsonl_with_a_language_column(write_job, tmp_path):
    with (tmp_path / "posts.jsonl").open("w") as handle:
        handle.writelines(json.dumps(row) + "\n" for row in _rows(20))
    loaded = write_job(
        HEAD.format(task="text-classification")
        + "    - path: posts.jsonl\n  columns: {language: lang}\n"
    )
    report = prepare_data(loaded, tmp_path / "out")
    assert sum(s["rows"] for s in report.splits.values()) == 40
    assert set(report.splits["train"]["by_language"]) == {"pcm"}
    first = json.loads((tmp_path / "out/train.jsonl").open().readline())
    assert first["language"] == "pcm" and first["label"] in {"politics", "sports"}


def test_parquet(write_job, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = _rows(10)
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "train.parquet")
    pq.write_table(pa.Table.from_pylist(rows[:6]), tmp_path / "dev.parquet")
    loaded = write_job(
        HEAD.format(task="text-classification") + "    - path: train.parquet\n      split: train\n"
        "    - path: dev.parquet\n      split: validation\n" + LOW
    )
    report = prepare_data(loaded)
    assert (report.splits["train"]["rows"], report.splits["validation"]["rows"]) == (20, 6)


def test_saved_datasets_dataset_with_class_labels(write_job, tmp_path):
    import datasets

    features = datasets.Features(
        {
            "tokens": datasets.Sequence(datasets.Value("string")),
            "ner_tags": datasets.Sequence(datasets.ClassLabel(names=["O", "B-PER", "I-PER"])),
        }
    )
    rows = {"tokens": [["Bola", "Tinubu", "spoke"]] * 12, "ner_tags": [[1, 2, 0]] * 12}
    split = datasets.Dataset.from_dict(rows, features=features)
    datasets.DatasetDict({"train": split, "validation": split.select(range(3))}).save_to_disk(
        str(tmp_path / "saved")
    )
    loaded = write_job(
        HEAD.format(task="token-classification")
        + "    - path: saved\n      format: hf-dataset\n      language: yor\n"
        "  columns: {tags: ner_tags}\n" + LOW
    )
    report = prepare_data(loaded, tmp_path / "out")
    assert report.splits["train"]["by_language"]["yor"] == {"rows": 12, "labels": {"PER": 12}}
    first = json.loads((tmp_path / "out/train.jsonl").open().readline())
    assert first == {
        "tokens": ["Bola", "Tinubu", "spoke"],
        "tags": ["B-PER", "I-PER", "O"],
        "language": "yor",
    }


def _images(folder, count: int) -> None:
    from PIL import Image

    for label, colour in (("meme", (250, 0, 0)), ("photo", (0, 0, 250))):
        (folder / label).mkdir(parents=True)
        for i in range(count):
            Image.new("RGB", (8, 8), colour).save(folder / label / f"{i}.png")


def test_image_folder(write_job, tmp_path):
    _images(tmp_path / "imgs", 25)
    loaded = write_job(
        HEAD.format(task="image-classification") + "    - path: imgs\n      format: imagefolder\n"
        "  split: {validation: 0.2, test: 0.2, stratify_by: [label]}\n" + LOW
    )
    report = prepare_data(loaded, tmp_path / "out")
    assert [report.splits[s]["rows"] for s in ("train", "validation", "test")] == [30, 10, 10]
    assert len(list((tmp_path / "out/train/meme").iterdir())) == 15
    assert report.overlaps["test_in_train"]["exact"] == 10  # every image of a class is identical


def test_image_csv(write_job, tmp_path):
    _images(tmp_path / "imgs", 15)
    lines = ["path,label"] + [
        f"imgs/{label}/{i}.png,{label}" for label in ("meme", "photo") for i in range(15)
    ]
    (tmp_path / "images.csv").write_text("\n".join(lines) + "\n")
    loaded = write_job(
        HEAD.format(task="image-classification")
        + "    - path: images.csv\n      format: image-csv\n"
        "  columns: {image: path}\n"
        "  split: {validation: 0.34, test: 0.0, stratify_by: [label]}\n" + LOW
    )
    report = prepare_data(loaded)
    assert report.splits["train"]["by_language"]["und"]["labels"] == {"meme": 10, "photo": 10}


def test_csv_quoting_round_trip(write_job, tmp_path):
    text = 'He said "hello",\nthen left'
    quoted = text.replace('"', '""')
    (tmp_path / "train.csv").write_text(
        "text,label\n" + "".join(f'"{quoted} {i}",a\n"plain {i}",b\n' for i in range(10))
    )
    loaded = write_job(
        HEAD.format(task="text-classification") + "    - path: train.csv\n"
        "  split: {validation: 0.2, test: 0.0}\n" + LOW
    )
    prepare_data(loaded, tmp_path / "out")
    texts = [json.loads(line)["text"] for line in (tmp_path / "out/train.jsonl").open()]
    assert f"{text} 0" in texts


def test_empty_texts_are_dropped_with_a_warning(cli, tmp_path):
    rows = "".join(f"post {i}\t{label}\n" for i in range(12) for label in ("a", "b"))
    (tmp_path / "train.tsv").write_text("text\tlabel\n" + rows + " \ta\n\tb\n")
    (tmp_path / "job.yaml").write_text(
        HEAD.format(task="text-classification") + "    - path: train.tsv\n"
        "  split: {validation: 0.2, test: 0.0}\n" + LOW
    )
    result = cli("data", "check", "job.yaml", "--json", cwd=tmp_path)
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    assert sum(split["rows"] for split in report["splits"].values()) == 24
    assert report["warnings"][0] == (
        "2 examples with empty input dropped (train.tsv:26, train.tsv:27) "
        "(remove or fill those rows)"
    )


def test_slice_columns_are_carried_to_the_prepared_data(write_job, tmp_path):
    rows = [
        {"text": f"post {i}", "label": label, "platform": ("x", "facebook")[i % 2]}
        for i in range(20)
        for label in ("a", "b")
    ]
    with (tmp_path / "posts.jsonl").open("w") as handle:
        handle.writelines(json.dumps(row) + "\n" for row in rows)
    loaded = write_job(
        HEAD.format(task="text-classification")
        + "    - path: posts.jsonl\n"
        + LOW
        + "evaluation:\n  slices: [language, platform]\n"
    )
    prepare_data(loaded, tmp_path / "out")
    first = json.loads((tmp_path / "out/test.jsonl").open().readline())
    assert set(first) == {"text", "label", "language", "platform"}


def test_a_slice_column_missing_from_the_data_is_an_error(cli, tmp_path):
    (tmp_path / "train.tsv").write_text("text\tlabel\n" + "x\ta\n" * 5)
    (tmp_path / "job.yaml").write_text(
        HEAD.format(task="text-classification") + "    - path: train.tsv\nevaluation:\n"
        "  slices: [platform]\n"
    )
    result = cli("data", "check", "job.yaml", cwd=tmp_path)
    assert result.code == 2
    assert result.stderr.strip() == (
        "train.tsv:1: column `platform` not found (columns: text, "
        "label) (set `evaluation.slices` to the right column name)"
    )
