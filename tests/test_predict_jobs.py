"""`predict --backend hf-jobs` against the Hub test server, whose jobs really run: the model,
the input and the toolkit's wheel staged in one commit, two jobs each installing the wheel in
a stand-in image (a fresh Python environment that has only the toolkit's dependencies) and
scoring its half of the rows, each uploading its part files in one commit; then the same
command re-attaches instead of starting new jobs, and a cost over the cap starts none."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import sysconfig

import pyarrow.parquet as pq
import pytest
from conftest import DEXTER_AUTO, run_cli

from dexter_autotrain import iter_predictions

IMAGE = "dexter/predict:test"
OUTPUT = "hf://datasets/dexter-ng/scored/day1"
TOKEN = "hf_test_write"
"""The token this module's client holds (conftest's default `HubSetup`): a job gets it as a
secret, never in its environment, and no output shows it."""


@pytest.fixture(scope="module")
def predict_image(hub, tmp_path_factory) -> str:
    """IMAGE on the test server: a `python` that gives each job its own new virtual
    environment of the base interpreter (as each container has its own writable layer), with
    this environment's packages on its path (a .pth file) but not the toolkit's import hook,
    so a job can only run the toolkit its staged wheel installs."""
    image = tmp_path_factory.mktemp("image")
    pth = image / "toolkit-dependencies.pth"
    pth.write_text(sysconfig.get_paths()["purelib"] + "\n")
    (image / "bin").mkdir()
    python = image / "bin" / "python"
    python.write_text(
        "#!/bin/sh\n"
        'env="$HOME/image-env"\n'
        'if [ ! -x "$env/bin/python" ]; then\n'
        f'  {sys._base_executable} -m venv --without-pip "$env" || exit 1\n'
        f'  cp {pth} "$env"/lib/python3*/site-packages/\n'
        "fi\n"
        'exec "$env/bin/python" "$@"\n'
    )
    python.chmod(0o755)
    hub.context.config.job_images[IMAGE] = image / "bin"
    return IMAGE


def test_two_hf_jobs_score_a_corpus_and_re_attach(
    trained, hub, predict_image, tmp_path, monkeypatch
):
    from huggingface_hub import HfApi, hf_hub_download

    run = trained.copy("sentiment", tmp_path)
    texts = [json.loads(line)["text"] for line in (run / "data" / "test.jsonl").open()][:41]
    corpus = tmp_path / "corpus.jsonl"
    rows = [{"id": i, "text": "" if i == 7 else text} for i, text in enumerate(texts)]
    corpus.write_text("".join(json.dumps(row) + "\n" for row in rows))
    monkeypatch.setenv("DEXTER_ALLOWED_IMAGES", IMAGE)
    monkeypatch.setenv("DEXTER_ALLOWED_NAMESPACES", "dexter-ng")
    monkeypatch.setenv("DEXTER_MAX_RUN_USD", "0.5")

    def predict(flavor: str, timeout: str = "1h"):
        return run_cli(
            "predict", run, "--input", corpus, "--output", OUTPUT, "--backend", "hf-jobs",
            "--shards", "2", "--flavor", flavor, "--timeout", timeout, "--image", IMAGE,
            "--id-column", "id", "--runs-dir", tmp_path / "runs", "--json",
        )  # fmt: skip

    hub.stats.reset()
    over = predict("a100-large", "2h")
    assert over.code == 2 and "over the operator's run cap $0.50" in over.stdout, over.stdout
    assert sum(hub.stats.jobs_started.values()) == 0
    done = predict("cpu-basic")
    assert done.code == 0, done.stdout
    assert "2 HF Jobs, at most $" in done.stderr
    summary = json.loads(done.stdout)
    assert (summary["rows"], summary["scored"], summary["rejected"]) == (41, 40, 1)
    files = HfApi().list_repo_files("dexter-ng/scored", repo_type="dataset")
    parts = sorted(f for f in files if f.endswith(".parquet"))
    assert parts == ["day1/job-000/part-00000.parquet", "day1/job-001/part-00000.parquet"]
    scored = [
        row
        for part in parts
        for row in pq.read_table(
            hf_hub_download("dexter-ng/scored", part, repo_type="dataset")
        ).to_pylist()
    ]
    local = [
        r for r in iter_predictions(str(run), corpus, id_columns=["id"]) if "rejected" not in r
    ]
    assert [(r["id"], r["label"]) for r in scored] == [(r["id"], r["label"]) for r in local]
    record = tmp_path / "runs" / ".hub-predictions" / "dexter-ng" / "scored" / "day1" / "_jobs.json"
    for job in json.loads(record.read_text())["jobs"]:
        info = HfApi().inspect_job(job_id=job["id"], namespace="dexter-ng")
        assert TOKEN not in json.dumps(info.environment) and "HF_TOKEN" in info.secrets
    assert TOKEN not in done.stdout + done.stderr + record.read_text()
    again = predict("cpu-basic")
    assert again.code == 0 and "re-attaching to the 2 HF Jobs" in again.stderr
    assert json.loads(again.stdout)["scored"] == 40
    assert sum(hub.stats.jobs_started.values()) == 2


def test_ctrl_c_cancels_every_job(trained, hub, predict_image, tmp_path, monkeypatch):
    from huggingface_hub import HfApi

    run = trained.copy("sentiment", tmp_path)
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps({"id": i, "text": f"text {i}"}) + "\n" for i in range(8)))
    monkeypatch.setenv("DEXTER_ALLOWED_IMAGES", IMAGE)
    monkeypatch.setenv("DEXTER_ALLOWED_NAMESPACES", "dexter-ng")
    process = subprocess.Popen(
        [DEXTER_AUTO, "predict", run, "--input", corpus, "--output", OUTPUT + "-cancelled",
         "--backend", "hf-jobs", "--shards", "2", "--flavor", "cpu-basic", "--image", IMAGE,
         "--runs-dir", tmp_path / "runs"],
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    running: list[str] = []
    for line in process.stderr:
        if line.startswith("job ") and line.rstrip().endswith(": RUNNING"):
            running.append(line.split()[1].rstrip(":"))
        if len(running) == 2:
            break
    process.send_signal(signal.SIGINT)
    said = process.communicate(timeout=60)[1]
    assert process.returncode != 0 and "cancelled 2 HF Jobs" in said, said
    stages = {HfApi().inspect_job(job_id=j, namespace="dexter-ng").status.stage for j in running}
    assert stages == {"CANCELED"}
    assert not list((tmp_path / "runs").rglob("_jobs.json"))  # the same command starts anew
