"""Text from several columns (`data.columns.text: [headline, text]`): joined with a blank
line in the spec's order, through data preparation (the news job on MasakhaNEWS), and in
`serve`, which takes the joined string or an object with the columns."""

from __future__ import annotations

import csv
import json

import requests
import yaml
from conftest import SHARED_DATA

from dexter_autotrain.client import DexterClient, Endpoints
from dexter_autotrain.serve.launch import start_serve
from dexter_autotrain.tasks.text_join import TEXT_SEPARATOR


def test_the_news_job_joins_headline_and_text(cli, tmp_path):
    result = cli("data", "check", "jobs/news.yaml", "-o", tmp_path, "--json")
    assert result.code == 0, result.stderr
    with (SHARED_DATA / "news" / "pcm" / "train.tsv").open(encoding="utf-8", newline="") as file:
        first = next(csv.DictReader(file, delimiter="\t"))
    expected = f"{first['headline'].strip()}{TEXT_SEPARATOR}{first['text'].strip()}"
    rows = [json.loads(line) for line in (tmp_path / "data" / "train.jsonl").open()]
    assert expected in {row["text"] for row in rows if row["language"] == "pcm"}
    assert not any("headline" in row for row in rows)  # one text column, as AutoTrain takes
    rendered = cli("render", "jobs/news.yaml")
    assert rendered.code == 0 and "text_column: text" in rendered.stdout


def test_a_text_list_is_checked(cli, tmp_path):
    job = tmp_path / "job.yaml"
    job.write_text(
        "task: text-classification\nbase_model: {path: m}\n"
        "data:\n  sources: [{path: d.tsv}]\n  columns: {text: [headline]}\n"
    )
    one = cli("validate", job, "--no-data")
    assert one.code == 2 and "data.columns.text" in one.stderr
    job.write_text(
        "task: token-classification\nbase_model: {path: m}\n"
        "data:\n  sources: [{path: d.conll}]\n  columns: {text: [a, b]}\n"
    )
    tokens = cli("validate", job, "--no-data")
    assert (
        tokens.code == 2 and "data.columns.text: not used by token-classification" in tokens.stderr
    )


def test_serve_joins_an_object_with_the_models_columns(cli, trained, tmp_path):
    from huggingface_hub import InferenceClient

    run = trained.copy("narrative", tmp_path)
    spec = yaml.safe_load((run / "spec.yaml").read_text())
    spec["data"]["columns"]["text"] = ["headline", "text"]
    (run / "spec.yaml").write_text(yaml.safe_dump(spec))
    carded = cli("card", run, "--runs-dir", tmp_path / "runs", "--cards-dir", tmp_path / "cards")
    assert carded.code == 0, carded.stderr
    assert "reads `headline`, `text` joined, in that order" in (run / "README.md").read_text()
    served = start_serve(run)
    try:
        client = InferenceClient(base_url=served.url)
        joined = client.text_classification(f"Na wa{TEXT_SEPARATOR}Wetin dey happen for Lagos")
        parts = {"headline": " Na wa ", "text": "Wetin dey happen for Lagos"}
        reply = requests.post(served.url, json={"inputs": parts}, timeout=30)
        assert reply.status_code == 200, reply.text
        as_object = {answer["label"]: answer["score"] for answer in reply.json()[0]}  # nested
        assert as_object == {answer.label: answer.score for answer in joined}
        client_says = DexterClient(Endpoints(narratives=served.url)).classify_narratives([parts])
        assert client_says[0].label == max(joined, key=lambda answer: answer.score).label
        bad = requests.post(served.url, json={"inputs": {"title": "Na wa"}}, timeout=30)
        assert bad.status_code == 422 and "unknown field `title`" in bad.text
    finally:
        assert served.stop() == 0
