"""The run record: what `runs/<job>/<run-id>/state.json` may hold, as typed models.

Every write of a run's state goes through `RunState` (`Run.update` validates the merged
state before writing it), so a misspelt key or a value of the wrong type fails where it is
written instead of in a later reader. Unknown keys are refused (`extra="forbid"`); nested
records are models too, never `dict[str, Any]`. Runs written before the record had a schema
version read as version 1, the first one; a later change to the record raises
`SCHEMA_VERSION` and migrates older files in `RunState.check`.
"""

from __future__ import annotations

import warnings
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dexter_autotrain.errors import ToolError

SCHEMA_VERSION = 1
StateName = Literal[
    "pending",
    "preparing",
    "prepared",
    "training",
    "trained",
    "evaluating",
    "evaluated",
    "carding",
    "carded",
    "publishing",
    "published",
    "deploying",
    "deployed",
    "failed",
    "cancelled",
]
StageName = Literal["prepare", "train", "evaluate", "card", "gates", "publish", "deploy"]
Scalar = str | int | float | bool | None


class Record(BaseModel):
    """A part of the run record: unknown keys are an error."""

    model_config = ConfigDict(extra="forbid")
    described: ClassVar[str] = "the run record"

    def to_json(self) -> dict[str, Any]:
        """The record as the state file holds it (for card templates and `--json`): the
        keys it was read or written with, and no others."""
        return self.model_dump(mode="json", exclude_unset=True)

    def __getitem__(self, key: str) -> Any:
        """Deprecated: `state["key"]`, from when `Run.state()` returned a dict."""
        _warn_dict_access(key, self.described)
        if key not in type(self).model_fields:
            raise KeyError(key)
        return getattr(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        """Deprecated: `state.get("key")`, from when `Run.state()` returned a dict."""
        _warn_dict_access(key, self.described)
        value = getattr(self, key, None)
        return default if value is None else value


def _warn_dict_access(key: str, described: str) -> None:
    warnings.warn(
        f'reading {described} as a dict (["{key}"], .get("{key}")) is deprecated and will '
        f"be removed in the next minor version: use `.{key}`",
        DeprecationWarning,
        stacklevel=3,
    )


Checked = TypeVar("Checked", bound=Record)


def validated(model: type[Checked], data: object, where: str, what: str) -> Checked:
    """`data` as a `model`.

    Raises:
        ToolError: it is not one; the message names `where`, `what` it should be and each
            bad field.
    """
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or '(top)'}: {e['msg']}" for e in error.errors()
        )
        raise ToolError(f"{where}: not {what}: {problems}") from None


def plain(record: Record | None) -> dict[str, Any] | None:
    """`record.to_json()`, or None where the state holds none."""
    return None if record is None else record.to_json()


class GitRecord(Record):
    """The commit the spec was read at (`spec`: committed, modified or untracked; runs
    written before it was recorded lack it)."""

    commit: str
    dirty: bool
    spec: str | None = None


class Override(Record):
    """A setting a smoke run replaced: what the spec asks, and what the run used."""

    asked: Scalar
    used: Scalar


class DataOutput(Record):
    """One prepared data file: its path in the run, rows and hash."""

    path: str
    rows: int
    sha256: str


class HandleRecord(Record):
    """Where a training runs (backends/base.py's `Handle`)."""

    kind: str
    id: str
    urls: dict[str, str] = {}
    details: dict[str, Scalar] = {}


class RemoteJob(Record):
    """What the run keeps of an HF Job: where it ran, for how long, what it cost."""

    backend: str
    job_id: str
    url: str | None
    flavor: str
    seconds: float
    cost_usd: float
    max_cost_usd: float
    results: str


class TrainingSummary(Record):
    """The training's length, its last validation metrics, and what it ran on (a local
    machine's processor and GPU, or the remote flavor; runs written before lack it)."""

    seconds: float
    steps: int
    epoch: float
    validation: dict[str, float]
    hardware: str | None = None
    family: Literal["autotrain", "linear"] = "autotrain"
    """linear: `steps` counts the settings tried on the validation split, epochs mean nothing."""


class MemberRecord(Record):
    """A run that is one member of a job with candidates or seeds (`spec/members.py`):
    its family and seed, the group's id, and every seed the group trains (`training.seeds`
    or `submit --seeds`: a resumed group trains the same members)."""

    family: Literal["autotrain", "linear"]
    seed: int
    group: str
    seeds: list[int] = []


class Spread(Record):
    """One figure over a family's seeds: each seed's value, their mean and sample standard
    deviation (0 for one seed)."""

    values: list[float]
    mean: float
    sd: float


class MemberScores(Record):
    """One member's figures: its validation score (chooses the winner) and its test report's
    metrics, primary metric by slice group (`language=hau`), fairness gap and lift."""

    run_id: str
    family: Literal["autotrain", "linear"]
    seed: int
    validation: float
    test: dict[str, float | None]
    slices: dict[str, float | None] = {}
    fairness_gap: float | None = None
    lift: float | None = None


class FamilySpread(Record):
    """A family's figures over its seeds, each as a `Spread`."""

    family: Literal["autotrain", "linear"]
    seeds: list[int]
    validation: Spread
    test: dict[str, Spread]
    slices: dict[str, Spread] = {}
    fairness_gap: Spread | None = None
    lift: Spread | None = None


REPEATS_FILE = "repeats.json"
"""A published repeats record, beside the winner's evaluation on the Hub (`plan` reads it)."""


class RepeatsRecord(Record):
    """What a job with candidates or seeds trained and why its published model won: every
    member's figures, each family's mean and spread, the winner and the reason."""

    group: str
    metric: str
    members: list[MemberScores]
    families: list[FamilySpread]
    winner: str
    reason: str
    gates_on_mean: bool
    plot: str | None = None

    def winning_family(self) -> FamilySpread:
        """The published model's family, with its figures over its seeds."""
        won = next(member for member in self.members if member.run_id == self.winner)
        return next(family for family in self.families if family.family == won.family)

    def spread_text(self, metric: str, digits: int = 3) -> str | None:
        """`0.612 ± 0.018 (3 seeds)`: the winning family's test `metric` over its seeds
        (None when it has no such figure)."""
        family = self.winning_family()
        spread = family.test.get(metric)
        if spread is None:
            return None
        seeds = f"{len(family.seeds)} seed{'s' * (len(family.seeds) > 1)}"
        return f"{spread.mean:.{digits}f} ± {spread.sd:.{digits}f} ({seeds})"


class EvaluationVerdict(Record):
    """What the evaluate stage concluded (evaluation.json holds the whole report)."""

    split: str
    primary_metric: str
    value: float
    baseline_lift: float | None = None
    gates_passed: bool


class TrackingRecord(Record):
    """The MLflow run the run was logged to."""

    uri: str
    run_id: str
    experiment: str


class Forced(Record):
    """Why a run that failed its gates was published anyway (`publish --force`)."""

    reason: str


class Review(Record):
    """A run published for review: the Hub pull request it was opened as (`refs/pr/<num>`)."""

    num: int
    url: str
    branch: str
    base: str
    """The branch head the run was compared with: a merge after the branch moved is refused."""
    status: Literal["open", "merged", "closed"]
    reason: str | None = None
    """Why it was closed (`publish --close REASON`)."""


class Published(Record):
    """The Hub commit and tag the run was published as (for review: the pull request's
    commit, untagged until it is merged)."""

    repo_id: str
    commit: str
    tag: str | None
    url: str
    review: Review | None = None
    card_commit: str | None = None
    """The commit a later `deploy` made of the card alone (where the model is served)."""

    @property
    def awaiting_merge(self) -> bool:
        """Published for review and the pull request not merged (open or closed): the branch
        does not hold this run, so nothing may be tagged, deployed or pinned yet."""
        return self.review is not None and self.review.status != "merged"


class Parity(Record):
    """A deployment's smoke and parity test: answers equal to the run's predictions."""

    compared: int
    matching: int
    share: float


class ServeProcess(Record):
    """A local deployment's server process."""

    pid: int
    started: int | None


class Deployed(Record):
    """Where the run's model is served (hub/deployment.py's `Deployment`)."""

    target: str
    name: str
    namespace: str | None
    url: str
    repository: str | None
    revision: str | None
    status: str
    parity: Parity | None = None
    process: ServeProcess | None = None


class SpaceCleanup(Record):
    """What was done with the Space and its data repository after training."""

    space: str | None = None
    data_repo: str | None = None


class AutotrainSpace(Record):
    """The AutoTrain Space a run trained on, and what came back from it."""

    space: str
    data_repo: str
    model_repo: str
    base_model_repo: str | None = None
    hardware: str
    autotrain: str | None = None
    note: str | None = None
    model_commit: str | None = None
    trainer_state: str | None = None
    cleanup: SpaceCleanup | None = None


class TrialCounts(Record):
    total: int
    complete: int
    pruned: int
    failed: int


class SweepRecord(Record):
    """The sweep a run belongs to: a trial's id, folder and number; the promoted run also
    records how it was chosen."""

    id: str
    folder: str
    trial: int
    metric: str | None = None
    direction: str | None = None
    sampler: str | None = None
    pruner: str | None = None
    trials: TrialCounts | None = None
    space: dict[str, str] | None = None
    best_params: dict[str, Scalar] | None = None
    best_value: float | None = None
    plot: str | None = None


class TrialRow(Record):
    """One trial of a sweep, as its table, its record and the card show it."""

    number: int
    state: Literal["complete", "pruned", "failed", "interrupted", "running"]
    value: float | None
    epochs: int
    params: dict[str, Scalar]
    run: str | None
    seconds: float | None


class SweepState(Record):
    """A sweep's record, `runs/<job>/sweeps/<sweep-id>/sweep.json` (`sweeps.folder`). Keys
    written only from a given step on are optional."""

    described: ClassVar[str] = "the sweep record"

    job: str
    sweep_id: str
    state: Literal["preparing", "running", "trained", "promoting", "done", "failed"]
    created: str
    updated: str
    pid: int | None = None
    pid_started: int | None = None
    spec_path: str | None = None
    spec_sha256: str | None = None
    smoke: bool = False
    backend: str | None = None
    n_trials: int | None = None
    study: bool = False
    trials: list[TrialRow] = Field(default_factory=list)
    best: SweepRecord | None = None
    promoted: str | None = None
    reason: str | None = None


class RunState(Record):
    """A run's state file. Keys written only from a given stage on are optional.

    Example:
        ```python
        >>> Run(Path("runs/narrative/20261125-001830-fc69")).state().state
        'carded'
        ```
    """

    schema_version: int = SCHEMA_VERSION
    job: str
    run_id: str
    state: StateName
    created: str | None = None
    updated: str | None = None
    completed: list[StageName] = []
    pid: int | None = None
    pid_started: int | None = None
    reason: str | None = None
    stage: StageName | None = None
    stage_started: str | None = None
    finished: str | None = None
    spec_path: str | None = None
    spec_sha256: str | None = None
    git: GitRecord | None = None
    smoke: bool = False
    smoke_overrides: dict[str, Override] = Field(
        {}, description="the spec's settings a smoke run replaced (`training.epochs`, ...)"
    )
    model_dir: str | None = None
    backend: str | None = None
    resolved: dict[str, Scalar] = Field(
        {}, description="training settings the run chose: `auto` ones, a trial's parameters"
    )
    config_sha256: str | None = None
    base_model: str | None = None
    data_outputs: list[DataOutput] = []
    training_handle: HandleRecord | None = None
    training_since: float | None = None
    training_frameworks: dict[str, str] = {}
    remote_job: RemoteJob | None = None
    autotrain_space: AutotrainSpace | None = None
    training: TrainingSummary | None = None
    evaluation: EvaluationVerdict | None = None
    card: list[str] = []
    tracking: TrackingRecord | None = None
    forced: Forced | None = None
    published: Published | None = None
    deployed: Deployed | None = None
    sweep: SweepRecord | None = None
    member: MemberRecord | None = None
    repeats: RepeatsRecord | None = None

    def verdict(self) -> EvaluationVerdict:
        """The evaluate stage's verdict.

        Raises:
            ToolError: the run has not been evaluated.
        """
        if self.evaluation is None:
            raise ToolError(f"run {self.run_id}: not evaluated yet (state {self.state})")
        return self.evaluation

    @classmethod
    def check(cls, state: dict[str, object], where: str) -> RunState:
        """`state` as a record.

        Raises:
            ToolError: it is not one; the message names `where` and each bad field.
        """
        return validated(cls, state, where, "a run record")
