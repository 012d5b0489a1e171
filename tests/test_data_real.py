"""Data preparation on the real shared data: counts, leakage, splits, balancing, outputs."""

from __future__ import annotations

import json

import pytest
from conftest import SHARED_DATA

from dexter_autotrain.data import prepare_data
from dexter_autotrain.data.readers import read_source
from dexter_autotrain.data.report import describe_split
from dexter_autotrain.data.sources import resolve_sources

pytestmark = pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="../shared/data is absent")

# From ../shared/data/README.md: sentences, tokens, PER, ORG, LOC, DATE mentions.
NER_TABLE = {
    ("hau", "train"): (5716, 153238, 3494, 1963, 2966, 1435),
    ("hau", "validation"): (816, 21537, 418, 229, 340, 175),
    ("hau", "test"): (1633, 44848, 1194, 1187, 970, 757),
    ("ibo", "train"): (7634, 238783, 3422, 1460, 3835, 1005),
    ("ibo", "validation"): (1090, 33510, 376, 163, 480, 101),
    ("ibo", "test"): (2181, 71802, 1051, 432, 1400, 358),
    ("yor", "train"): (6876, 175835, 3686, 2313, 3889, 1702),
    ("yor", "validation"): (983, 22787, 373, 197, 296, 129),
    ("yor", "test"): (1964, 45653, 766, 402, 528, 312),
    ("pcm", "train"): (5646, 142757, 1873, 2063, 2369, 1476),
    ("pcm", "validation"): (806, 21887, 275, 404, 413, 244),
}
# (positive, neutral, negative)
SENTIMENT_TABLE = {
    ("hau", "train"): (4687, 4912, 4573),
    ("hau", "validation"): (887, 896, 894),
    ("hau", "test"): (1755, 1789, 1759),
    ("ibo", "train"): (3084, 4508, 2600),
    ("ibo", "validation"): (560, 811, 470),
    ("ibo", "test"): (1118, 1621, 943),
    ("yor", "train"): (3542, 3108, 1872),
    ("yor", "validation"): (884, 763, 443),
    ("pcm", "train"): (1808, 72, 3241),
    ("pcm", "validation"): (447, 21, 813),
    ("pcm", "test"): (1397, 431, 2326),
}
NEWS_TABLE = {
    ("eng", "train"): 300,
    ("eng", "validation"): 472,
    ("eng", "test"): 948,
    ("hau", "train"): 350,
    ("hau", "validation"): 317,
    ("hau", "test"): 637,
    ("ibo", "train"): 1356,
    ("ibo", "validation"): 194,
    ("ibo", "test"): 390,
    ("pcm", "train"): 1060,
    ("pcm", "validation"): 152,
    ("pcm", "test"): 305,
    ("yor", "train"): 1433,
    ("yor", "validation"): 206,
}


def _spec(task: str, folder: str, languages: list[str], fmt: str, extra: str = "") -> str:
    return (
        f"task: {task}\nbase_model: {{path: .}}\nlanguages: [{', '.join(languages)}]\n"
        f"data:\n  sources:\n    - path: {SHARED_DATA}/{folder}/{{language}}\n"
        f"      format: {fmt}\n{extra}"
    )


def _read_all(loaded) -> dict[tuple[str, str], dict]:
    described = {}
    for source in resolve_sources(loaded.spec, loaded.path.parent):
        for split, examples in read_source(source, loaded.spec).items():
            described[(source.language, split)] = describe_split(examples, loaded.spec.task)
    return described


def test_ner_counts_match_the_published_tables(write_job):
    loaded = write_job(_spec("token-classification", "ner", ["hau", "ibo", "yor", "pcm"], "conll"))
    described = _read_all(loaded)
    assert set(described) == set(NER_TABLE)  # pcm has no test split
    for key, (sentences, tokens, per, org, loc, date) in NER_TABLE.items():
        record = described[key]
        labels = record["by_language"][key[0]]["labels"]
        assert (record["rows"], record["tokens"]) == (sentences, tokens), key
        assert labels == {"PER": per, "ORG": org, "LOC": loc, "DATE": date}, key


def test_sentiment_counts_match_the_published_tables(write_job):
    loaded = write_job(
        _spec("text-classification", "sentiment", ["hau", "ibo", "yor", "pcm"], "tsv")
    )
    described = _read_all(loaded)
    assert set(described) == set(SENTIMENT_TABLE)
    for key, (positive, neutral, negative) in SENTIMENT_TABLE.items():
        labels = described[key]["by_language"][key[0]]["labels"]
        assert labels == {"positive": positive, "neutral": neutral, "negative": negative}, key


def test_news_tsv_with_quoted_multiline_fields(write_job):
    loaded = write_job(
        _spec("text-classification", "news", ["eng", "hau", "ibo", "pcm", "yor"], "tsv")
    )
    described = _read_all(loaded)
    assert {key: record["rows"] for key, record in described.items()} == NEWS_TABLE
    assert described[("eng", "validation")]["by_language"]["eng"]["labels"] == {
        "business": 80,
        "entertainment": 75,
        "health": 74,
        "politics": 82,
        "sports": 100,
        "technology": 61,
    }
    eng_dev = next(
        s
        for s in resolve_sources(loaded.spec, loaded.path.parent)
        if s.language == "eng" and s.split == "validation"
    )
    texts = read_source(eng_dev, loaded.spec)["validation"].inputs
    assert any("\n" in text for text in texts)  # article bodies kept their newlines


@pytest.mark.parametrize(("language", "leaked"), [("hau", 197), ("ibo", 338)])
def test_ner_test_sentences_found_in_train(write_job, language, leaked):
    loaded = write_job(
        _spec("token-classification", "ner", [language], "conll", "  fix_iob2: true\n")
    )
    report = prepare_data(loaded)
    assert report.overlaps["test_in_train"]["exact"] == leaked
    assert report.overlaps["test_in_train"]["normalised"] >= leaked


def test_removing_leaked_rows_from_train(write_job):
    loaded = write_job(
        _spec(
            "token-classification",
            "ner",
            ["ibo"],
            "conll",
            "  fix_iob2: true\n  remove_leaked_from_train: true\n",
        )
    )
    report = prepare_data(loaded)
    assert report.removed_leaked_from_train >= 338 + 20
    assert report.splits["train"]["rows"] == 7634 - report.removed_leaked_from_train


def test_afrisenti_duplicates_and_leakage(write_job):
    loaded = write_job(_spec("text-classification", "sentiment", ["pcm", "hau"], "tsv"))
    report = prepare_data(loaded)
    by_language = report.overlaps["test_in_train"]["by_language"]
    assert by_language["pcm"]["exact"] == 926 and "hau" not in by_language
    assert report.overlaps["validation_in_train"]["by_language"]["hau"]["exact"] == 215
    assert report.duplicates_in_train == 512 + 0  # pcm train repeats itself; hau does not


def test_label_map_drops_dates(write_job):
    loaded = write_job(
        _spec(
            "token-classification",
            "ner",
            ["hau"],
            "conll",
            "  fix_iob2: true\n  label_map: {B-DATE: O, I-DATE: O}\n"
            "  labels: [O, B-PER, I-PER, B-ORG, I-ORG, B-LOC, I-LOC]\n",
        )
    )
    report = prepare_data(loaded)
    assert report.splits["train"]["by_language"]["hau"]["labels"] == {
        "LOC": 2966,
        "ORG": 1963,
        "PER": 3494,
    }
    assert any("stray I- tags turned into B- tags" in w for w in report.warnings)


def test_language_without_test_split_is_reported(write_job):
    loaded = write_job(_spec("text-classification", "sentiment", ["hau", "yor"], "tsv"))
    report = prepare_data(loaded)
    assert report.languages_without_test == ["yor"]
    assert any(w.startswith("language `yor` has no test examples") for w in report.warnings)


def test_stratified_split_is_seeded_and_proportional(write_job, tmp_path):
    text = (
        f"task: text-classification\nbase_model: {{path: .}}\ndata:\n  sources:\n"
        f"    - path: {SHARED_DATA}/sentiment/hau/train.tsv\n      language: hau\n"
        "  split: {validation: 0.1, test: 0.2, seed: SEED}\n"
    )
    first = prepare_data(write_job(text.replace("SEED", "1"), "a.yaml"))
    again = prepare_data(write_job(text.replace("SEED", "1"), "b.yaml"))
    other = prepare_data(write_job(text.replace("SEED", "2"), "c.yaml"))
    assert first.outputs == again.outputs and first.outputs != other.outputs
    test_labels = first.splits["test"]["by_language"]["hau"]["labels"]
    for label, count in {"positive": 4687, "neutral": 4912, "negative": 4573}.items():
        assert test_labels[label] == round(count * 0.2)
    assert sum(s["rows"] for s in first.splits.values()) == 14172


def test_upsampling_low_resource_languages(write_job):
    loaded = write_job(
        _spec("text-classification", "sentiment", ["hau", "pcm"], "tsv", "  upsample: {cap: 2.0}\n")
    )
    report = prepare_data(loaded)
    assert report.upsampled == {"hau": [14172, 14172], "pcm": [5121, 10242]}
    assert report.splits["train"]["rows"] == 14172 + 10242


def test_prepared_output_layout_and_fingerprints(cli, tmp_path):
    result = cli("data", "check", "jobs/narrative.yaml", "-o", tmp_path, "--json")
    assert result.code == 0, result.stderr
    report = json.loads(result.stdout)
    assert json.loads((tmp_path / "data-report.json").read_text()) == report
    rows = [json.loads(line) for line in (tmp_path / "data/train.jsonl").open()]
    assert len(rows) == 480 and set(rows[0]) == {"text", "label", "language"}
    assert [o["path"] for o in report["outputs"]] == [
        "data/train.jsonl",
        "data/validation.jsonl",
        "data/test.jsonl",
    ]
    import hashlib

    for output in report["outputs"]:
        digest = hashlib.sha256((tmp_path / output["path"]).read_bytes()).hexdigest()
        assert digest == output["sha256"]
    assert len(report["inputs"]) == 11 and all(len(i["sha256"]) == 64 for i in report["inputs"])
