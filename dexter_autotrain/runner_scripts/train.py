"""Train one run inside the AutoTrain runner: AutoTrain's own data munging and trainer, called
in-process, with what a hand-written Trainer script does. Runs with the runner's python.

    python train.py autotrain.yml training-options.json

Why not `autotrain --config`: it starts `accelerate launch` (one more Python that imports
torch) which, on a CPU, trains on one thread (`OMP_NUM_THREADS=1`); its datasets pad every
example to `max_seq_length`; it keeps the checkpoint with the best validation loss; and its NER
puts a word's tag on every sub-token while evaluation reads the first. Here, without touching
AutoTrain's files (its trainer module's names are swapped before it runs):
- torch uses every CPU the process may run on;
- datasets return unpadded examples and a collator pads each batch to its longest example
  (rounded up to a multiple of 8);
- the best checkpoint and early stopping follow the job's primary metric on validation;
- NER tags sit on each word's first sub-token only (`subwords.py`, which evaluation uses too);
- mixed precision runs where a GPU has it (bf16, else fp16), never on a CPU;
- the job's seed reaches the Trainer (AutoTrain passes none, so every run shuffled its data
  and drew its dropout with the default 42, whatever `training.seed` said) and its data
  order (`data_seed`); the new head is drawn from it alone (`new_head.py`), so the same seed
  gives the same head under any transformers, and in a notebook that draws it the same way;
- with several GPUs, `accelerate launch --multi_gpu` starts this script once per GPU.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from new_head import seeded_heads
from subwords import first_subtoken_labels

TRAINER_MODULES = {
    "TextClassificationParams": "autotrain.trainers.text_classification.__main__",
    "TokenClassificationParams": "autotrain.trainers.token_classification.__main__",
    "ImageClassificationParams": "autotrain.trainers.image_classification.__main__",
}
AUTO_MODELS = (
    "AutoModelForSequenceClassification",
    "AutoModelForTokenClassification",
    "AutoModelForImageClassification",
)
WORKER_VARIABLE = "DEXTER_TRAIN_WORKER"
PAD_TO_MULTIPLE = 8
FALLBACK_METRICS = {
    "accuracy": ("accuracy_score", {}),
    "f1_macro": ("f1_score", {"average": "macro", "zero_division": 0}),
    "f1_weighted": ("f1_score", {"average": "weighted", "zero_division": 0}),
    "precision_macro": ("precision_score", {"average": "macro", "zero_division": 0}),
    "recall_macro": ("recall_score", {"average": "macro", "zero_division": 0}),
}
"""Classification metrics computed here when AutoTrain's compute_metrics leaves them out (it
reports binary `f1` on two classes, not `f1_macro`)."""


def main(config_path: str, options_path: str) -> None:
    import torch

    options = json.loads(Path(options_path).read_text())
    torch.manual_seed(options["seed"])  # whatever draws before the Trainer seeds
    worker = os.environ.get(WORKER_VARIABLE) == "1"
    params = _saved_params(config_path) if worker else _prepared_params(config_path)
    gpus = torch.cuda.device_count()
    if gpus > 1 and not worker:
        _launch_per_gpu(gpus, config_path, options_path, options)
        return
    threads = len(os.sched_getaffinity(0))
    torch.set_num_threads(threads)
    params.mixed_precision = _mixed_precision(options.get("mixed_precision"), torch)
    module = importlib.import_module(TRAINER_MODULES[type(params).__name__])
    _swap_in(
        module, options.get("best_metric"), options.get("greater_is_better", True), options["seed"]
    )
    print(
        f"dexter runner: {torch.get_num_threads()} torch threads on {threads} CPUs, "
        f"{gpus} GPUs, mixed precision {params.mixed_precision or 'none'}, dynamic padding, "
        f"best checkpoint by {options.get('best_metric') or 'loss'}",
        flush=True,
    )
    module.train(params)


def _parser(config_path: str):
    from autotrain.parser import AutoTrainConfigParser

    return AutoTrainConfigParser(config_path)


def _prepared_params(config_path: str) -> Any:
    """What `autotrain --config` does before it launches training: parse, munge the data into
    `<project>/autotrain-data`, save `training_params.json`."""
    parser = _parser(config_path)
    params = parser.task_param_map[parser.task](**parser.parsed_config)
    params = parser.munge_data_map[parser.task](params, local=True)
    params.save(output_dir=params.project_name)
    return params


def _saved_params(config_path: str) -> Any:
    parser = _parser(config_path)
    params_class = parser.task_param_map[parser.task]
    saved = Path(parser.parsed_config["project_name"]) / "training_params.json"
    return params_class(**json.loads(saved.read_text()))


def _launch_per_gpu(gpus: int, config_path: str, options_path: str, options: dict) -> None:
    command = ["accelerate", "launch", "--multi_gpu", "--num_processes", str(gpus)]
    if options.get("mixed_precision"):
        command += ["--mixed_precision", options["mixed_precision"]]
    command += [__file__, config_path, options_path]
    done = subprocess.run(command, env=os.environ | {WORKER_VARIABLE: "1"}, check=False)
    sys.exit(done.returncode)


def _mixed_precision(wanted: str | None, torch: Any) -> str | None:
    if not wanted or not torch.cuda.is_available():
        return None
    if wanted == "bf16" and not torch.cuda.is_bf16_supported():
        print("dexter runner: this GPU has no bf16; training in fp16", flush=True)
        return "fp16"
    return wanted


def _swap_in(module: Any, best_metric: str | None, greater_is_better: bool, seed: int) -> None:
    """Replace the names AutoTrain's trainer module uses with ours, before it runs."""
    if hasattr(module, "TextClassificationDataset"):
        module.TextClassificationDataset = _unpadded_text(module.TextClassificationDataset)
    if hasattr(module, "TokenClassificationDataset"):
        module.TokenClassificationDataset = _first_subtoken_tags(module.TokenClassificationDataset)
    for name in AUTO_MODELS:
        if hasattr(module, name):
            setattr(module, name, seeded_heads(getattr(module, name), seed))
    module.TrainingArguments = _arguments(
        module.TrainingArguments, best_metric, greater_is_better, seed
    )
    module.Trainer = _trainer(module.Trainer, best_metric)
    module.utils.create_model_card = _no_model_card


def _unpadded_text(base: type) -> type:
    class UnpaddedTextDataset(base):
        def __getitem__(self, item: int) -> dict:
            row = self.data[item]
            encoded = self.tokenizer(
                str(row[self.text_column]), max_length=self.config.max_seq_length, truncation=True
            )
            return {**encoded, "labels": int(row[self.target_column])}

    return UnpaddedTextDataset


def _first_subtoken_tags(base: type) -> type:
    class FirstSubtokenDataset(base):
        def __getitem__(self, item: int) -> dict:
            row = self.data[item]
            encoded = self.tokenizer(
                row[self.config.tokens_column],
                max_length=self.config.max_seq_length,
                truncation=True,
                is_split_into_words=True,
            )
            tags = row[self.config.tags_column]
            return {**encoded, "labels": first_subtoken_labels(encoded.word_ids(), tags)}

    return FirstSubtokenDataset


def _arguments(base: type, best_metric: str | None, greater_is_better: bool, seed: int):
    """The job's seed for shuffling, dropout and data order, and the metric (and its
    direction, from the toolkit's metric table) that picks the checkpoint kept. Checkpoints
    hold the model only: training never resumes from one (a resumed run trains afresh), so
    writing and reading back the optimizer's state is wasted time."""

    def arguments(**kwargs: Any):
        if best_metric and kwargs.get("load_best_model_at_end"):
            kwargs |= {"metric_for_best_model": best_metric, "greater_is_better": greater_is_better}
        return base(**kwargs, seed=seed, data_seed=seed, save_only_model=True)

    return arguments


def _no_model_card(*_: Any) -> str:
    """AutoTrain's README evaluates the model a second time to quote its scores; the
    toolkit writes the real card from its own evaluation, so this one only points there."""
    return "Trained with dexter-auto: the run's model card (README.md) describes this model.\n"


def _trainer(base: type, best_metric: str | None) -> type:
    from transformers import DataCollatorForTokenClassification, DataCollatorWithPadding

    class DexterTrainer(base):
        def __init__(self, *args: Any, **kwargs: Any):
            dataset = kwargs.get("train_dataset")
            tokenizer = getattr(dataset, "tokenizer", None)
            if tokenizer is not None and kwargs.get("data_collator") is None:
                collator = (
                    DataCollatorForTokenClassification
                    if hasattr(dataset.config, "tags_column")
                    else DataCollatorWithPadding
                )
                kwargs["data_collator"] = collator(tokenizer, pad_to_multiple_of=PAD_TO_MULTIPLE)
            if best_metric and kwargs.get("compute_metrics") is not None:
                kwargs["compute_metrics"] = _reporting(kwargs["compute_metrics"], best_metric)
            super().__init__(*args, **kwargs)
            print(
                f"dexter runner: trainer seed {self.args.seed}, data seed {self.args.data_seed}",
                flush=True,
            )

        def train(self, *args: Any, **kwargs: Any) -> Any:
            """Train, then write the final trainer state (every evaluation, the best metric)
            into the model folder: only the best checkpoint's own state survives training."""
            result = super().train(*args, **kwargs)
            self.save_state()
            return result

    return DexterTrainer


def _reporting(compute_metrics: Any, metric: str):
    """AutoTrain's metrics, plus `metric` computed here if they leave it out."""

    def compute(prediction: Any) -> dict:
        results = compute_metrics(prediction)
        if metric not in results and metric in FALLBACK_METRICS:
            from sklearn import metrics

            name, settings = FALLBACK_METRICS[metric]
            guesses = prediction.predictions.argmax(axis=-1)
            score = getattr(metrics, name)(prediction.label_ids, guesses, **settings)
            results[metric] = float(score)
        return results

    return compute


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
