"""What `plan` found: one `JobPlan` per job file, in a `Plan` (as JSON for the workflows)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from dexter_autotrain.errors import Problem
from dexter_autotrain.plan.cost import RunEstimate

STATUSES = ("added", "changed", "removed", "invalid", "unchanged")


@dataclass(frozen=True)
class FileChange:
    """One file of a local data source that differs: its sha256 on each side (None: absent)."""

    path: str
    base_sha256: str | None
    new_sha256: str | None


@dataclass(frozen=True)
class SourceChange:
    """A data source added, removed or changed (`path` relative to the repository, a path
    outside it as resolved, or `hub:ID@REV`)."""

    source: str
    change: str
    files: list[FileChange] = field(default_factory=list)


@dataclass(frozen=True)
class CardPreview:
    """The card the job would publish, where its numbers come from, and its diff against
    the card the base would publish ("" when the job is new or the card is the same)."""

    text: str
    numbers: str
    diff: str


@dataclass(frozen=True)
class JobPlan:
    """One job file compared across the two sides.

    Attributes:
        path: the spec file, relative to the repository (`jobs/narrative.yaml`).
        name: the job's name (the file's stem when the spec cannot be read).
        status: one of `STATUSES`.
        reasons: what changed (`spec`, `config`, `data`, `card`).
        spec_diff: unified diff of the effective spec (after `extends:` and defaults).
        config_diff: unified diff of the rendered AutoTrain config.
        data: data sources added, removed or changed.
        run: what would run and the most it can cost (added and changed jobs).
        card: the card preview (added and changed jobs).
        problems: why the spec is invalid.
        smoke_hidden: settings this change sets that a smoke run (CI's) replaces, so
            only a full run shows them: `training.learning_rate: 3e-05 (a smoke run trains
            with 0.001)`.
    """

    path: str
    name: str
    status: str
    reasons: list[str] = field(default_factory=list)
    spec_diff: str = ""
    config_diff: str = ""
    data: list[SourceChange] = field(default_factory=list)
    run: RunEstimate | None = None
    card: CardPreview | None = None
    problems: list[Problem] = field(default_factory=list)
    smoke_hidden: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Plan:
    """The whole comparison.

    Attributes:
        base_ref: how the base was chosen (`main`, `merge base with origin/main`).
        base_commit: the base commit.
        prices: where the prices came from.
        jobs: every job file on either side, by path.
        data_unchecked: jobs to run whose local data was not checked (`--no-data`).
    """

    base_ref: str
    base_commit: str
    prices: str
    jobs: list[JobPlan]
    data_unchecked: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return all(job.status != "invalid" for job in self.jobs)

    @property
    def to_run(self) -> list[str]:
        """Spec files a smoke run should check: the added and changed jobs."""
        return [job.path for job in self.jobs if job.status in ("added", "changed")]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: `ok`, the counts by status, `to_run` (the workflow's matrix) and
        every job."""
        counts = {status: sum(job.status == status for job in self.jobs) for status in STATUSES}
        return {
            "ok": self.valid,
            "base": {"ref": self.base_ref, "commit": self.base_commit},
            "prices": self.prices,
            "counts": counts,
            "to_run": self.to_run,
            "data_unchecked": self.data_unchecked,
            "jobs": [asdict(job) for job in self.jobs],
        }
