"""No foreign code: a model repository that carries its own code (`auto_map` and a
`modeling_*.py` that would leave a marker file if it ever ran) is refused as a base model and
as a served published model, with one located line and exit 2, before anything loads it; the
download takes only a model's own files; the runner turns AutoTrain's remote code off."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import REPO, HubSetup, run_cli

from dexter_autotrain.testing import Accounts, TokenGrant
from dexter_autotrain.training.runner_env import RunnerEnv

WRITE_TOKEN = "hf_remote_code_write_test"
REPO_ID = "dexter-ng/bert-with-its-own-code"


@pytest.fixture(scope="module")
def hub_setup() -> HubSetup:
    accounts = Accounts(
        {WRITE_TOKEN: TokenGrant("dexter-test", "write")}, {"dexter-ng": frozenset({"dexter-test"})}
    )
    return HubSetup(accounts, None, WRITE_TOKEN)


@pytest.fixture(scope="module")
def evil(hub, tmp_path_factory) -> tuple[str, Path]:
    """(commit, marker): a BERT config whose `auto_map` names modeling_evil.py, which writes
    `marker` when imported."""
    from huggingface_hub import HfApi

    folder = tmp_path_factory.mktemp("evil")
    marker = folder / "the-model-code-ran"
    config = {
        "model_type": "bert",
        "architectures": ["EvilModel"],
        "auto_map": {"AutoModel": "modeling_evil.EvilModel"},
        "hidden_size": 32,
        "num_attention_heads": 2,
        "num_hidden_layers": 1,
        "intermediate_size": 37,
        "vocab_size": 99,
    }
    upload = folder / "repo"
    upload.mkdir()
    (upload / "config.json").write_text(json.dumps(config))
    (upload / "modeling_evil.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    (upload / "pytorch_model.bin").write_bytes(b"a pickle would run code too")
    api = HfApi()
    api.create_repo(REPO_ID, private=False)
    commit = api.upload_folder(repo_id=REPO_ID, folder_path=upload).oid
    return commit, marker


def _env(hub, tmp_path: Path) -> dict[str, str]:
    return hub.client_env(tmp_path / "hf-home", WRITE_TOKEN) | {"HF_HUB_OFFLINE": "0"}


def test_a_base_model_with_its_own_code_is_refused_before_anything(hub, evil, tmp_path):
    commit, marker = evil
    (tmp_path / "job.yaml").write_text(
        f"task: text-classification\nbase_model: {{id: {REPO_ID}, revision: {commit}}}\n"
        f"languages: [pcm]\ndata:\n  sources:\n"
        f"    - path: {REPO}/data/samples/naijasenti/{{language}}\n      format: tsv\n"
        "  min_examples_per_label: 5\n"
    )
    result = run_cli(
        "submit", "job.yaml", "--runs-dir", "runs", cwd=tmp_path, env=_env(hub, tmp_path)
    )
    assert result.code == 2, result.stderr
    assert result.stderr.splitlines() == [
        f"base_model.id: {REPO_ID}@{commit[:12]} needs its own code (`auto_map` in "
        "config.json); the toolkit never runs a model's code: choose a model of a family "
        "transformers knows"
    ]
    assert not marker.exists() and not (tmp_path / "runs").exists()
    downloaded = {p.name for p in (tmp_path / "hf-home").rglob("*") if p.is_file()}
    assert "config.json" in downloaded
    assert not {"modeling_evil.py", "pytorch_model.bin"} & downloaded  # code and pickles stay


def test_a_local_base_model_folder_with_code_is_refused(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text('{"model_type": "bert"}')
    (model / "modeling_bert_custom.py").write_text("raise SystemExit('ran')\n")
    (tmp_path / "job.yaml").write_text(
        "task: text-classification\nbase_model: {path: model}\nlanguages: [pcm]\ndata:\n"
        f"  sources:\n    - path: {REPO}/data/samples/naijasenti/{{language}}\n"
        "      format: tsv\n  min_examples_per_label: 5\n"
    )
    result = run_cli("submit", "job.yaml", "--runs-dir", "runs", cwd=tmp_path)
    assert result.code == 2, result.stderr
    assert result.stderr.strip() == (
        f"base_model.path: {model} carries Python files (modeling_bert_custom.py); the "
        "toolkit never runs a model's code: choose a model of a family transformers knows"
    )


def test_serving_a_published_model_with_its_own_code_is_refused(hub, evil, tmp_path):
    _, marker = evil
    result = run_cli(
        "serve", f"hub:{REPO_ID}@main", "--runs-dir", tmp_path / "runs", env=_env(hub, tmp_path)
    )
    assert result.code == 2, result.stderr
    assert "needs its own code (`auto_map` in config.json)" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert not marker.exists()
    assert not list((tmp_path / "runs").rglob("*.py")) and not list(
        (tmp_path / "runs").rglob("pytorch_model.bin")
    )


def test_the_runner_turns_autotrain_s_remote_code_off(tmp_path):
    env = RunnerEnv(tmp_path).environ({"PATH": "/usr/bin", "ALLOW_REMOTE_CODE": "true"})
    assert env["ALLOW_REMOTE_CODE"] == "false"
