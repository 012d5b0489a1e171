"""This machine in a few words, for a model card: the processor model, its cores, a GPU."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from pathlib import Path


def describe_machine() -> str:
    """`Intel(R) Xeon(R) CPU @ 2.20GHz, 2 cores` (and `, NVIDIA H100 80GB HBM3` with a GPU)."""
    text = f"{_cpu_model()}, {os.cpu_count() or 1} cores"
    gpu = _gpu_name()
    return f"{text}, {gpu}" if gpu else text


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return " ".join(line.partition(":")[2].split())
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def _gpu_name() -> str | None:
    """The first GPU nvidia-smi names (no torch import), or None."""
    if shutil.which("nvidia-smi") is None:
        return None
    try:
        found = subprocess.run(
            ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    names = found.stdout.strip().splitlines()
    return names[0].strip() if names else None
