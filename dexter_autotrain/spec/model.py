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
DURATION_PATTERN = r"^[1-9][0-9]*[smhd]$"
"""A duration: a number and s, m, h or d (`90m`, `2h`)."""
Duration = Annotated[str, StringConstraints(pattern=DURATION_PATTERN)]
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


Family = Literal["autotrain", "linear"]
"""What kind of model a job trains (`model.family`)."""


class ModelChoice(_Section):
    """Which family of model the job trains."""

    family: Family = Field(
        "autotrain",
        description="autotrain: fine-tune `base_model` with AutoTrain; linear: TF-IDF word and "
        "character n-grams with logistic regression (text classification) or a CRF (NER), "
        "tuned on the validation split in seconds to minutes on a CPU, no base model",
    )
    candidates: Annotated[list[Family], Field(max_length=1)] = Field(
        default_factory=list,
        description="other families trained and evaluated on the same splits; the best on "
        "the validation split's primary metric (mean over `training.seeds`) is published",
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
    label: NonEmptyText | None = Field(None, description="the label column")
    tokens: NonEmptyText | None = Field(
        None, description="the column holding each sentence's tokens (a list)"
    )
    tags: NonEmptyText | None = Field(
        None, description="the column holding each sentence's IOB2 tags (a list)"
    )
    image: NonEmptyText | None = Field(None, description="the image path column (image-csv)")
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
    revision: CommitSha | None = Field(
        None, description="the Hub dataset's commit sha (required with `hub`)"
    )
    subset: NonEmptyText | None = Field(None, description="Hub dataset configuration name")
    format: SourceFormat | None = Field(None, description="default: from the file extension")
    language: LanguageCode | None = Field(
        None, description="the language of every row of this source"
    )
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

    validation: Annotated[float, Field(ge=0.0, lt=0.5)] = Field(
        0.1,
        description="share of train carved out for validation when no validation split is given",
    )
    test: Annotated[float, Field(ge=0.0, lt=0.5)] = Field(
        0.1, description="share carved out for test when no test split is given"
    )
    seed: Seed = Field(42, description="the seed of those cuts")
    stratify_by: list[Literal["label", "language"]] = Field(
        ["label", "language"], description="what the cuts keep proportional"
    )


class Upsampling(_Section):
    """Repeat train examples of low-resource languages, at most `cap` times each."""

    target: Annotated[int, Field(ge=1)] | None = Field(
        None, description="examples per language to reach; default: the largest language's"
    )
    cap: Annotated[float, Field(ge=1.0, le=100.0)] = Field(
        3.0, description="the most times one train row is repeated"
    )


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
    min_examples_per_label: Annotated[int, Field(ge=1)] = Field(
        10, description="fewest training examples a label may have (fewer: an error)"
    )
    min_examples_per_language: Annotated[int, Field(ge=1)] = Field(
        10, description="fewest training examples a language may have (fewer: an error)"
    )
    fix_iob2: bool = Field(
        False, description="turn a stray I-X (not after B-X or I-X) into B-X instead of failing"
    )
    remove_leaked_from_train: bool = Field(
        False, description="drop train rows that also occur in validation or test"
    )
    upsample: Upsampling | None = None
    max_rows_per_split: Annotated[int, Field(ge=1)] | None = Field(
        None, description="rows kept per split, sampled with the split seed (unset: all)"
    )


class EarlyStopping(_Section):
    patience: Annotated[int, Field(ge=1, le=100)] = Field(
        5, description="evaluations without improvement before training stops"
    )
    threshold: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        0.01, description="the least improvement that counts"
    )


class Training(_Section):
    """AutoTrain's training parameters, under names that say what they are."""

    epochs: Annotated[int, Field(ge=1, le=100)] = Field(
        3, description="passes over the training data"
    )
    learning_rate: Annotated[float, Field(gt=0.0, le=1.0)] = Field(
        5e-5, description="the optimizer's peak learning rate"
    )
    batch_size: Annotated[int, Field(ge=1, le=4096)] = Field(
        8, description="examples per device per step"
    )
    max_seq_length: Annotated[int, Field(ge=8, le=8192)] | Literal["auto"] = Field(
        "auto",
        description="tokens per example; `auto`: the 99th percentile of the training data's "
        "token lengths, rounded up to a multiple of 8, capped by the model's maximum",
    )
    seed: Seed = Field(42, description="the seed of training (and of its data order)")
    seeds: Annotated[list[Seed], Field(min_length=2, max_length=10)] | None = Field(
        None,
        description="train once per seed (instead of `seed`) and report every metric's mean "
        "and standard deviation; gates judge the mean, the seed with the best validation "
        "score is published (`submit --seeds N`: `seed`, `seed`+1, ...)",
    )
    mixed_precision: Literal["none", "fp16", "bf16"] = Field(
        "none", description="mixed precision on a GPU (`none` on a CPU)"
    )
    gradient_accumulation: Annotated[int, Field(ge=1, le=1024)] = Field(
        1, description="steps whose gradients add up before an update"
    )
    warmup_ratio: Fraction = Field(
        0.1, description="share of training spent warming the learning rate up"
    )
    weight_decay: Fraction = Field(0.0, description="AdamW's weight decay")
    max_grad_norm: Annotated[float, Field(gt=0.0)] = Field(
        1.0, description="gradient clipping norm"
    )
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
    eval_strategy: Literal["epoch", "steps"] = Field(
        "epoch", description="when validation runs: each epoch, or every `logging_steps`"
    )
    logging_steps: Annotated[int, Field(ge=-1)] = Field(
        -1, description="steps between log lines (-1: AutoTrain's default)"
    )
    save_total_limit: Annotated[int, Field(ge=1)] = Field(1, description="checkpoints kept on disk")
    auto_find_batch_size: bool = False
    log: Literal["none", "tensorboard"] = Field(
        "none", description="`tensorboard`: also write TensorBoard logs"
    )


class Compute(_Section):
    backend: Backend = Field(
        "local", description="where training runs: here, on HF Jobs, or on AutoTrain Spaces"
    )
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
    group_by: NonEmptyText = Field(
        "language", description="the column whose groups fairness compares"
    )
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
    max_fairness_gap: Fraction | None = Field(
        None, description="the largest gap allowed between groups on the primary metric"
    )
    min_lift_over_baseline: Annotated[float, Field(ge=-1.0, le=1.0)] | None = Field(
        None, description="the least the model must beat the baseline by on the primary metric"
    )
    min_lift_over_published: Annotated[float, Field(ge=-1.0, le=1.0)] | None = Field(
        None,
        description="the primary metric must beat the model now at hub.branch by this much "
        "(scored on the same split); a first publish passes",
    )


class Evaluation(_Section):
    split: Literal["test", "validation"] = Field(
        "test", description="the split the model is judged on"
    )
    metrics: Annotated[list[str], Field(min_length=1)] | None = Field(
        None, description="default: every metric the task reports"
    )
    primary_metric: NonEmptyText | None = Field(
        None, description="the metric gates and comparisons use (default per task)"
    )
    slices: list[NonEmptyText] = Field(
        ["language"], description="columns to report every metric by"
    )
    fairness: Fairness | None = None
    baseline: bool = Field(
        True, description="train a simple baseline beside the model (TF-IDF, majority class)"
    )
    counterfactual: bool = Field(True, description="identity-term swap probe (text tasks)")
    identity_terms: NonEmptyText | None = Field(
        None, description="extra identity terms file, relative to the spec file"
    )
    bootstrap_samples: Annotated[int, Field(ge=0, le=100_000)] = Field(
        1000, description="bootstrap resamples for the 95% intervals (0: none)"
    )
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
    intended_uses: str = Field("", description="what the model is for")
    out_of_scope_uses: str = Field("", description="what it must not be used for")
    limitations: str = Field("", description="what it does badly")
    ethical_considerations: str = Field("", description="risks and how they are handled")
    citation: str = Field("", description="how to cite the model or its data (BibTeX welcome)")
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
    private: bool = Field(
        True, description="a private model repository (the card says it needs a token)"
    )
    branch: NonEmptyText = Field("main", description="the branch a run is published to")
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
    framework: NonEmptyText = Field("pytorch", description="the endpoint's framework")
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
    vendor: Literal["aws", "azure", "gcp"] = Field("aws", description="the endpoint's cloud")
    region: NonEmptyText = Field("us-east-1", description="the endpoint's region")
    accelerator: Literal["cpu", "gpu"] = Field("cpu", description="CPU or GPU")
    instance_type: NonEmptyText = Field(
        "intel-icl", description="the instance type (priced in the plan)"
    )
    instance_size: NonEmptyText = Field("x2", description="the instance size")
    min_replicas: Annotated[int, Field(ge=0, le=20)] = Field(
        0, description="replicas kept up (0: scales to zero when idle)"
    )
    max_replicas: Annotated[int, Field(ge=1, le=20)] = Field(
        1, description="the most replicas (the plan prices a day at this)"
    )
    scale_to_zero_minutes: Annotated[int, Field(ge=1, le=1440)] = Field(
        15, description="idle minutes before scaling to zero"
    )


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

    type: Literal["log_uniform", "uniform", "int", "choice"] = Field(
        description="how the value is drawn"
    )
    low: int | float | None = Field(None, description="the lowest value (ranges)")
    high: int | float | None = Field(None, description="the highest value (ranges)")
    step: Annotated[int, Field(ge=1)] | None = Field(None, description="`int` only; default 1")
    values: Annotated[list[int | float | str], Field(min_length=1)] | None = Field(
        None, description="the values to choose from (`choice`)"
    )


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
    n_trials: Annotated[int, Field(ge=1, le=1000)] = Field(20, description="trials to run")
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
    sampler: Literal["tpe", "random"] = Field("tpe", description="how Optuna proposes trials")
    seed: Seed = Field(42, description="the sampler's seed")
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
    repeat_seeds: Annotated[int, Field(ge=1, le=10)] = Field(
        1,
        description="before promotion, train the best trial's settings with this many seeds "
        "in all (its own, +1, ...; `parallel` at once on remote backends): the best on "
        "validation is promoted, its gates judge the mean, its card shows the spread",
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
    description: str = Field(
        "", description="what the model does, for whom, on which data (the card's first paragraph)"
    )
    task: Task = Field(description="what the model does (one of the toolkit's tasks)")
    model: ModelChoice = ModelChoice()
    base_model: BaseModelRef | None = Field(
        None, description="the model to fine-tune (required by the autotrain family)"
    )
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
