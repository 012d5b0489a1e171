"""A plain transformers `Trainer` fine-tune: the yardstick `bench_train.py` holds `submit` to.

What a user would write in a notebook: tokenize without padding, pad each batch to its own
longest example (`DataCollatorWithPadding`), use every CPU the process may run on, AdamW with a
linear schedule, evaluate once at the end (or, with `--best-epoch`, after every epoch, keeping
the best by validation macro-F1), save the model; with `--test`, score a test file too. Text
classification on JSON-lines files with `text` and `label` columns (the prepared `data/*.jsonl`
of a dexter-auto run). The new head is transformers' own draw; with `--seeded-head`, it is drawn
from the seed alone as the runner draws it (dexter_autotrain/runner_scripts/new_head.py), for a
comparison with `submit` that differs in nothing else.

Run it with AutoTrain's runner python so torch and transformers are the versions AutoTrain
trains with. The last line of stdout is `RESULT {json}`: train and total seconds, validation
macro-F1 (scikit-learn), torch threads, versions, token and padded lengths.

    <runner>/bin/python bench/plain_trainer.py --model DIR --train data/train.jsonl \
        --validation data/validation.jsonl --output OUT [--epochs 1 --lr 5e-5 ...]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

START = time.perf_counter()
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "dexter_autotrain/runner_scripts"))

import numpy as np  # noqa: E402 (the clock starts before the heavy imports)
import torch  # noqa: E402
import transformers  # noqa: E402
from new_head import seeded_heads  # noqa: E402 (the runner's, from its folder)
from sklearn.metrics import f1_score  # noqa: E402
from transformers import (  # noqa: E402
    AutoModelForSequenceClassification,
    AutoTokenizer,
    DataCollatorWithPadding,
    EvalPrediction,
    Trainer,
    TrainingArguments,
)


class MeasuredPadding(DataCollatorWithPadding):
    """Dynamic padding that remembers the padded length of every batch it builds."""

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.lengths: list[int] = []

    def __call__(self, features: list[dict[str, Any]]) -> dict[str, Any]:
        batch = super().__call__(features)
        self.lengths.append(int(batch["input_ids"].shape[1]))
        return batch


def read_rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def encode(
    rows: list[dict[str, Any]], tokenizer: Any, label_ids: dict[str, int], max_length: int
) -> list[dict[str, Any]]:
    """One unpadded, truncated example per row, with its label id."""
    encoded = tokenizer([str(r["text"]) for r in rows], truncation=True, max_length=max_length)
    return [
        {key: values[index] for key, values in encoded.items()}
        | {"labels": label_ids[str(row["label"])]}
        for index, row in enumerate(rows)
    ]


def macro_f1(prediction: EvalPrediction) -> dict[str, float]:
    predicted = np.argmax(prediction.predictions, axis=-1)
    return {"f1_macro": float(f1_score(prediction.label_ids, predicted, average="macro"))}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--train", type=Path, required=True)
    parser.add_argument("--validation", type=Path, required=True)
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--test", type=Path, help="also report macro-F1 on this file")
    parser.add_argument(
        "--best-epoch", action="store_true", help="evaluate every epoch, keep the best"
    )
    parser.add_argument("--epochs", type=float, default=1)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--warmup-ratio", type=float, default=0.1)
    parser.add_argument("--weight-decay", type=float, default=0.0)
    parser.add_argument("--max-grad-norm", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--seeded-head", action="store_true", help="draw the new head as the runner does"
    )
    parser.add_argument("--bf16", action="store_true", help="bfloat16 mixed precision (GPU)")
    return parser.parse_args()


def training_arguments(args: argparse.Namespace, rows: int) -> TrainingArguments:
    steps = math.ceil(rows / args.batch_size) * args.epochs
    return TrainingArguments(
        output_dir=str(args.output),
        per_device_train_batch_size=args.batch_size,
        per_device_eval_batch_size=2 * args.batch_size,  # as AutoTrain sets it
        learning_rate=args.lr,
        num_train_epochs=args.epochs,
        warmup_steps=math.ceil(args.warmup_ratio * steps),  # transformers 5 has no warmup_ratio
        weight_decay=args.weight_decay,
        max_grad_norm=args.max_grad_norm,
        optim="adamw_torch",
        lr_scheduler_type="linear",
        seed=args.seed,
        eval_strategy="epoch" if args.best_epoch else "no",
        save_strategy="epoch" if args.best_epoch else "no",
        load_best_model_at_end=args.best_epoch,
        metric_for_best_model="f1_macro" if args.best_epoch else None,
        save_only_model=True,
        logging_strategy="no",
        report_to="none",
        use_cpu=not torch.cuda.is_available(),
        bf16=args.bf16,
        disable_tqdm=True,
    )


def main() -> None:
    args = parse_args()
    torch.set_num_threads(len(os.sched_getaffinity(0)))
    transformers.set_seed(args.seed)
    train_rows, validation_rows = read_rows(args.train), read_rows(args.validation)
    labels = sorted({str(row["label"]) for row in train_rows})
    label_ids = {label: index for index, label in enumerate(labels)}
    tokenizer = AutoTokenizer.from_pretrained(args.model)
    auto_model = AutoModelForSequenceClassification
    if args.seeded_head:
        auto_model = seeded_heads(auto_model, args.seed)
    model = auto_model.from_pretrained(
        args.model,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id=label_ids,
        ignore_mismatched_sizes=True,
    )
    train = encode(train_rows, tokenizer, label_ids, args.max_length)
    collator = MeasuredPadding(tokenizer, pad_to_multiple_of=8)  # as the runner pads
    trainer = Trainer(
        model=model,
        args=training_arguments(args, len(train)),
        train_dataset=train,
        eval_dataset=encode(validation_rows, tokenizer, label_ids, args.max_length),
        data_collator=collator,
        compute_metrics=macro_f1,
    )
    trained = trainer.train()
    train_batches = len(collator.lengths)
    metrics = trainer.evaluate()
    test = (
        trainer.evaluate(encode(read_rows(args.test), tokenizer, label_ids, args.max_length))
        if args.test
        else {}
    )
    epochs = [row["eval_f1_macro"] for row in trainer.state.log_history if "eval_f1_macro" in row]
    trainer.save_model(str(args.output))
    tokens = sorted(len(example["input_ids"]) for example in train)
    result = {
        "seconds": round(time.perf_counter() - START, 1),
        "train_seconds": round(trained.metrics["train_runtime"], 1),
        "samples_per_second": round(trained.metrics["train_samples_per_second"], 1),
        "device": torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu",
        "bf16": args.bf16,
        "f1_macro": metrics["eval_f1_macro"],
        "test_f1_macro": test.get("eval_f1_macro"),
        "f1_macro_by_epoch": epochs[: int(args.epochs)] if args.best_epoch else [],
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "train_rows": len(train),
        "tokens_mean": round(statistics.fmean(tokens), 1),
        "tokens_p99": tokens[min(len(tokens) - 1, int(0.99 * len(tokens)))],
        "padded_mean": round(statistics.fmean(collator.lengths[:train_batches]), 1),
        "max_length": args.max_length,
    }
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
