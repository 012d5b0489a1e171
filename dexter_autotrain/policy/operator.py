"""Where a credential may go and what a run may cost: the operator's settings, never a spec's.

A job spec (it may come from a pull request) names *what* to train and may choose *among*
destinations the operator allows; it can never add one. The operator sets them in one file at
the top of the repository, `dexter-operator.yaml` (protected by CODEOWNERS), and in the
environment (in GitHub Actions: variables of the protected environment); the two add up
(lists are joined, the lower of two caps holds):

- `images` / `DEXTER_ALLOWED_IMAGES`: container images an HF Job may run (the job holds the
  HF token); AutoTrain's pinned image is always allowed.
- `namespaces` / `DEXTER_ALLOWED_NAMESPACES`: Hub namespaces for staging repositories,
  beside the namespace of the job's own `hub.repo_id`.
- `tracking_servers` / `DEXTER_TRACKING_SERVERS`: MLflow servers that may receive
  `MLFLOW_TRACKING_TOKEN`; by default none (the local store), and a smoke run logs locally.
- `sweep_storage` / `DEXTER_SWEEP_STORAGE`: Optuna storage URLs beyond the sweep's folder.
- `data_roots` / `DEXTER_DATA_ROOTS`: folders outside the repository specs may read data from.
- `ray_address` / `DEXTER_RAY_ADDRESS`: the Ray cluster `predict --engine ray` runs on
  (`ray://head:10001`, or `auto`); unset: a local Ray instance on this machine.
- `caps:` / `DEXTER_MAX_RUN_USD` and the others of `CAP_VARIABLES`: cost caps (`CostCaps`).

In a pull-request run, `DEXTER_OPERATOR_BASE` names the base branch: the file is then read
from it (`git show BASE:dexter-operator.yaml`), never from the checkout, so a pull request
cannot widen the lists it is checked against. `DEXTER_PROFILE=development` adds the
development profile, `dexter-operator.development.yaml` (the shared data folder the example
jobs read); production never sets it. Values in variables are separated by spaces or commas
(`DEXTER_DATA_ROOTS` by `:`). The checks run where the credential is attached (the HF Jobs
backend, the MLflow client, the Optuna study, the endpoint) and, for a located error before
anything runs, when a spec is loaded (`validate`, `plan`).
"""

from __future__ import annotations

import functools
import os
import re
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dexter_autotrain.errors import UserError
from dexter_autotrain.system.repository import repository_root

DEFAULT_IMAGE = "huggingface/autotrain-advanced:0.8.36"
"""AutoTrain's own image at the runner's version: the one image always allowed."""
OPERATOR_FILE = "dexter-operator.yaml"
DEVELOPMENT_PROFILE = "dexter-operator.development.yaml"
BASE_VARIABLE = "DEXTER_OPERATOR_BASE"
PROFILE_VARIABLE = "DEXTER_PROFILE"
DATA_ROOTS_VARIABLE = "DEXTER_DATA_ROOTS"
RAY_ADDRESS_VARIABLE = "DEXTER_RAY_ADDRESS"
CAP_VARIABLES = {
    "run_usd": "DEXTER_MAX_RUN_USD",
    "sweep_usd": "DEXTER_MAX_SWEEP_USD",
    "endpoint_usd_per_day": "DEXTER_MAX_ENDPOINT_USD_PER_DAY",
    "replicas": "DEXTER_MAX_REPLICAS",
    "parallel_trials": "DEXTER_MAX_PARALLEL_TRIALS",
}
_LIST_VARIABLES = {
    "images": "DEXTER_ALLOWED_IMAGES",
    "namespaces": "DEXTER_ALLOWED_NAMESPACES",
    "tracking_servers": "DEXTER_TRACKING_SERVERS",
    "sweep_storage": "DEXTER_SWEEP_STORAGE",
    "data_roots": DATA_ROOTS_VARIABLE,
}
_SEPARATORS = re.compile(r"[\s,]+")
_MAX_FILE_BYTES = 64 * 1024


@dataclass(frozen=True)
class CostCaps:
    """The most the operator lets a spec spend; None: no cap.

    Attributes:
        run_usd: one run on Hub hardware (its flavor for the whole `compute.timeout`).
        sweep_usd: a whole sweep (`n_trials` runs at that price), or a job's remote
            trainings over its candidates and seeds.
        endpoint_usd_per_day: an Inference Endpoint at `max_replicas` all day.
        replicas: an endpoint's `max_replicas`.
        parallel_trials: a sweep's `parallel`; a job's remote members training at once.
    """

    run_usd: float | None = None
    sweep_usd: float | None = None
    endpoint_usd_per_day: float | None = None
    replicas: int | None = None
    parallel_trials: int | None = None

    def tighter(self, other: CostCaps) -> CostCaps:
        """Each cap the lower of the two (an unset one leaves the other)."""
        values = {}
        for each in fields(self):
            mine, theirs = getattr(self, each.name), getattr(other, each.name)
            values[each.name] = (
                theirs if mine is None else mine if theirs is None else min(mine, theirs)
            )
        return CostCaps(**values)


class _Caps(BaseModel):
    model_config = ConfigDict(extra="forbid")
    run_usd: Annotated[float, Field(ge=0)] | None = None
    sweep_usd: Annotated[float, Field(ge=0)] | None = None
    endpoint_usd_per_day: Annotated[float, Field(ge=0)] | None = None
    replicas: Annotated[int, Field(ge=1)] | None = None
    parallel_trials: Annotated[int, Field(ge=1)] | None = None


class _OperatorFile(BaseModel):
    """`dexter-operator.yaml` (and the development profile): every key optional."""

    model_config = ConfigDict(extra="forbid")
    images: list[str] = []
    namespaces: list[str] = []
    tracking_servers: list[str] = []
    sweep_storage: list[str] = []
    data_roots: list[str] = []
    ray_address: str | None = None
    caps: _Caps = _Caps()


def _listed(environ: Mapping[str, str], name: str) -> frozenset[str]:
    return frozenset(item for item in _SEPARATORS.split(environ.get(name, "")) if item)


@dataclass(frozen=True)
class OperatorPolicy:
    """The operator's allow-lists and caps (the table in the module docstring)."""

    images: frozenset[str] = frozenset()
    namespaces: frozenset[str] = frozenset()
    tracking_servers: frozenset[str] = frozenset()
    sweep_storage: frozenset[str] = frozenset()
    data_roots: tuple[Path, ...] = ()
    ray_address: str | None = None
    caps: CostCaps = field(default_factory=CostCaps)

    @classmethod
    def load(
        cls, environ: Mapping[str, str] | None = None, repository: Path | None = None
    ) -> OperatorPolicy:
        """The policy of the operator's files and environment (this process's by default).

        Args:
            environ: the environment to read.
            repository: where the operator files are (default: the working directory's
                repository: the operator's checkout the command runs in).

        Raises:
            [`UserError`]: an operator file or variable is malformed, or the base branch
                cannot be read.

        Example:
            ```python
            >>> OperatorPolicy.load({"DEXTER_ALLOWED_IMAGES": "acme/train:1"}).images
            frozenset({'acme/train:1', ...})
            ```
        """
        env = os.environ if environ is None else environ
        root = repository_root(Path.cwd()) if repository is None else repository
        settings = tuple(env.get(name, "") for name in _VARIABLES)
        return _loaded(settings, root, _files_stamp(root))

    @classmethod
    def _from_variables(cls, env: Mapping[str, str]) -> OperatorPolicy:
        caps = {}
        for key, variable in CAP_VARIABLES.items():
            if env.get(variable, "").strip():
                caps[key] = _number(variable, env[variable], int if "usd" not in key else float)
        roots = env.get(DATA_ROOTS_VARIABLE, "").split(os.pathsep)
        return cls(
            images=_listed(env, _LIST_VARIABLES["images"]),
            namespaces=_listed(env, _LIST_VARIABLES["namespaces"]),
            tracking_servers=_listed(env, _LIST_VARIABLES["tracking_servers"]),
            sweep_storage=_listed(env, _LIST_VARIABLES["sweep_storage"]),
            data_roots=tuple(Path(p).expanduser().resolve() for p in roots if p.strip()),
            ray_address=env.get(RAY_ADDRESS_VARIABLE, "").strip() or None,
            caps=CostCaps(**caps),
        )

    def joined(self, other: OperatorPolicy) -> OperatorPolicy:
        """Both policies' lists, and the tighter of their caps."""
        return OperatorPolicy(
            images=self.images | other.images,
            namespaces=self.namespaces | other.namespaces,
            tracking_servers=self.tracking_servers | other.tracking_servers,
            sweep_storage=self.sweep_storage | other.sweep_storage,
            data_roots=(*self.data_roots, *other.data_roots),
            ray_address=self.ray_address or other.ray_address,
            caps=self.caps.tighter(other.caps),
        )

    def image_problem(self, image: str | None) -> str | None:
        """Why an HF Job may not run `image` (None: it may; unset means the default)."""
        if image is None or image == DEFAULT_IMAGE or image in self.images:
            return None
        return f"{image} is not an image the operator allows ({_where('images')})"

    def staging_problem(
        self, staging_repo: str, repo_id: str | None, what: str = "staging"
    ) -> str | None:
        """Why the job's inputs (or `what` else) may not be written to `staging_repo`."""
        namespace = staging_repo.split("/")[0]
        own = repo_id.split("/")[0] if repo_id else None
        if namespace == own or namespace in self.namespaces:
            return None
        return (
            f"{staging_repo} is outside the namespaces the operator allows for {what} "
            f"({', '.join(sorted({*self.namespaces, *([own] if own else [])})) or 'none'}; "
            f"{_where('namespaces')})"
        )

    def tracking_problem(self, uri: str | None) -> str | None:
        """Why MLflow's token may not be sent to `uri` (None: the local store, or listed)."""
        if uri is None or uri.rstrip("/") in {s.rstrip("/") for s in self.tracking_servers}:
            return None
        return f"{uri} is not a tracking server the operator allows ({_where('tracking_servers')})"

    def storage_problem(self, storage: str | None) -> str | None:
        """Why a sweep may not keep its study in `storage` (None: the sweep's own folder)."""
        if storage is None or storage.rstrip("/") in {s.rstrip("/") for s in self.sweep_storage}:
            return None
        return (
            f"a storage URL the operator has not listed ({_where('sweep_storage')}); leave it "
            "unset to keep the study in the sweep's folder"
        )


def _where(key: str) -> str:
    """Where the operator sets `key`: `images in dexter-operator.yaml, or DEXTER_ALLOWED_IMAGES`."""
    return f"{key} in {OPERATOR_FILE}, or {_LIST_VARIABLES[key]}"


def require(field: str, problem: str | None) -> None:
    """Raise the refusal of a destination where the credential would be attached.

    Raises:
        UserError: `problem` is set (`field: problem`).
    """
    if problem is not None:
        raise UserError(f"{field}: {problem}")


_VARIABLES = (
    *_LIST_VARIABLES.values(),
    BASE_VARIABLE,
    PROFILE_VARIABLE,
    RAY_ADDRESS_VARIABLE,
    *CAP_VARIABLES.values(),
)


def _files_stamp(root: Path) -> tuple[float, ...]:
    """When the operator files last changed (a changed file is read again)."""
    return tuple(
        path.stat().st_mtime if path.is_file() else 0.0
        for path in (root / OPERATOR_FILE, root / DEVELOPMENT_PROFILE, root / ".git" / "HEAD")
    )


@functools.lru_cache(maxsize=32)
def _loaded(settings: tuple[str, ...], root: Path, stamp: tuple[float, ...]) -> OperatorPolicy:
    """The policy of these variable values and files (cached: a spec's paths each ask)."""
    env = dict(zip(_VARIABLES, settings, strict=True))
    policy = OperatorPolicy._from_variables(env)
    for name, text in _operator_texts(env, root):
        policy = policy.joined(_parsed(name, text, root))
    return policy


def _number(variable: str, text: str, kind: type) -> float | int:
    try:
        value = kind(text)
    except ValueError:
        raise UserError(f"{variable}={text!r}: not a number") from None
    if value < 0 or (kind is int and value < 1):
        raise UserError(
            f"{variable}={text!r}: must be {'1 or more' if kind is int else 'positive'}"
        )
    return value


def _operator_texts(env: Mapping[str, str], root: Path) -> list[tuple[str, str]]:
    """The operator files to read, as (name, text): the operator file, then the development
    profile when `DEXTER_PROFILE=development`; from the base branch when one is named."""
    profile = env.get(PROFILE_VARIABLE, "").strip()
    if profile not in ("", "production", "development"):
        raise UserError(f"{PROFILE_VARIABLE}={profile!r}: use development, or leave it unset")
    names = [OPERATOR_FILE, *([DEVELOPMENT_PROFILE] if profile == "development" else [])]
    base = env.get(BASE_VARIABLE, "").strip()
    texts = [
        (name, _at_base(root, base, name) if base else _in_checkout(root, name)) for name in names
    ]
    return [(name, text) for name, text in texts if text is not None]


def _in_checkout(root: Path, name: str) -> str | None:
    path = root / name
    if not path.is_file() or path.is_symlink():
        return None
    with path.open("rb") as file:
        return file.read(_MAX_FILE_BYTES).decode("utf-8", errors="replace")


def _at_base(root: Path, base: str, name: str) -> str | None:
    """`name` as the base branch has it (None: the base has none), never the checkout's."""
    if base.startswith("-"):
        raise UserError(f"{BASE_VARIABLE}={base!r}: not a branch or commit")
    known = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if known.returncode != 0:
        raise UserError(
            f"{BASE_VARIABLE}={base!r}: not a commit this checkout knows; fetch the base "
            "branch first (actions/checkout with fetch-depth: 0)"
        )
    shown = subprocess.run(
        ["git", "-C", str(root), "show", f"{known.stdout.strip()}:{name}"],
        capture_output=True, check=False,
    )  # fmt: skip
    return (
        shown.stdout[:_MAX_FILE_BYTES].decode("utf-8", errors="replace")
        if shown.returncode == 0
        else None
    )


def _parsed(name: str, text: str, root: Path) -> OperatorPolicy:
    """The policy one operator file sets; data roots are relative to the repository."""
    try:
        content = _OperatorFile.model_validate(yaml.safe_load(text) or {})
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise UserError(
            f"{name}{line}: not valid YAML ({getattr(error, 'problem', error)})"
        ) from None
    except ValidationError as error:
        detail = error.errors()[0]
        where = ".".join(str(part) for part in detail["loc"]) or "(top level)"
        raise UserError(f"{name}: {where}: {detail['msg']}") from None
    return OperatorPolicy(
        images=frozenset(content.images),
        namespaces=frozenset(content.namespaces),
        tracking_servers=frozenset(content.tracking_servers),
        sweep_storage=frozenset(content.sweep_storage),
        data_roots=tuple((root / each).resolve() for each in content.data_roots),
        ray_address=content.ray_address,
        caps=CostCaps(**content.caps.model_dump()),
    )
