"""Start a run's training in an AutoTrain Space: AutoTrain's own `autotrain --config` with a
`spaces-<hardware>` backend, run in the runner environment.

AutoTrain pushes the prepared splits to a private dataset `<ns>/autotrain-data-<project>`,
creates the private Docker Space `<ns>/autotrain-<project>` with the token among its
secrets, and returns; the Space installs the *latest* autotrain-advanced (not the runner's
0.8.36), trains, pushes the model to `<ns>/<project>` and pauses itself. The names are fixed
here, before AutoTrain runs, so that the run's record names all three from the start.

The token reaches the one `autotrain` process only, through its environment (the config says
`${HF_TOKEN}`): never a file, a log line or an error.
"""

from __future__ import annotations

import re
import secrets
import subprocess
import tempfile
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml

from dexter_autotrain.errors import ToolError, UserError
from dexter_autotrain.runs import Run
from dexter_autotrain.spec.rules import SPACES_HARDWARE, did_you_mean
from dexter_autotrain.system.files import write_atomically
from dexter_autotrain.training.render import CONFIG_FILE_NAME, PREPARED_DATA_DIR
from dexter_autotrain.training.runner_env import RunnerEnv

if TYPE_CHECKING:
    from huggingface_hub import HfApi

DEFAULT_HARDWARE = "cpu-basic"
"""The Space hardware when `compute.hardware` is unset (free, as on the Hub)."""
SPACE_CONFIG_FILE = "autotrain-space.yml"
LAUNCH_LOG = "logs/space-launch.log"
LAUNCH_TIMEOUT_S = 1800
PROJECT_MAX = 50  # AutoTrain refuses longer project names
TAIL_LINES = 15
LATEST_AUTOTRAIN = (
    "the latest autotrain-advanced, which the Space installs when it starts (not the "
    "runner's 0.8.36)"
)


@dataclass(frozen=True)
class SpaceNames:
    """The repos one AutoTrain Space run uses, known before it starts.

    Attributes:
        namespace: the user or organisation they live under.
        project: AutoTrain's `project_name` (alphanumeric and hyphens, at most 50).
    """

    namespace: str
    project: str

    @property
    def space(self) -> str:
        return f"{self.namespace}/autotrain-{self.project}"

    @property
    def data_repo(self) -> str:
        return f"{self.namespace}/autotrain-data-{self.project}"

    @property
    def model_repo(self) -> str:
        return f"{self.namespace}/{self.project}"

    @property
    def base_repo(self) -> str:
        """Where a local base model is uploaded for the Space to read."""
        return f"{self.namespace}/{self.project}-base"


def space_hardware(run: Run) -> str:
    """`compute.hardware` (unset: `cpu-basic`), checked against the Spaces hardware AutoTrain
    knows (`submit --backend autotrain-spaces` may pick up an HF Jobs flavor).

    Raises:
        UserError: not Spaces hardware; nothing was started.

    Example:
        >>> space_hardware(run)  # doctest: +SKIP
        't4-small'
    """
    hardware = run.spec().compute.hardware or DEFAULT_HARDWARE
    if hardware not in SPACES_HARDWARE:
        raise UserError(
            f"compute.hardware: `{hardware}` is not autotrain-spaces hardware "
            f"({did_you_mean(hardware, SPACES_HARDWARE)})"
        )
    return hardware


def space_names(run: Run, namespace: str) -> SpaceNames:
    """Fresh names for one start of the run: `<job>-<run id>-<4 hex>` (a restarted run never
    meets the Space of its earlier try).

    Example:
        >>> space_names(run, "dexter-ng").space  # doctest: +SKIP
        'dexter-ng/autotrain-narrative-20261126-053000-1a2b-9f3c'
    """
    suffix = f"-{run.run_id}-{secrets.token_hex(2)}"
    job = re.sub(r"[^A-Za-z0-9]+", "-", run.job).strip("-")[: PROJECT_MAX - len(suffix)]
    return SpaceNames(namespace, (job or "run") + suffix)


def space_config(run: Run, names: SpaceNames, base_model: str, hardware: str) -> dict[str, Any]:
    """The run's rendered config as AutoTrain's Spaces backend takes it: the hardware as
    AutoTrain names it, the project, the namespace, the base model on the Hub, the prepared
    splits by absolute path, and the token left as `${HF_TOKEN}`."""
    config = yaml.safe_load((run.path / CONFIG_FILE_NAME).read_text(encoding="utf-8"))
    config |= {
        "backend": f"spaces-{hardware}",
        "project_name": names.project,
        "base_model": base_model,
    }
    config["data"] = {**config["data"], "path": str(run.path / PREPARED_DATA_DIR)}
    config["hub"] = {"username": names.namespace, "token": "${HF_TOKEN}", "push_to_hub": True}
    return config


def hub_base_model(api: HfApi, run: Run, names: SpaceNames, local: str) -> tuple[str, bool]:
    """The base model as the Space can read it: the spec's Hub id when the Hub's head is the
    pinned revision, else the local folder uploaded to a private repo (`names.base_repo`).

    Returns:
        The model id for AutoTrain, and whether it was uploaded (then cleanup deletes it).
    """
    ref = run.spec().base_model
    snapshot = ref.id is not None and "models--" in local  # the cache copy of ref.id@revision
    if snapshot and api.model_info(str(ref.id)).sha == ref.revision:
        return str(ref.id), False
    api.create_repo(names.base_repo, private=True, exist_ok=True)
    api.upload_folder(
        folder_path=local,
        repo_id=names.base_repo,
        commit_message=f"Base model for {run.job}/{run.run_id}",
    )
    return names.base_repo, True


def launch(runner: RunnerEnv, run: Run, config: dict[str, Any], token: str) -> None:
    """Run `autotrain --config` on `config` in the runner; it returns once the Space is
    created. The config goes to the run as `autotrain-space.yml`, the output (token masked)
    to `logs/space-launch.log`.

    Raises:
        ToolError: the runner is not installed, or AutoTrain failed (its last lines).
    """
    if not runner.is_installed():
        raise ToolError("the AutoTrain runner is not installed: run `dexter-auto runner install`")
    config_path = run.path / SPACE_CONFIG_FILE
    write_atomically(config_path, yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    online = {"HF_HUB_OFFLINE": "0", "HF_DATASETS_OFFLINE": "0", "TRANSFORMERS_OFFLINE": "0"}
    with tempfile.TemporaryDirectory(prefix="dexter-space-") as scratch:
        try:
            done = subprocess.run(
                [str(runner.bin / "autotrain"), "--config", str(config_path)],
                cwd=scratch,
                env=runner.environ() | online | {"HF_TOKEN": token},
                capture_output=True,
                text=True,
                timeout=LAUNCH_TIMEOUT_S,
            )
        except subprocess.TimeoutExpired:
            raise ToolError(
                f"`autotrain --config` did not create the Space within {LAUNCH_TIMEOUT_S} s"
            ) from None
    output = (done.stdout + done.stderr).replace(token, "***")
    log = run.path / LAUNCH_LOG
    log.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(log, output)
    if done.returncode != 0:
        tail = "\n".join(output.splitlines()[-TAIL_LINES:])
        raise ToolError(
            f"AutoTrain could not start the Space (exit {done.returncode}):\n{tail}\n"
            f"full output: {log}"
        )


def launch_record(names: SpaceNames, hardware: str, base_uploaded: bool) -> dict[str, Any]:
    """What the run's state keeps (`autotrain_space`): where everything is, and what trains."""
    return {
        "space": names.space,
        "data_repo": names.data_repo,
        "model_repo": names.model_repo,
        "base_model_repo": names.base_repo if base_uploaded else None,
        "hardware": hardware,
        "autotrain": LATEST_AUTOTRAIN,
        "note": (
            "AutoTrain pauses its Space when training ends, so the Hub shows it as paused by "
            "its owner; the trained model is in model_repo"
        ),
    }
