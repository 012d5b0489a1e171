"""`predict --engine ray` on a local Ray instance sized for this machine (a small object
store): the same part files, labels and rejects as the local engine, for texts and for
images; a finished output is recognised and not scored again."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import run_cli

from dexter_autotrain import predict
from dexter_autotrain.corpus.parts import read_provenance

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module", autouse=True)
def ray_stopped_after():
    yield
    ray.shutdown()


def _rows(folder: Path) -> list[dict]:
    parts = sorted(folder.glob("part-*.parquet"))
    return [row for part in parts for row in pq.read_table(part).to_pylist()]


def _rejects(folder: Path) -> list[dict]:
    files = sorted(folder.glob("rejects-*.jsonl"))
    return [json.loads(line) for path in files for line in path.open()]


def test_ray_scores_texts_as_the_local_engine_does(trained, tmp_path):
    run = trained.copy("sentiment", tmp_path)
    texts = [json.loads(line)["text"] for line in (run / "data" / "test.jsonl").open()]
    corpus = tmp_path / "corpus.jsonl"
    lines = [
        json.dumps({"id": f"t{i}", "text": "" if i % 40 == 39 else texts[i % len(texts)]})
        for i in range(300)
    ]
    corpus.write_text("\n".join([*lines[:150], "{not json", *lines[150:]]) + "\n")
    local = predict(str(run), corpus, tmp_path / "local", id_columns=["id"], shard_rows=100)
    on_ray = predict(str(run), corpus, tmp_path / "ray", id_columns=["id"], engine="ray")
    counts = (on_ray.rows, on_ray.scored, on_ray.rejected)
    assert counts == (local.rows, local.scored, local.rejected) == (301, 293, 8)
    by_ray, by_local = _rows(tmp_path / "ray"), _rows(tmp_path / "local")
    assert [(r["id"], r["label"]) for r in by_ray] == [(r["id"], r["label"]) for r in by_local]
    assert [r["score"] for r in by_ray] == pytest.approx([r["score"] for r in by_local], abs=1e-5)
    bad_line = (None, "the JSONL line '{not json': not a JSON object")
    assert [(r["id"], r["reason"]) for r in _rejects(tmp_path / "ray")] == [
        bad_line if r["id"] is None else (r["id"], r["reason"])
        for r in _rejects(tmp_path / "local")
    ]
    fingerprints = {
        read_provenance(part)["input_fingerprint"]
        for part in [tmp_path / "ray" / on_ray.parts[0], tmp_path / "local" / "part-00000.parquet"]
    }
    assert len(fingerprints) == 1
    command = ["predict", run, "--input", corpus, "--output", tmp_path / "ray", "--id-column", "id"]
    again = run_cli(*command, "--engine", "ray", "--json")  # finished: recognised, not redone
    assert again.code == 0 and json.loads(again.stdout)["resumed"] == on_ray.shards
    local_engine = run_cli(*command)
    assert local_engine.code == 2 and "holds a prediction with another" in local_engine.stderr


def test_ray_scores_an_image_folder(trained, tmp_path):
    run = trained.copy("memes", tmp_path)
    images = run / "data" / "test"
    (images / "broken.png").write_text("not an image")
    local = predict(str(run), images, tmp_path / "local")
    on_ray = predict(str(run), images, tmp_path / "ray", engine="ray", replicas=2)
    assert (on_ray.scored, on_ray.rejected) == (local.scored, local.rejected) == (local.rows - 1, 1)
    assert [(r["image"], r["label"]) for r in _rows(tmp_path / "ray")] == [
        (r["image"], r["label"]) for r in _rows(tmp_path / "local")
    ]
    assert _rejects(tmp_path / "ray") == [
        {"image": "broken.png", "reason": _rejects(tmp_path / "local")[0]["reason"]}
    ]
