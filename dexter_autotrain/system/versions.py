"""Versions of the libraries a run trained and was evaluated with, for its model card."""

from __future__ import annotations

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
    else in this interpreter's), read from package metadata without importing anything.

    Each name is looked up by its distribution folder's name: reading every installed
    package's metadata instead took a quarter of a CPU-second a call."""
    where = {"path": [str(path) for path in paths]} if paths is not None else {}
    found = {}
    for name in names:
        dist = next(iter(metadata.distributions(name=name, **where)), None)
        if dist is not None:
            found[name] = dist.version
    return found
