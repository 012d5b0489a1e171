"""The models one job trains: each family it names (`model.family` and `model.candidates`)
once per seed (`training.seeds`, else `training.seed`). A job of one family and one seed has
one member, itself; others train every member on the same splits and publish one.

Each member is a run of its own, whose spec is the job's with that family and seed alone
(`member_spec`): every stage reads it as it reads any run's spec.
"""

from __future__ import annotations

from dataclasses import dataclass

from dexter_autotrain.spec.model import Family, JobSpec

DETERMINISTIC = ("linear",)
"""Families whose training uses no randomness: another seed trains the same model, so they
train once, with the first seed."""
TRAINED_HERE = ("linear",)
"""Families trained in this process whatever `compute.backend`: no remote charge."""


@dataclass(frozen=True)
class Member:
    """One model of a job: a family trained with a seed."""

    family: Family
    seed: int

    @property
    def label(self) -> str:
        return f"{self.family} seed {self.seed}"

    @property
    def trained_here(self) -> bool:
        """Whether it trains in this process whatever `compute.backend` (`TRAINED_HERE`)."""
        return self.family in TRAINED_HERE


def members(spec: JobSpec) -> list[Member]:
    """Every member of the job, family by family, seed by seed.

    Example:
        ```python
        >>> [m.label for m in members(spec)]  # model: {family: autotrain, candidates: [linear]}
        ['autotrain seed 42', 'linear seed 42']
        ```
    """
    seeds = spec.training.seeds or [spec.training.seed]
    families = [spec.model.family, *spec.model.candidates]
    return [
        Member(family, seed)
        for family in families
        for seed in (seeds[:1] if family in DETERMINISTIC else seeds)
    ]


def remote_trainings(spec: JobSpec) -> int:
    """How many of the job's members train on `compute.backend` (the others train here)."""
    return sum(not member.trained_here for member in members(spec))


def with_seeds(spec: JobSpec, count: int) -> JobSpec:
    """`spec` repeated over `count` seeds from its own (`submit --seeds N`); 1: itself."""
    if count <= 1:
        return spec
    seeds = [spec.training.seed + offset for offset in range(count)]
    return spec.model_copy(update={"training": spec.training.model_copy(update={"seeds": seeds})})


def member_spec(spec: JobSpec, member: Member) -> JobSpec:
    """The job as `member` trains it: its family alone, its seed as `training.seed`."""
    model = spec.model.model_copy(update={"family": member.family, "candidates": []})
    training = spec.training.model_copy(update={"seed": member.seed, "seeds": None})
    update = {"model": model, "training": training}
    if member.family == "linear":
        update["base_model"] = None
    return spec.model_copy(update=update)
