"""Text from several columns (`data.columns.text: [headline, text]`): joined with a blank
line in the spec's order, through data preparation (the news job on MasakhaNEWS), and in
`serve`, which takes the joined string or an object with the columns."""

from __future__ import annotations

import csv
import json

import pytest
import yaml
from conftest import SHARED_DATA

from dexter_autotrain.serve.model import resolve_model
from dexter_autotrain.serve.protocol import JSON, BadRequest, parse_request
from dexter_autotrain.tasks.text_join import TEXT_SEPARATOR

IN_PROCESS = True  # `dexter-auto` runs in this process (tests/inprocess.py): the tests read exit
# codes, output and files; Hub settings are applied to the imported client for each call.


def test_the_news_job_joins_headline_and_text(cli, tmp_path):
    result = cli("data", "check", "jobs/news.yaml", "-o", tmp_path, "--json")
    assert result.code == 0, result.stderr
    with (SHARED_DATA / "news" / "pcm" / "train.tsv").open(encoding="utf-8", newline="") as file:
        first = next(csv.DictReader(file, delimiter="\t"))
    expected = f"{first['headline'].strip()}{TEXT_SEPARATOR}{first['text'].strip()}"
    lines = (tmp_path / "data" / "train.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines]
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


def test_a_carded_run_says_how_its_text_is_joined(cli, trained, tmp_path):
    run = trained.copy("narrative", tmp_path)
    spec = yaml.safe_load((run / "spec.yaml").read_text())
    spec["data"]["columns"]["text"] = ["headline", "text"]
    (run / "spec.yaml").write_text(yaml.safe_dump(spec))
    carded = cli("card", run, "--runs-dir", tmp_path / "runs", "--cards-dir", tmp_path / "cards")
    assert carded.code == 0, carded.stderr
    assert "reads `headline`, `text` joined, in that order" in (run / "README.md").read_text()
    served = resolve_model(str(run), tmp_path / "runs", lambda line: None)
    assert served.text_columns == ("headline", "text")  # what `serve` joins requests by


def test_serve_joins_an_object_with_the_models_columns():
    """A request may send the joined string, or an object with the model's text columns,
    joined as training joined them (stripped, empty ones left out)."""
    columns = ("headline", "text")
    joined = parse_request(
        "text-classification", json.dumps({"inputs": f"Na wa{TEXT_SEPARATOR}o"}).encode(), JSON
    )
    parts = {"inputs": [{"headline": " Na wa ", "text": "o"}, {"text": "o"}]}
    as_objects = parse_request("text-classification", json.dumps(parts).encode(), JSON, columns)
    assert as_objects.inputs == [joined.inputs[0], "o"] and not as_objects.single
    with pytest.raises(BadRequest, match=r"inputs: unknown field `title` \(this model reads"):
        parse_request("text-classification", b'{"inputs": {"title": "x"}}', JSON, columns)
    with pytest.raises(BadRequest, match="must be a string, not dict"):  # a one-column model
        parse_request("text-classification", b'{"inputs": {"text": "x"}}', JSON)
