"""Train one run inside an HF Job, then upload the model folder to the staging repo.

Runs with the job image's python: AutoTrain 0.8.36's environment (huggingface_hub 0.27,
torch); dexter_autotrain is not installed there, so this script is staged with the inputs and
uses the standard library and huggingface_hub only. The job's command (see
`backends/hf_jobs.py`) has already downloaded the run's staging folder at its pinned commit:

    python hf_job.py REPO COMMIT PREFIX WORKDIR

WORKDIR is laid out like a run directory (`autotrain.yml`, `training-options.json`, `data/`,
`scripts/`, `job.json`). The training runs `scripts/train.py`, as the local backend does,
without the token (AutoTrain writes what it is given into `training_params.json`) and
offline (a Hub base model is fetched first, with the token). The model folder then goes to
`PREFIX/model/` in one commit, announced by a `RESULTS_MARKER` line the client reads.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

RESULTS_MARKER = "dexter job: results commit "
CONFIG_FILE = "autotrain.yml"
OPTIONS_FILE = "training-options.json"
SECRET_VARIABLES = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
NOT_UPLOADED = ["checkpoint-*", "checkpoint-*/*", "autotrain-data/*", "training_params.json"]
"""Checkpoints (the final trainer state sits in the model folder), AutoTrain's copy of the
data, and its parameter record (which would hold a token had the training been given one)."""
UPLOAD_TRIES = 4


def say(line: str) -> None:
    print(f"dexter job: {line}", flush=True)


def main(repo: str, commit: str, prefix: str, work: Path) -> int:
    manifest = json.loads((work / "job.json").read_text())
    say(f"inputs {repo}@{commit[:12]}/{prefix} on {manifest['flavor']}")
    if not _enough_gpus(manifest):
        return 1
    _fetch_base_model(work)
    code = subprocess.call(
        [sys.executable, "scripts/train.py", CONFIG_FILE, OPTIONS_FILE],
        cwd=work,
        env=_training_env(),
    )
    model = work / manifest["model_dir"]
    if not (model / "config.json").is_file() or not any(
        (model / name).is_file() for name in WEIGHT_FILES
    ):
        say(f"training wrote no model (exit code {code}); nothing uploaded")
        return 1
    results = _upload(repo, model, f"{prefix}/model")
    print(f"{RESULTS_MARKER}{results}", flush=True)
    return 0


def _enough_gpus(manifest: dict) -> bool:
    """A flavor with GPUs must show them all: training on fewer costs the same."""
    wanted = manifest["gpus"]
    if wanted == 0:
        say("no GPU in this flavor: training on the CPUs")
        return True
    import torch

    seen = torch.cuda.device_count()
    if seen < wanted:
        say(f"{manifest['flavor']} has {wanted} GPUs but this container sees {seen}")
        return False
    say(f"training on {seen} GPUs: {manifest['launch']}")
    return True


def _fetch_base_model(work: Path) -> None:
    """A Hub base model goes into the cache now, with the token, so that the training can
    run offline and never see the token."""
    import yaml

    base_model = yaml.safe_load((work / CONFIG_FILE).read_text())["base_model"]
    if (work / base_model).is_dir():
        return
    from huggingface_hub import snapshot_download

    say(f"downloading the base model {base_model}")
    snapshot_download(base_model)


def _training_env() -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in SECRET_VARIABLES}
    bin_dir = os.path.dirname(sys.executable)  # `accelerate` for several GPUs
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    return env | {"HF_HUB_OFFLINE": "1", "HF_HUB_DISABLE_TELEMETRY": "1"}


def _upload(repo: str, model: Path, path_in_repo: str) -> str:
    """The model folder in one commit; transient failures (429, 5xx, dropped connections)
    are tried again, a refusal is not."""
    from huggingface_hub import HfApi
    from huggingface_hub.utils import HfHubHTTPError

    for attempt in range(1, UPLOAD_TRIES + 1):
        try:
            info = HfApi().upload_folder(
                repo_id=repo,
                repo_type="dataset",
                folder_path=model,
                path_in_repo=path_in_repo,
                ignore_patterns=NOT_UPLOADED,
                commit_message=f"Model of {path_in_repo.removesuffix('/model')}",
            )
            return info.oid
        except (HfHubHTTPError, OSError) as error:
            status = getattr(getattr(error, "response", None), "status_code", None)
            if attempt == UPLOAD_TRIES or (status is not None and status < 500 and status != 429):
                raise
            say(f"upload failed ({status or type(error).__name__}); try {attempt + 1} follows")
            time.sleep(2**attempt)
    raise AssertionError("unreachable")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3], Path(sys.argv[4])))
