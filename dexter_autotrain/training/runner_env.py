"""AutoTrain's own environment (the runner), kept apart from the toolkit's.

autotrain-advanced 0.8.36 pins ~45 packages with `==` and would downgrade the toolkit's
libraries, so it lives in a venv of its own. Its torch is pinned to the build the toolkit
runs on (a CPU wheel on this project's machines) so pip never pulls gigabytes of CUDA; on a
CPU-only torch the CUDA torchvision and timm it brings are removed (they break model loading).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import venv
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from filelock import FileLock

from dexter_autotrain.errors import RunnerInstallError
from dexter_autotrain.system.versions import TRAINING_PACKAGES, installed_versions

AUTOTRAIN_REQUIREMENT = "autotrain-advanced==0.8.36"
DEFAULT_TORCH_REQUIREMENT = "torch==2.13.0"
MARKER_FILE = "dexter-runner.json"
CPU_ONLY_REMOVALS = ("torchvision", "timm")
SECRET_NAME = re.compile(
    r"(^|_)(TOKENS?|SECRETS?|PASSWORD|PASSWD|CREDENTIALS?|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY"
    r"|AUTH)(_|$)|(TOKEN|SECRET|PASSWORD|APIKEY)$",
    re.IGNORECASE,
)
"""Environment variables the runner never sees: local training needs no credentials, and
AutoTrain writes what it is given (HF_TOKEN) into training_params.json."""


@dataclass(frozen=True)
class RunnerEnv:
    """Where the runner lives and how to call into it."""

    root: Path

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    @property
    def python(self) -> Path:
        return self.bin / "python"

    @property
    def marker(self) -> Path:
        return self.root / MARKER_FILE

    def is_installed(self) -> bool:
        return self.marker.is_file() and self.python.exists()

    def describe(self) -> dict[str, str]:
        """What `install` recorded: the requirements it installed and what it removed."""
        return json.loads(self.marker.read_text()) if self.is_installed() else {}

    def versions(self) -> dict[str, str]:
        """AutoTrain, transformers and torch as installed in the runner: what trains."""
        return installed_versions(
            TRAINING_PACKAGES, list(self.root.glob("lib/python*/site-packages"))
        )

    def environ(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """Environment for processes in the runner: its bin/ first on PATH (several GPUs train
        through `accelerate launch`), offline Hub access, no user site-packages, and AutoTrain
        never trusting a model's own code (`ALLOW_REMOTE_CODE`).
        No credentials: every secret-looking variable is dropped, and HF_TOKEN_PATH points
        where no file is, so huggingface_hub's login file is not read either."""
        env = {
            name: value
            for name, value in (os.environ if base is None else base).items()
            if not SECRET_NAME.search(name)
        }
        env["PATH"] = f"{self.bin}{os.pathsep}{env.get('PATH', '')}"
        env["VIRTUAL_ENV"] = str(self.root)
        env.pop("PYTHONPATH", None)
        env |= {
            "PYTHONNOUSERSITE": "1",
            "HF_HUB_OFFLINE": "1",
            "HF_DATASETS_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "ALLOW_REMOTE_CODE": "false",  # AutoTrain's own switch (true by default)
            "HF_TOKEN_PATH": str(self.root / "no-hf-token" / "token"),
            "HF_STORED_TOKENS_PATH": str(self.root / "no-hf-token" / "stored_tokens"),
        }
        return env


def cache_dir() -> Path:
    """The toolkit's folder in the user's cache directory (the runner, tiny smoke models)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "dexter-autotrain"


def default_runner() -> RunnerEnv:
    """`$DEXTER_RUNNER_DIR`, else a folder in the user's cache directory."""
    configured = os.environ.get("DEXTER_RUNNER_DIR")
    if configured:
        return RunnerEnv(Path(configured).expanduser())
    return RunnerEnv(cache_dir() / "runner-autotrain-0.8.36")


def install(runner: RunnerEnv, step: Callable[[str], None], log: Path) -> dict[str, str]:
    """Create the runner if it is missing; idempotent, and safe against concurrent installs."""
    runner.root.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(runner.root.with_name(runner.root.name + ".lock")):
        if runner.is_installed():
            return runner.describe()
        torch = os.environ.get("DEXTER_RUNNER_TORCH") or _toolkit_torch()
        with log.open("w") as log_file:
            step("creating the virtual environment")
            venv.EnvBuilder(with_pip=True, clear=True).create(runner.root)
            pip = [str(runner.python), "-m", "pip", "--disable-pip-version-check"]
            step(f"installing {torch}")
            _run([*pip, "install", torch], log_file)
            constraints = runner.root / "constraints.txt"
            constraints.write_text(_installed_torch(runner) + "\n")
            step(f"installing {AUTOTRAIN_REQUIREMENT} (about 2 minutes)")
            _run([*pip, "install", AUTOTRAIN_REQUIREMENT, "-c", str(constraints)], log_file)
            removed = []
            if not _torch_has_cuda(runner):
                step("removing the CUDA-only torchvision and timm (CPU torch)")
                _run([*pip, "uninstall", "-y", *CPU_ONLY_REMOVALS], log_file)
                removed = list(CPU_ONLY_REMOVALS)
        record = {
            "autotrain": AUTOTRAIN_REQUIREMENT,
            "torch": _installed_torch(runner),
            "removed": ",".join(removed),
            "python": sys.version.split()[0],
        }
        runner.marker.write_text(json.dumps(record, indent=2) + "\n")
        return record


def _toolkit_torch() -> str:
    """Pin the runner to the torch build the toolkit itself runs on, so both agree and pip
    never reaches for another (CUDA) build."""
    try:
        return f"torch=={metadata.version('torch')}"
    except metadata.PackageNotFoundError:
        return DEFAULT_TORCH_REQUIREMENT


def _run(command: list[str], log_file) -> None:
    log_file.write(f"$ {' '.join(command)}\n")
    log_file.flush()
    result = subprocess.run(command, stdout=log_file, stderr=subprocess.STDOUT, check=False)
    if result.returncode != 0:
        raise RunnerInstallError(
            f"`{' '.join(command[3:])}` failed (exit {result.returncode})", Path(log_file.name)
        )


def _installed_torch(runner: RunnerEnv) -> str:
    version = _runner_output(runner, "import torch; print(torch.__version__)")
    return f"torch=={version}"


def _torch_has_cuda(runner: RunnerEnv) -> bool:
    return _runner_output(runner, "import torch; print(torch.version.cuda)") != "None"


def _runner_output(runner: RunnerEnv, code: str) -> str:
    return subprocess.run(
        [str(runner.python), "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
