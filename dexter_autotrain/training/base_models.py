"""Which weights training starts from: a local folder, a pinned Hub snapshot, or (smoke
runs) a tiny model built here from scratch."""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import socket
import subprocess
import tempfile
from importlib import resources
from pathlib import Path
from urllib.parse import urlparse

from dexter_autotrain.errors import ToolError, UserError
from dexter_autotrain.spec import JobSpec
from dexter_autotrain.tasks import get_task
from dexter_autotrain.training.model_files import DOWNLOADED, refuse_custom_code
from dexter_autotrain.training.runner_env import RunnerEnv, cache_dir

HUB_CHECK_TIMEOUT_SECONDS = 3
TINY_MODELS = "tiny-models"


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
    """A tiny random-init model for `task` at `output`, its tokenizer trained on `train_jsonl`.

    Building one starts the runner's Python (torch, transformers: seconds of CPU), and a smoke
    run of the same data always builds the same model, so each is built once and kept in the
    user's cache (`tiny-models/`, by a hash of the builder, the runner's versions, the task's
    input and the training data); a run gets its own copy.

    Raises:
        [`ToolError`]: the runner could not build it.
    """
    script = resources.files("dexter_autotrain.runner_scripts").joinpath("tiny_model.py")
    kind = get_task(task).input_kind
    cached = (
        cache_dir() / TINY_MODELS / _tiny_model_key(runner, Path(str(script)), kind, train_jsonl)
    )
    if not (cached / "config.json").is_file():
        _build_into_cache(runner, [str(script), kind, str(train_jsonl)], cached)
    shutil.copytree(cached, output, dirs_exist_ok=True)
    return str(output)


def _tiny_model_key(runner: RunnerEnv, script: Path, kind: str, train_jsonl: Path) -> str:
    digest = hashlib.sha256()
    for part in (script.read_bytes(), runner.marker.read_bytes(), kind.encode()):
        digest.update(hashlib.sha256(part).digest())
    if kind != "image":  # an image model's builder reads no data
        digest.update(hashlib.sha256(train_jsonl.read_bytes()).digest())
    return digest.hexdigest()[:32]


def _build_into_cache(runner: RunnerEnv, arguments: list[str], cached: Path) -> None:
    """Build next to `cached`, then rename: a concurrent build of the same model loses the
    rename and is thrown away, so a reader never sees a half-written model."""
    cached.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=".building-", dir=cached.parent))
    try:
        try:
            done = subprocess.run(
                [str(runner.python), *arguments, str(building / "model")],
                env=runner.environ(),
                capture_output=True,
                text=True,
                check=False,
            )
        except OSError as error:  # no runner there
            raise ToolError(f"building the tiny smoke-test model failed: {error}") from None
        if done.returncode != 0:
            raise ToolError("building the tiny smoke-test model failed:\n" + done.stderr[-2000:])
        with contextlib.suppress(OSError):  # another process cached it first
            (building / "model").rename(cached)
    finally:
        shutil.rmtree(building, ignore_errors=True)
