"""Render a job spec into the AutoTrain (autotrain-advanced 0.8.36) config that trains it.

The config is built as data and dumped as YAML, never templated as text, so it is always
well-formed and byte-for-byte deterministic. It holds no secret: the Hub section carries the
`${HF_USERNAME}`/`${HF_TOKEN}` placeholders that AutoTrain resolves from its environment.

The config describes a run directory's layout: AutoTrain runs from the run directory, reads
prepared splits from `data/` and writes the model to `<job name>/`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from dexter_autotrain.spec import JobSpec
from dexter_autotrain.system.files import write_atomically
from dexter_autotrain.tasks import Metric, get_task
from dexter_autotrain.tasks.metrics import LOSS

CONFIG_FILE_NAME = "autotrain.yml"
OPTIONS_FILE_NAME = "training-options.json"
PREVIEW_MAX_SEQ_LENGTH = 128
"""Shown by `render` for `max_seq_length: auto`, which `submit` sets from the data."""
PREPARED_DATA_DIR = "data"
TRAIN_SPLIT = "train"
VALID_SPLIT = "validation"


@dataclass(frozen=True)
class RenderedConfig:
    config: dict[str, Any]
    text: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


def render_config(spec: JobSpec, spec_dir: Path, base_model: str | None = None) -> RenderedConfig:
    """The AutoTrain config for `spec`. `base_model` overrides the spec's (a local snapshot)."""
    config = {
        "task": get_task(spec.task).autotrain_task,
        "base_model": base_model or _base_model(spec, spec_dir),
        "project_name": spec.name,
        "log": spec.training.log,
        "backend": _backend(spec),
        "data": {
            "path": PREPARED_DATA_DIR,
            "train_split": TRAIN_SPLIT,
            "valid_split": VALID_SPLIT,
            "column_mapping": dict(get_task(spec.task).autotrain_columns),
        },
        "params": _params(spec),
        "hub": {
            "username": "${HF_USERNAME}",
            "token": "${HF_TOKEN}",
            "push_to_hub": spec.compute.backend != "local",
        },
    }
    body = yaml.safe_dump(config, sort_keys=False, allow_unicode=True, width=100)
    header = (
        f"# AutoTrain config for job `{spec.name}`, rendered by dexter-auto.\n"
        "# Do not edit: change the job spec and render again. ${...} values are read\n"
        "# from the environment by AutoTrain; no secret is written here.\n"
    )
    if spec.training.max_seq_length == "auto" and get_task(spec.task).uses_tokenizer:
        header += (
            f"# max_seq_length is `auto`: submit sets it from the data ({PREVIEW_MAX_SEQ_LENGTH}"
            " shown here).\n"
        )
    return RenderedConfig(config=config, text=header + body)


def write_training_files(
    run_path: Path, spec: JobSpec, spec_dir: Path, base_model: str
) -> RenderedConfig:
    """Write the AutoTrain config and the training options AutoTrain's config cannot hold
    into the run directory (what every training of a run reads); returns the config."""
    rendered = render_config(spec, spec_dir, base_model=base_model)
    write_atomically(run_path / CONFIG_FILE_NAME, rendered.text)
    options = json.dumps(training_options(spec), indent=2) + "\n"
    write_atomically(run_path / OPTIONS_FILE_NAME, options)
    return rendered


def training_options(spec: JobSpec) -> dict[str, Any]:
    """What the runner's training script (runner_scripts/train.py) does beyond AutoTrain's
    config: the seed it starts torch from, the metric that picks the best checkpoint and which
    way is better (the runner cannot import the metric table), and the mixed precision it
    uses where a GPU has it. A primary metric training does not report every epoch (None)
    leaves the choice to the validation loss."""
    chosen = checkpoint_metric(spec)
    return {
        "seed": spec.training.seed,
        "best_metric": None if chosen is LOSS else chosen.name,
        "greater_is_better": chosen.higher_is_better,
        "mixed_precision": None
        if spec.training.mixed_precision == "none"
        else spec.training.mixed_precision,
    }


def checkpoint_metric(spec: JobSpec) -> Metric:
    """The validation metric that chooses the checkpoint kept: the primary metric where
    training reports it every epoch, else the loss."""
    primary = get_task(spec.task).metric(spec.primary_metric)
    return primary if primary.per_epoch else LOSS


def _base_model(spec: JobSpec, spec_dir: Path) -> str:
    if spec.base_model.path is not None:
        return str((spec_dir / spec.base_model.path).resolve())
    assert spec.base_model.id is not None
    return spec.base_model.id


def _backend(spec: JobSpec) -> str:
    # HF Jobs run AutoTrain inside the job's container, so the config itself is local there.
    if spec.compute.backend == "autotrain-spaces":
        return f"spaces-{spec.compute.hardware}"
    return "local"


def _params(spec: JobSpec) -> dict[str, Any]:
    training = spec.training
    params: dict[str, Any] = {
        "epochs": training.epochs,
        "lr": training.learning_rate,
        "batch_size": training.batch_size,
    }
    if get_task(spec.task).uses_tokenizer:
        length = training.max_seq_length
        params["max_seq_length"] = PREVIEW_MAX_SEQ_LENGTH if length == "auto" else length
    params |= {
        "seed": training.seed,
        "gradient_accumulation": training.gradient_accumulation,
        "warmup_ratio": training.warmup_ratio,
        "weight_decay": training.weight_decay,
        "max_grad_norm": training.max_grad_norm,
        "optimizer": training.optimizer,
        "scheduler": training.scheduler,
        "mixed_precision": None if training.mixed_precision == "none" else training.mixed_precision,
        "auto_find_batch_size": training.auto_find_batch_size,
        "eval_strategy": training.eval_strategy,
        "logging_steps": training.logging_steps,
        "save_total_limit": training.save_total_limit,
        "early_stopping_patience": training.early_stopping.patience,
        "early_stopping_threshold": training.early_stopping.threshold,
    }
    return params
