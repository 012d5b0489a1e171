"""AutoTrain 0.8.36 itself loads the prepared data of each task, inside the runner."""

from __future__ import annotations

import json
import subprocess

import pytest
from conftest import JOBS, SHARED_DATA

from dexter_autotrain.data import prepare_data
from dexter_autotrain.spec import load_spec
from dexter_autotrain.training.render import render_config
from dexter_autotrain.training.runner_env import default_runner

SCRIPT = JOBS.parent / "tests" / "runner_scripts" / "autotrain_loads_data.py"


def _autotrain_loads(run_dir, loaded) -> dict:
    runner = default_runner()
    assert runner.is_installed(), "run `dexter-auto runner install` (make setup does)"
    report = prepare_data(loaded, run_dir / "data")
    (run_dir / "autotrain.yml").write_text(render_config(loaded.spec, loaded.path.parent).text)
    done = subprocess.run(
        [str(runner.python), str(SCRIPT), "autotrain.yml"],
        cwd=run_dir,
        capture_output=True,
        text=True,
        env=runner.environ(),
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith("LOADED "))
    return {"ours": report, "theirs": json.loads(line.removeprefix("LOADED "))}


def test_text_classification_data(tmp_path):
    result = _autotrain_loads(tmp_path, load_spec(JOBS / "narrative.yaml"))
    theirs = result["theirs"]
    assert theirs["splits"]["train"]["rows"] == result["ours"].splits["train"]["rows"] == 480
    assert theirs["splits"]["validation"]["rows"] == 120
    assert theirs["labels"] == ["negative", "neutral", "positive"]
    assert {"autotrain_text", "autotrain_label"} <= set(theirs["splits"]["train"]["columns"])


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="../shared/data is absent")
def test_token_classification_data(tmp_path, write_job):
    loaded = write_job(
        f"task: token-classification\nbase_model: {{path: .}}\nlanguages: [hau]\n"
        f"data:\n  sources:\n    - path: {SHARED_DATA}/ner/{{language}}\n      format: conll\n"
        "  fix_iob2: true\n  label_map: {B-DATE: O, I-DATE: O}\n  max_rows_per_split: 200\n"
    )
    theirs = _autotrain_loads(tmp_path / "run", loaded)["theirs"]
    assert theirs["splits"]["train"]["rows"] == theirs["splits"]["validation"]["rows"] == 200
    assert theirs["labels"] == ["B-LOC", "B-ORG", "B-PER", "I-LOC", "I-ORG", "I-PER", "O"]


def test_image_classification_data(tmp_path, write_job):
    from PIL import Image

    for label, colour in (("meme", (250, 0, 0)), ("photo", (0, 0, 250))):
        (tmp_path / "imgs" / label).mkdir(parents=True)
        for i in range(15):
            Image.new("RGB", (16, 16), colour).save(tmp_path / "imgs" / label / f"{i}.gif")
    loaded = write_job(
        "task: image-classification\nbase_model: {path: .}\ndata:\n  sources:\n"
        "    - path: imgs\n      format: imagefolder\n  min_examples_per_label: 1\n"
        "  min_examples_per_language: 1\n"
        "  split: {validation: 0.34, test: 0.0, stratify_by: [label]}\n"
    )
    theirs = _autotrain_loads(tmp_path / "run", loaded)["theirs"]
    assert (theirs["splits"]["train"]["rows"], theirs["splits"]["validation"]["rows"]) == (20, 10)
    assert theirs["labels"] == ["meme", "photo"]
