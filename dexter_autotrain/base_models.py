"""Which weights training starts from: a local folder, a pinned Hub snapshot, or (smoke
runs) a tiny model built here from scratch."""

from __future__ import annotations

import socket
import subprocess
from importlib import resources
from pathlib import Path
from urllib.parse import urlparse

from dexter_autotrain.errors import ToolError, UserError
from dexter_autotrain.model_files import DOWNLOADED, refuse_custom_code
from dexter_autotrain.runner_env import RunnerEnv
from dexter_autotrain.spec import JobSpec
from dexter_autotrain.tasks import get_task

HUB_CHECK_TIMEOUT_SECONDS = 3


def resolve_base_model(spec: JobSpec, spec_dir: Path) -> str:
    """A local directory holding the spec's base model: only a model's own files (weights as
    safetensors, config, tokenizer), never code. Raises UserError, before any work is done,
    when it cannot be had (offline and not cached) or needs code of its own."""
    ref = spec.base_model
    if ref.path is not None:
        path = (spec_dir / ref.path).resolve()
        if not (path / "config.json").is_file():
            raise UserError(
                f"base_model.path: {path} holds no model (no config.json); "
                "point it at a saved model folder"
            )
        refuse_custom_code(path, "base_model.path", str(path))
        return str(path)
    assert ref.id is not None and ref.revision is not None
    folder = _downloaded(ref.id, ref.revision)
    refuse_custom_code(Path(folder), "base_model.id", f"{ref.id}@{ref.revision[:12]}")
    return folder


def _downloaded(repo_id: str, revision: str) -> str:
    from huggingface_hub import constants, snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    wanted = {"revision": revision, "allow_patterns": list(DOWNLOADED)}
    try:
        return snapshot_download(repo_id, local_files_only=True, **wanted)
    except LocalEntryNotFoundError:
        pass
    if constants.HF_HUB_OFFLINE or not _hub_reachable(constants.ENDPOINT):
        raise UserError(
            f"base_model.id: {repo_id}@{revision[:12]} is not in the local cache "
            "and the Hub cannot be reached (offline?); try `dexter-auto submit "
            "--smoke` for a tiny offline model, or set base_model.path to a local "
            "copy"
        )
    return snapshot_download(repo_id, **wanted)


def _hub_reachable(endpoint: str) -> bool:
    url = urlparse(endpoint)
    try:
        with socket.create_connection(
            (url.hostname, url.port or 443), timeout=HUB_CHECK_TIMEOUT_SECONDS
        ):
            return True
    except OSError:
        return False


def build_tiny_model(runner: RunnerEnv, task: str, train_jsonl: Path, output: Path) -> str:
    """A tiny random-init model for `task`, its tokenizer trained on `train_jsonl`."""
    script = resources.files("dexter_autotrain.runner_scripts").joinpath("tiny_model.py")
    done = subprocess.run(
        [str(runner.python), str(script), get_task(task).input_kind, str(train_jsonl), str(output)],
        env=runner.environ(),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise ToolError("building the tiny smoke-test model failed:\n" + done.stderr[-2000:])
    return str(output)
