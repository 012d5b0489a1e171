"""Where a credential may go: the operator's allow-lists, never a spec's.

A job spec (it may come from a pull request) names *what* to train and may choose *among*
destinations the operator allows; it can never add one. The operator lists them in the
environment (in GitHub Actions: variables of the protected environment):

- `DEXTER_ALLOWED_IMAGES`: container images an HF Job may run (the job holds the HF token as
  a secret); AutoTrain's pinned image is always allowed.
- `DEXTER_ALLOWED_NAMESPACES`: Hub namespaces for staging repositories, beside the namespace
  of the job's own `hub.repo_id`.
- `DEXTER_TRACKING_SERVERS`: MLflow servers that may receive `MLFLOW_TRACKING_TOKEN`; by
  default none (the local SQLite store), and a smoke run logs only locally.
- `DEXTER_SWEEP_STORAGE`: Optuna storage URLs beyond the sweep's own folder under runs/.

Values are separated by spaces or commas. The checks run where the credential is attached
(the HF Jobs backend, the MLflow client, the Optuna study) and, for a located error before
anything runs, when a spec is loaded (`validate`, `plan`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from dexter_autotrain.errors import UserError

DEFAULT_IMAGE = "huggingface/autotrain-advanced:0.8.36"
"""AutoTrain's own image at the runner's version: the one image always allowed."""
_SEPARATORS = re.compile(r"[\s,]+")


def _listed(environ: Mapping[str, str], name: str) -> frozenset[str]:
    return frozenset(item.rstrip("/") for item in _SEPARATORS.split(environ.get(name, "")) if item)


@dataclass(frozen=True)
class OperatorPolicy:
    """The operator's allow-lists (the variables the module docstring lists)."""

    images: frozenset[str]
    namespaces: frozenset[str]
    tracking_servers: frozenset[str]
    sweep_storage: frozenset[str]

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> OperatorPolicy:
        """The policy the environment sets (this process's by default).

        Example:
            >>> OperatorPolicy.from_environment({"DEXTER_ALLOWED_IMAGES": "acme/train:1"}).images
            frozenset({'acme/train:1'})
        """
        env = os.environ if environ is None else environ
        return cls(
            images=_listed(env, "DEXTER_ALLOWED_IMAGES"),
            namespaces=_listed(env, "DEXTER_ALLOWED_NAMESPACES"),
            tracking_servers=_listed(env, "DEXTER_TRACKING_SERVERS"),
            sweep_storage=_listed(env, "DEXTER_SWEEP_STORAGE"),
        )

    def image_problem(self, image: str | None) -> str | None:
        """Why an HF Job may not run `image` (None: it may; unset means the default)."""
        if image is None or image == DEFAULT_IMAGE or image in self.images:
            return None
        return f"{image} is not an image the operator allows (DEXTER_ALLOWED_IMAGES)"

    def staging_problem(self, staging_repo: str, repo_id: str | None) -> str | None:
        """Why the job's inputs may not be staged in `staging_repo`."""
        namespace = staging_repo.split("/")[0]
        own = repo_id.split("/")[0] if repo_id else None
        if namespace == own or namespace in self.namespaces:
            return None
        return (
            f"{staging_repo} is outside the namespaces the operator allows for staging "
            f"({', '.join(sorted({*self.namespaces, *([own] if own else [])})) or 'none'}; "
            "DEXTER_ALLOWED_NAMESPACES)"
        )

    def tracking_problem(self, uri: str | None) -> str | None:
        """Why MLflow's token may not be sent to `uri` (None: the local store, or listed)."""
        if uri is None or uri.rstrip("/") in self.tracking_servers:
            return None
        return f"{uri} is not a tracking server the operator allows (DEXTER_TRACKING_SERVERS)"

    def storage_problem(self, storage: str | None) -> str | None:
        """Why a sweep may not keep its study in `storage` (None: the sweep's own folder)."""
        if storage is None or storage.rstrip("/") in self.sweep_storage:
            return None
        return (
            "a storage URL the operator has not listed (DEXTER_SWEEP_STORAGE); leave it unset "
            "to keep the study in the sweep's folder"
        )


def require(field: str, problem: str | None) -> None:
    """Raise the refusal of a destination where the credential would be attached.

    Raises:
        UserError: `problem` is set (`field: problem`).
    """
    if problem is not None:
        raise UserError(f"{field}: {problem}")
