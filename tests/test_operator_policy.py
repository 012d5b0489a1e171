"""A spec never steers a credential: container images, staging repositories, tracking servers
and sweep storage come from the operator's allow-lists (policy/operator), refused as located
spec errors at `validate`, and refused again where the credential is attached, for specs that
never went through `validate` (built in Python, or an old run's spec.yaml)."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml
from conftest import JOBS, fake_token
from inprocess import run_in_process as run_cli
from recording_server import RecordingServer

from dexter_autotrain.experiments.tracking import log_run
from dexter_autotrain.runs import Run

MLFLOW_TOKEN = fake_token("OperatorMlflow")


def _spec(tmp_path, extra: str):
    shutil.copy(JOBS / "_base.yaml", tmp_path)
    text = (JOBS / "narrative.yaml").read_text().replace("../data/", f"{JOBS.parent}/data/")
    (tmp_path / "narrative.yaml").write_text(text + extra)
    return tmp_path / "narrative.yaml"


@pytest.mark.parametrize(
    ("extra", "line", "allowed"),
    [
        (
            "compute:\n  backend: hf-jobs\n  hardware: cpu-basic\n"
            "  image: attacker/grab-the-secret:1\n",
            "compute.image: attacker/grab-the-secret:1 is not an image the operator allows "
            "(images in dexter-operator.yaml, or DEXTER_ALLOWED_IMAGES)",
            {"DEXTER_ALLOWED_IMAGES": "attacker/grab-the-secret:1"},
        ),
        (
            "compute:\n  backend: hf-jobs\n  hardware: cpu-basic\n"
            "  staging_repo: someone-else/inbox\n",
            "compute.staging_repo: someone-else/inbox is outside the namespaces the operator "
            "allows for staging (dexter-ng; namespaces in dexter-operator.yaml, or "
            "DEXTER_ALLOWED_NAMESPACES)",
            {"DEXTER_ALLOWED_NAMESPACES": "someone-else"},
        ),
        (
            "tracking:\n  uri: https://mlflow.attacker.example\n",
            "tracking.uri: https://mlflow.attacker.example is not a tracking server the operator "
            "allows (tracking_servers in dexter-operator.yaml, or DEXTER_TRACKING_SERVERS)",
            {"DEXTER_TRACKING_SERVERS": "https://mlflow.attacker.example/"},
        ),
        (
            "sweep:\n  storage: sqlite:////tmp/anywhere.db\n  space:\n"
            "    learning_rate: {type: log_uniform, low: 1.0e-5, high: 1.0e-3}\n",
            "sweep.storage: a storage URL the operator has not listed (sweep_storage in "
            "dexter-operator.yaml, or DEXTER_SWEEP_STORAGE)",
            {"DEXTER_SWEEP_STORAGE": "sqlite:////tmp/anywhere.db"},
        ),
    ],
    ids=["image", "staging", "tracking", "sweep-storage"],
)
def test_a_destination_the_operator_did_not_list_is_a_located_spec_error(
    tmp_path, extra, line, allowed
):
    spec = _spec(tmp_path, extra)
    refused = run_cli("validate", spec)
    assert refused.code == 2
    [problem] = [p for p in (refused.stdout + refused.stderr).splitlines() if line in p]
    assert problem.split(": ", 1)[0].startswith("narrative.yaml:") or "narrative.yaml:" in problem
    assert "never in a spec" in problem
    accepted = run_cli("validate", spec, env=allowed)
    assert accepted.code == 0, accepted.stdout + accepted.stderr


@pytest.fixture
def old_run(trained, tmp_path):
    """A copy of the suite's narrative run posing as a real (not smoke) run whose spec.yaml
    names a tracking server, as a run written before the rule would."""
    return trained.copy("narrative", tmp_path, state={"smoke": False})


def _with_tracking(run, uri: str) -> Run:
    spec = yaml.safe_load((run / "spec.yaml").read_text())
    spec["tracking"] = {"enabled": True, "uri": uri}
    (run / "spec.yaml").write_text(yaml.safe_dump(spec, sort_keys=False))
    return Run(run)


def test_the_mlflow_token_goes_only_to_a_listed_server(old_run, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", MLFLOW_TOKEN)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    with RecordingServer() as server:
        run = _with_tracking(old_run, server.url)
        line = log_run(run, run.spec())
        assert line.startswith(f"not logged to MLflow ({server.url}): tracking.uri: ")
        assert "not a tracking server the operator allows" in line
        assert server.requests == []  # nothing reached it, so neither did the token
        monkeypatch.setenv("DEXTER_TRACKING_SERVERS", server.url)
        log_run(run, run.spec())
        assert server.requests  # listed: MLflow talked to it
        auth = {headers.get("Authorization") for _, _, headers in server.requests}
        assert auth == {f"Bearer {MLFLOW_TOKEN}"}


def test_a_smoke_run_logs_only_to_the_local_store(trained, tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", MLFLOW_TOKEN)
    with RecordingServer() as server:
        monkeypatch.setenv("DEXTER_TRACKING_SERVERS", server.url)
        run = _with_tracking(trained.copy("narrative", tmp_path), server.url)
        line = log_run(run, run.spec())
        assert server.requests == []
    assert line.startswith("logged to MLflow run ") and "sqlite:///" in line
    assert json.loads((run.path / "state.json").read_text())["smoke"] is True
