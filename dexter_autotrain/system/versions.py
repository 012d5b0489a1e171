"""Versions of the libraries a run trained and was evaluated with, for its model card."""

from __future__ import annotations

import re
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

FRAMEWORKS = ("transformers", "torch")
TRAINING_PACKAGES = ("autotrain-advanced", *FRAMEWORKS)
"""Recorded from the runner when training starts (state.json `training_frameworks`)."""
TRAINING_SCRIPT = {
    "dexter-autotrain": "training script: the job's seed sets the data order, the dropout and "
    "the new head (drawn from the seed alone, the same under any transformers)"
}
"""What the card says of the toolkit's training script (runner_scripts/train.py) beside the
runner's versions, for runs it trained (locally; an AutoTrain Space runs AutoTrain's own)."""
EVALUATION_PACKAGES = ("dexter-autotrain", *FRAMEWORKS)
"""Recorded from the toolkit's environment in evaluation.json (`frameworks`)."""


def installed_versions(names: Iterable[str], paths: list[Path] | None = None) -> dict[str, str]:
    """`{name: version}` of those of `names` installed (in `paths`' site-packages when given,
    else in this interpreter's), read from package metadata without importing anything."""
    found = {
        _normalised(dist.metadata["Name"] or ""): dist.version
        for dist in (
            metadata.distributions(path=[str(path) for path in paths])
            if paths is not None
            else metadata.distributions()
        )
    }
    return {name: found[name] for name in names if name in found}


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
