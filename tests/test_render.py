"""Rendering: golden configs per task, determinism, no secrets, AutoTrain's own parser."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import JOBS, REPO

from dexter_autotrain.training.runner_env import default_runner

GOLDEN = REPO / "tests" / "golden"
EXAMPLE_JOBS = ["narrative", "actors", "memes"]
IN_PROCESS = True  # the `cli` fixture runs dexter-auto in this process (conftest.py)


@pytest.mark.parametrize("job", EXAMPLE_JOBS)
def test_render_matches_golden_config(cli, job):
    result = cli("render", f"jobs/{job}.yaml")
    assert result.code == 0, result.stderr
    assert result.stdout == (GOLDEN / f"{job}.autotrain.yml").read_text()


def test_render_is_deterministic_and_hash_is_stable(cli, tmp_path):
    first = cli("render", "jobs/narrative.yaml", "-o", tmp_path / "a", "--json")
    second = cli("render", "jobs/narrative.yaml", "-o", tmp_path / "b", "--json")
    assert first.code == second.code == 0
    a, b = json.loads(first.stdout), json.loads(second.stdout)
    assert a["sha256"] == b["sha256"] and a["spec_sha256"] == b["spec_sha256"]
    assert (tmp_path / "a/autotrain.yml").read_bytes() == (
        tmp_path / "b/autotrain.yml"
    ).read_bytes()


def test_reformatted_spec_hashes_the_same(cli, tmp_path):
    (tmp_path / ".git").mkdir()  # another checkout: the spec reads ../data inside it
    (tmp_path / "jobs").mkdir()
    shutil.copy(JOBS / "_base.yaml", tmp_path / "jobs" / "_base.yaml")
    original = yaml.safe_load((JOBS / "narrative.yaml").read_text())
    reordered = dict(reversed(list(original.items())))
    moved_spec = tmp_path / "jobs" / "narrative.yaml"
    moved_spec.write_text(yaml.safe_dump(reordered, default_flow_style=True))
    moved = cli("render", moved_spec, "--json")
    here = cli("render", "jobs/narrative.yaml", "--json")
    assert json.loads(moved.stdout)["spec_sha256"] == json.loads(here.stdout)["spec_sha256"]


def test_no_secret_reaches_the_rendered_config(cli, tmp_path):
    token = "hf_" + "x" * 34
    result = cli(
        "render",
        "jobs/narrative.yaml",
        "-o",
        tmp_path,
        env={"HF_TOKEN": token, "HF_USERNAME": "someone"},
    )
    assert result.code == 0
    text = (tmp_path / "autotrain.yml").read_text()
    assert token not in text and "someone" not in text
    assert yaml.safe_load(text)["hub"] == {
        "username": "${HF_USERNAME}",
        "token": "${HF_TOKEN}",
        "push_to_hub": False,
    }


def _render_variants(cli, tmp_path: Path) -> list[Path]:
    """The example jobs, plus narrative moved to AutoTrain Spaces hardware."""
    paths = []
    for job in EXAMPLE_JOBS:
        out = tmp_path / job
        assert cli("render", f"jobs/{job}.yaml", "-o", out).code == 0
        paths.append(out / "autotrain.yml")
    spaces = tmp_path / "spaces"
    spaces.mkdir()
    shutil.copy(JOBS / "_base.yaml", spaces / "_base.yaml")
    spec = (
        (JOBS / "narrative.yaml").read_text().replace("../data/samples", str(REPO / "data/samples"))
    )
    spec += "\ncompute:\n  backend: autotrain-spaces\n  hardware: t4-small\n"
    (spaces / "narrative.yaml").write_text(spec)
    assert cli("render", spaces / "narrative.yaml", "-o", spaces / "out").code == 0
    paths.append(spaces / "out" / "autotrain.yml")
    return paths


def test_autotrain_accepts_every_rendered_config(cli, tmp_path):
    runner = default_runner()
    assert runner.is_installed(), "run `dexter-auto runner install` (make setup does)"
    configs = _render_variants(cli, tmp_path)
    script = REPO / "tests" / "runner_scripts" / "autotrain_accepts.py"
    done = subprocess.run(
        [str(runner.python), str(script), *map(str, configs)],
        capture_output=True,
        text=True,
        env=runner.environ(),
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [
        line.removeprefix("ACCEPTED ")
        for line in done.stdout.splitlines()
        if line.startswith("ACCEPTED ")
    ]
    reports = {Path(r["config"]).parent.name: r for r in map(json.loads, lines)}
    assert {name: (r["task"], r["params_class"], r["backend"]) for name, r in reports.items()} == {
        "narrative": ("text_multi_class_classification", "TextClassificationParams", "local"),
        "actors": ("text_token_classification", "TokenClassificationParams", "local"),
        "memes": ("image_multi_class_classification", "ImageClassificationParams", "local"),
        "out": ("text_multi_class_classification", "TextClassificationParams", "spaces-t4-small"),
    }
    for report in reports.values():
        assert report["backend_known"] and report["unknown_keys"] == []
    narrative = reports["narrative"]["params"]
    assert (narrative["lr"], narrative["epochs"], narrative["batch_size"]) == (2e-5, 3, 16)
    assert (narrative["text_column"], narrative["target_column"]) == ("text", "label")
    assert narrative["early_stopping_patience"] == 2 and narrative["data_path"] == "data"
    actors = reports["actors"]["params"]
    assert (actors["tokens_column"], actors["tags_column"], actors["max_seq_length"]) == (
        "tokens",
        "tags",
        128,  # `auto`: the preview length; submit measures the data
    )
    assert reports["memes"]["params"]["image_column"] == "image"
    assert reports["out"]["params"]["push_to_hub"] is True
