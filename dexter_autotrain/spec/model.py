"""The job spec: one reviewed YAML file per model, validated strictly by these models.

Field types and ranges live here; rules that tie fields together (a column mapping that fits
the task, metrics the task can report) live in `rules.py` so that every problem in a spec is
reported at once.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from dexter_autotrain.tasks import TASKS, get_task

Task = Literal["text-classification", "token-classification", "image-classification"]
SplitName = Literal["train", "validation", "test"]
SourceFormat = Literal[
    "csv", "tsv", "jsonl", "parquet", "conll", "hf-dataset", "imagefolder", "image-csv"
]

JobName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,47}$")]
LanguageCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")]
HubRepoId = Annotated[
    str, StringConstraints(pattern=r"^(?:[A-Za-z0-9][\w.-]*/)?[A-Za-z0-9][\w.-]*$", max_length=96)
]
CommitSha = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{40}$")]
Duration = Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]*[smhd]$")]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
NonEmptyText = Annotated[str, StringConstraints(min_length=1)]
Seed = Annotated[int, Field(ge=0, le=2**32 - 1)]
"""numpy and torch seeds are unsigned 32-bit: a larger one would fail, or be ignored."""

Precision = Literal["auto", "bfloat16", "float32"]

METRICS_BY_TASK: dict[str, tuple[str, ...]] = {name: t.metrics for name, t in TASKS.items()}
PRIMARY_METRIC = {name: task.primary_metric for name, task in TASKS.items()}
COLUMNS_BY_TASK: dict[str, tuple[str, ...]] = {name: t.columns for name, t in TASKS.items()}
"""Required column roles per task; `language` is optional for every task."""


class _Section(BaseModel):
    """Strict base: unknown keys and silent type coercion are errors."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class BaseModelRef(_Section):
    """The model to fine-tune: a Hub id pinned to a commit, or a local directory."""

    id: HubRepoId | None = Field(None, description="Hub model id, e.g. FacebookAI/xlm-roberta-base")
    revision: CommitSha | None = Field(None, description="40-character commit sha of `id`")
    path: NonEmptyText | None = Field(
        None, description="local model directory, relative to the spec file"
    )


class Columns(_Section):
    """Which source column plays which role. Unset roles default to the role's own name."""

    text: NonEmptyText | Annotated[list[NonEmptyText], Field(min_length=2, max_length=8)] | None = (
        Field(
            None,
            description="the text column; or several, [headline, text], joined in that order "
            "with a blank line (tasks.text_join) into the one text the model reads",
        )
    )
    label: NonEmptyText | None = None
    tokens: NonEmptyText | None = None
    tags: NonEmptyText | None = None
    image: NonEmptyText | None = None
    language: NonEmptyText | None = Field(
        None, description="column holding a language code; else the source's `language`"
    )


Backend = Literal["local", "hf-jobs", "autotrain-spaces"]
"""Where a run trains (`compute.backend`; `api.backend_names()`)."""


class Source(_Section):
    """One place data comes from. `{language}` in `path` expands over the job's languages."""

    path: NonEmptyText | None = Field(
        None, description="file or directory, relative to the spec file"
    )
    hub: HubRepoId | None = Field(None, description="Hub dataset id (needs `revision`)")
    revision: CommitSha | None = None
    subset: NonEmptyText | None = Field(None, description="Hub dataset configuration name")
    format: SourceFormat | None = Field(None, description="default: from the file extension")
    language: LanguageCode | None = None
    split: SplitName | None = Field(
        None,
        description="the split this source is; unset: a directory holding "
        "train/dev/test files, or data to split by ratio",
    )
    license: NonEmptyText | None = Field(
        None,
        description="the data's licence (a Hub licence id: cc-by-4.0, cc-by-nc-4.0, ...; or "
        "research-only): listed in the card, and checked against card.license at publish",
    )


class SplitRatios(_Section):
    """How to carve validation and test sets when the sources do not give them."""

    validation: Annotated[float, Field(ge=0.0, lt=0.5)] = 0.1
    test: Annotated[float, Field(ge=0.0, lt=0.5)] = 0.1
    seed: Seed = 42
    stratify_by: list[Literal["label", "language"]] = ["label", "language"]


class Upsampling(_Section):
    """Repeat train examples of low-resource languages, at most `cap` times each."""

    target: Annotated[int, Field(ge=1)] | None = Field(
        None, description="examples per language to reach; default: the largest language's"
    )
    cap: Annotated[float, Field(ge=1.0, le=100.0)] = 3.0


class Data(_Section):
    sources: Annotated[list[Source], Field(min_length=1)]
    columns: Columns = Columns()
    split: SplitRatios = SplitRatios()
    labels: Annotated[list[NonEmptyText], Field(min_length=2)] | None = Field(
        None, description="the label set (after `label_map`); default: found in the data"
    )
    label_map: dict[str, str] = Field(
        default_factory=dict, description="rename labels, e.g. {B-DATE: O, I-DATE: O}"
    )
    min_examples_per_label: Annotated[int, Field(ge=1)] = 10
    min_examples_per_language: Annotated[int, Field(ge=1)] = 10
    fix_iob2: bool = Field(
        False, description="turn a stray I-X (not after B-X or I-X) into B-X instead of failing"
    )
    remove_leaked_from_train: bool = Field(
        False, description="drop train rows that also occur in validation or test"
    )
    upsample: Upsampling | None = None
    max_rows_per_split: Annotated[int, Field(ge=1)] | None = None


class EarlyStopping(_Section):
    patience: Annotated[int, Field(ge=1, le=100)] = 5
    threshold: Annotated[float, Field(ge=0.0, le=1.0)] = 0.01


class Training(_Section):
    """AutoTrain's training parameters, under names that say what they are."""

    epochs: Annotated[int, Field(ge=1, le=100)] = 3
    learning_rate: Annotated[float, Field(gt=0.0, le=1.0)] = 5e-5
    batch_size: Annotated[int, Field(ge=1, le=4096)] = 8
    max_seq_length: Annotated[int, Field(ge=8, le=8192)] | Literal["auto"] = Field(
        "auto",
        description="tokens per example; `auto`: the 99th percentile of the training data's "
        "token lengths, rounded up to a multiple of 8, capped by the model's maximum",
    )
    seed: Seed = 42
    mixed_precision: Literal["none", "fp16", "bf16"] = "none"
    gradient_accumulation: Annotated[int, Field(ge=1, le=1024)] = 1
    warmup_ratio: Fraction = 0.1
    weight_decay: Fraction = 0.0
    max_grad_norm: Annotated[float, Field(gt=0.0)] = 1.0
    optimizer: Literal[
        "adamw_torch", "adamw_torch_fused", "adafactor", "sgd", "adagrad", "rmsprop"
    ] = "adamw_torch"
    scheduler: Literal[
        "linear",
        "cosine",
        "cosine_with_restarts",
        "polynomial",
        "constant",
        "constant_with_warmup",
        "inverse_sqrt",
    ] = "linear"
    early_stopping: EarlyStopping = EarlyStopping()
    eval_strategy: Literal["epoch", "steps"] = "epoch"
    logging_steps: Annotated[int, Field(ge=-1)] = -1
    save_total_limit: Annotated[int, Field(ge=1)] = 1
    auto_find_batch_size: bool = False
    log: Literal["none", "tensorboard"] = "none"


class Compute(_Section):
    backend: Backend = "local"
    hardware: NonEmptyText | None = Field(
        None, description="HF Jobs flavor or Spaces hardware, e.g. t4-small; unset for local"
    )
    timeout: Duration = Field("2h", description="time budget: a number and s, m, h or d")
    staging_repo: HubRepoId | None = Field(
        None,
        description="hf-jobs: private dataset repo for inputs and results; "
        "default <namespace>/dexter-runs",
    )
    image: NonEmptyText | None = Field(
        None,
        description="hf-jobs: Docker image; default AutoTrain's, pinned to the runner's version",
    )
    cleanup: Literal["pause", "delete", "keep"] = Field(
        "delete", description="autotrain-spaces: what happens to the Space and data repo after"
    )


class Fairness(_Section):
    group_by: NonEmptyText = "language"
    metric: NonEmptyText | None = Field(None, description="default: the primary metric")
    max_gap: Fraction | None = Field(None, description="largest allowed best-minus-worst gap")
    min_ratio: Fraction | None = Field(None, description="smallest allowed worst/best ratio")


class Gates(_Section):
    """Thresholds that must hold before anything is published."""

    overall: dict[str, Fraction] = Field(
        default_factory=dict,
        description="metric: minimum (a maximum for a lower-is-better metric: calibration_error)",
    )
    per_slice: dict[str, Fraction] = Field(
        default_factory=dict,
        description="metric: minimum in every slice (a maximum for calibration_error)",
    )
    max_fairness_gap: Fraction | None = None
    min_lift_over_baseline: Annotated[float, Field(ge=-1.0, le=1.0)] | None = None
    min_lift_over_published: Annotated[float, Field(ge=-1.0, le=1.0)] | None = Field(
        None,
        description="the primary metric must beat the model now at hub.branch by this much "
        "(scored on the same split); a first publish passes",
    )


class Evaluation(_Section):
    split: Literal["test", "validation"] = "test"
    metrics: Annotated[list[str], Field(min_length=1)] | None = Field(
        None, description="default: every metric the task reports"
    )
    primary_metric: NonEmptyText | None = None
    slices: list[NonEmptyText] = ["language"]
    fairness: Fairness | None = None
    baseline: bool = True
    counterfactual: bool = Field(True, description="identity-term swap probe (text tasks)")
    identity_terms: NonEmptyText | None = Field(
        None, description="extra identity terms file, relative to the spec file"
    )
    bootstrap_samples: Annotated[int, Field(ge=0, le=100_000)] = 1000
    precision: Precision = Field(
        "auto",
        description="auto: bfloat16 where the hardware runs it natively, close calls "
        "re-scored in float32 (float32's labels, 2-3x faster on such CPUs), else float32; "
        "bfloat16: that everywhere (slow where emulated); float32: float32 only",
    )
    gates: Gates = Gates()


class Card(_Section):
    template: NonEmptyText | None = Field(
        None, description="Jinja template, relative to the spec file; default per task"
    )
    license: NonEmptyText | None = Field(
        None, description="Hub license id (apache-2.0, cc-by-4.0, ...); unset: none stated"
    )
    license_name: NonEmptyText | None = Field(
        None, description="with `license: other`: a short id for the license (required then)"
    )
    license_link: NonEmptyText | None = Field(
        None, description="with `license: other`: its URL, or a LICENSE file in the model repo"
    )
    intended_uses: str = ""
    out_of_scope_uses: str = ""
    limitations: str = ""
    ethical_considerations: str = ""
    citation: str = ""
    datasets: list[HubRepoId] = Field(
        default_factory=list,
        description="Hub datasets the data comes from, where it is read from local copies "
        "(Hub sources are listed by themselves): the card's `datasets:` metadata",
    )
    benchmark: HubRepoId | None = Field(
        None,
        description="the Hub dataset whose own, unchanged test split is this job's test "
        "split: the card writes `.eval_results/` as scores on it (where the run shows it is)",
    )
    tags: list[NonEmptyText] = Field(default_factory=list)


class Hub(_Section):
    repo_id: HubRepoId | None = Field(None, description="owner/name; unset: do not publish")
    private: bool = True
    branch: NonEmptyText = "main"
    tag: NonEmptyText | None = Field(
        "{name}-{run_id}", description="tag per publish; placeholders {name} {run_id} {date}"
    )
    review: Literal["none", "pull-request"] = Field(
        "none",
        description="pull-request: publish as a Hub pull request on the branch, merged after "
        "review with `dexter-auto publish RUN --merge` (tagged then); none: commit directly",
    )


class Deploy(_Section):
    enabled: bool = False
    target: Literal["local", "endpoint"] = Field(
        "local",
        description="local: `dexter-auto serve` on this machine (no HF account needed); "
        "endpoint: a Hugging Face Inference Endpoint",
    )
    name: JobName | None = Field(None, description="endpoint name; default: the job name")
    type: Literal["private", "authenticated", "public"] = Field(
        "authenticated",
        description="who may call the endpoint (the API's word for `protected` is authenticated)",
    )
    framework: NonEmptyText = "pytorch"
    task: Task | None = Field(None, description="the endpoint's task; default: the job's task")
    parity_examples: Annotated[int, Field(ge=1, le=1000)] = Field(
        32, description="evaluation-split examples sent to the deployed model after it starts"
    )
    min_parity: Fraction = Field(
        0.98, description="share of those answers that must equal the run's own predictions"
    )
    wait_minutes: Annotated[int, Field(ge=1, le=240)] = Field(
        30, description="how long to wait for the endpoint to run before rolling back"
    )
    vendor: Literal["aws", "azure", "gcp"] = "aws"
    region: NonEmptyText = "us-east-1"
    accelerator: Literal["cpu", "gpu"] = "cpu"
    instance_type: NonEmptyText = "intel-icl"
    instance_size: NonEmptyText = "x2"
    min_replicas: Annotated[int, Field(ge=0, le=20)] = 0
    max_replicas: Annotated[int, Field(ge=1, le=20)] = 1
    scale_to_zero_minutes: Annotated[int, Field(ge=1, le=1440)] = 15


class Tracking(_Section):
    """Where every run is logged (MLflow). `tracking: false` logs nothing."""

    enabled: bool = Field(True, description="false: log nothing (also `tracking: false`)")
    uri: Annotated[str, StringConstraints(pattern=r"^https?://[^\s@/]+(/\S*)?$")] | None = Field(
        None,
        description="an MLflow tracking server (http or https, no credentials: MLflow reads "
        "MLFLOW_TRACKING_TOKEN or MLFLOW_TRACKING_USERNAME/PASSWORD); unset: a SQLite store in "
        "the runs folder (runs/mlflow.db, artifacts under runs/mlartifacts)",
    )
    experiment: NonEmptyText | None = Field(
        None, description="MLflow experiment name; default: the job name"
    )


def _tracking_switch(value: object) -> object:
    """`tracking: false` (or true) is short for `tracking: {enabled: false}`."""
    return {"enabled": value} if isinstance(value, bool) else value


def _true_or_false_too(schema: dict) -> None:
    """The JSON Schema of `tracking`: the section, or a boolean."""
    section = {key: schema.pop(key) for key in ("$ref", "allOf") if key in schema}
    schema["anyOf"] = [section, {"type": "boolean"}]


SweepParameter = Literal[
    "learning_rate",
    "batch_size",
    "epochs",
    "warmup_ratio",
    "weight_decay",
    "gradient_accumulation",
    "max_grad_norm",
    "scheduler",
]


class SearchRange(_Section):
    """How a sweep picks one training parameter: `log_uniform` or `uniform` between `low`
    and `high`, `int` from `low` to `high` (every `step`), or `choice` among `values`."""

    type: Literal["log_uniform", "uniform", "int", "choice"]
    low: int | float | None = None
    high: int | float | None = None
    step: Annotated[int, Field(ge=1)] | None = Field(None, description="`int` only; default 1")
    values: Annotated[list[int | float | str], Field(min_length=1)] | None = None


class SearchSpace(_Section):
    """The training parameters a sweep varies; the others keep the spec's `training` values."""

    learning_rate: SearchRange | None = None
    batch_size: SearchRange | None = None
    epochs: SearchRange | None = None
    warmup_ratio: SearchRange | None = None
    weight_decay: SearchRange | None = None
    gradient_accumulation: SearchRange | None = None
    max_grad_norm: SearchRange | None = None
    scheduler: SearchRange | None = None


class Sweep(_Section):
    """A hyperparameter search (`dexter-auto sweep`): trials scored on the validation split;
    only the best one goes on to the test split, the gates, the card and publishing."""

    space: SearchSpace
    n_trials: Annotated[int, Field(ge=1, le=1000)] = 20
    metric: NonEmptyText | None = Field(
        None,
        description="validation metric to optimise (or `loss`); default: the primary metric, "
        "or `loss` where training does not report it every epoch (calibration_error)",
    )
    direction: Literal["maximize", "minimize"] | None = Field(
        None, description="default: the metric's own (minimize `loss`, maximize the others)"
    )
    split: Literal["validation", "test"] = Field(
        "validation",
        description="always `validation` (`test` is refused: it is kept for the promoted model)",
    )
    sampler: Literal["tpe", "random"] = "tpe"
    seed: Seed = 42
    pruner: Literal["median", "none"] = Field(
        "median", description="median: stop a trial whose validation score falls below the median"
    )
    prune_after_trials: Annotated[int, Field(ge=0, le=1000)] = Field(
        2, description="finished trials needed before the median pruner stops any"
    )
    prune_from_epoch: Annotated[int, Field(ge=1, le=100)] = Field(
        1, description="the first epoch at which a trial may be stopped"
    )
    parallel: Annotated[int, Field(ge=1, le=64)] = Field(
        1, description="trials at once on remote backends; local trials run one after another"
    )
    storage: NonEmptyText | None = Field(
        None, description="Optuna database URL; default: SQLite in the sweep's folder"
    )
    first_trials: list[dict[str, int | float | str]] = Field(
        default_factory=list, description="parameter sets tried first, e.g. the current ones"
    )


class JobSpec(_Section):
    """Everything needed to train, evaluate, document, publish and deploy one model."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        frozen=True,
        json_schema_extra={"title": "Dexter AutoTrain job spec"},
    )

    extends: NonEmptyText | None = Field(
        None, description="a spec to start from (deep-merged), relative to this file"
    )
    name: JobName = Field(description="job name; default: the file name")
    description: str = ""
    task: Task
    base_model: BaseModelRef
    languages: list[LanguageCode] = Field(default_factory=list)
    data: Data
    training: Training = Training()
    compute: Compute = Compute()
    evaluation: Evaluation = Evaluation()
    card: Card = Card()
    hub: Hub = Hub()
    deploy: Deploy = Deploy()
    sweep: Sweep | None = Field(None, description="hyperparameter search: `dexter-auto sweep`")
    tracking: Annotated[Tracking, BeforeValidator(_tracking_switch)] = Field(
        Tracking(),
        description="experiment tracking with MLflow; false: off",
        json_schema_extra=_true_or_false_too,
    )

    @property
    def metrics(self) -> tuple[str, ...]:
        return tuple(self.evaluation.metrics or METRICS_BY_TASK[self.task])

    @property
    def primary_metric(self) -> str:
        return self.evaluation.primary_metric or PRIMARY_METRIC[self.task]

    def column(self, role: str) -> str:
        """The source column that plays `role` (text, label, tokens, ...); for text joined
        from several columns, see `input_columns`."""
        named = getattr(self.data.columns, role) or role
        return named if isinstance(named, str) else named[0]

    def input_columns(self) -> tuple[str, ...]:
        """The source columns the model's input comes from: one, or several text columns
        joined (`data.columns.text: [headline, text]`)."""
        role = get_task(self.task).columns[0]
        named = getattr(self.data.columns, role) or role
        return (named,) if isinstance(named, str) else tuple(named)
